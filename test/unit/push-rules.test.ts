import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { type PushRule, PushRules, shownQuantity } from '../../src/core/stock/push-rules.js';
import { MAX_STOCK } from '../../src/core/stock/stock-validation.js';

const rule = (patch: Partial<PushRule> = {}): PushRule => ({
  safetyStock: 0,
  percent: 100,
  maxShown: null,
  ...patch,
});

const arbitraryRule = fc.record({
  safetyStock: fc.integer({ min: 0, max: MAX_STOCK }),
  percent: fc.integer({ min: 0, max: 100 }),
  maxShown: fc.option(fc.integer({ min: 0, max: MAX_STOCK }), { nil: null }),
});
const available = fc.integer({ min: 0, max: MAX_STOCK });

describe('shownQuantity', () => {
  it.each([
    [10, rule(), 10],
    [10, rule({ safetyStock: 3 }), 7],
    [3, rule({ safetyStock: 3 }), 0],
    [2, rule({ safetyStock: 3 }), 0],
    [10, rule({ percent: 50 }), 5],
    [9, rule({ percent: 50 }), 4],
    [1, rule({ percent: 99 }), 0],
    [10, rule({ percent: 0 }), 0],
    [100, rule({ maxShown: 20 }), 20],
    [10, rule({ maxShown: 20 }), 10],
    [100, rule({ maxShown: 0 }), 0],
    [105, rule({ safetyStock: 5, percent: 30, maxShown: 25 }), 25],
    [45, rule({ safetyStock: 5, percent: 30, maxShown: 25 }), 12],
    [MAX_STOCK, rule({ percent: 33 }), 330_000_000_000],
  ])('available %i with %o shows %i', (units, given, expected) => {
    expect(shownQuantity(units, given)).toBe(expected);
  });

  it('refuses a quantity that is not an integer', () => {
    expect(() => shownQuantity(1.5, rule())).toThrow(RangeError);
  });

  it('is a whole number, never negative and never above available', () => {
    fc.assert(
      fc.property(available, arbitraryRule, (units, given) => {
        const shown = shownQuantity(units, given);
        expect(Number.isSafeInteger(shown)).toBe(true);
        expect(shown).toBeGreaterThanOrEqual(0);
        expect(shown).toBeLessThanOrEqual(units);
        if (given.maxShown !== null) expect(shown).toBeLessThanOrEqual(given.maxShown);
      }),
      { numRuns: 2000 },
    );
  });

  it('never shows more when less is available (monotone in available)', () => {
    fc.assert(
      fc.property(available, available, arbitraryRule, (a, b, given) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(shownQuantity(low, given)).toBeLessThanOrEqual(shownQuantity(high, given));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the safety stock back: selling down to it shows 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), arbitraryRule, (units, given) => {
        if (units <= given.safetyStock) expect(shownQuantity(units, given)).toBe(0);
      }),
    );
  });
});

describe('PushRules.ruleFor', () => {
  const rules = new PushRules({
    safetyStock: 1,
    percent: 100,
    maxShown: null,
    channels: {
      amazon: { percent: 50 },
      'amazon:eu': { maxShown: 10 },
      ebay: { safetyStock: 4 },
    },
    skus: [
      { sku: 'MUG', safetyStock: 2 },
      { sku: 'MUG', tenant: 'acme', safetyStock: 3 },
      { sku: 'MUG', channel: 'amazon', percent: 80 },
      { sku: 'MUG', channel: 'amazon:eu', tenant: 'acme', maxShown: null },
      { sku: 'MUG', channel: 'ebay:us', maxShown: 7 },
    ],
  });
  const at = (platform: string, account: string, sku = 'MUG', tenant = 'default') =>
    rules.ruleFor({ tenant, sku, platform, account });

  it('uses the defaults where nothing else applies', () => {
    expect(at('shopify', 'main', 'TEE')).toEqual(rule({ safetyStock: 1 }));
  });

  it('takes the platform rule, then the account rule, field by field', () => {
    expect(at('amazon', 'us', 'TEE')).toEqual(rule({ safetyStock: 1, percent: 50 }));
    expect(at('amazon', 'eu', 'TEE')).toEqual(rule({ safetyStock: 1, percent: 50, maxShown: 10 }));
  });

  it('lets a SKU override beat the channel rules, and a narrower override beat a wider one', () => {
    expect(at('ebay', 'de')).toEqual(rule({ safetyStock: 2 }));
    expect(at('ebay', 'us')).toEqual(rule({ safetyStock: 2, maxShown: 7 }));
    expect(at('ebay', 'us', 'MUG', 'acme')).toEqual(rule({ safetyStock: 3, maxShown: 7 }));
    expect(at('amazon', 'us')).toEqual(rule({ safetyStock: 2, percent: 80 }));
    expect(at('amazon', 'eu')).toEqual(rule({ safetyStock: 2, percent: 80, maxShown: 10 }));
    // null is a value: the acme override lifts the account's cap.
    expect(at('amazon', 'eu', 'MUG', 'acme')).toEqual(rule({ safetyStock: 3, percent: 80, maxShown: null }));
  });

  it('computes the quantity with the rule of the channel', () => {
    expect(rules.quantityFor({ tenant: 'default', sku: 'MUG', platform: 'amazon', account: 'eu' }, 100)).toBe(
      10,
    );
    expect(rules.quantityFor({ tenant: 'default', sku: 'MUG', platform: 'amazon', account: 'us' }, 100)).toBe(
      78,
    );
    expect(rules.quantityFor({ tenant: 'default', sku: 'MUG', platform: 'shopify', account: 'x' }, 100)).toBe(
      98,
    );
  });
});

describe('inventoryPush configuration', () => {
  it('defaults to showing everything available', () => {
    const push = parseConfig({}).inventoryPush;
    expect(push.rules).toEqual({ safetyStock: 0, percent: 100, maxShown: null, channels: {}, skus: [] });
    expect(push.debounceMs).toBeLessThanOrEqual(push.maxDelayMs);
  });

  it('names every bad field', () => {
    const error = (() => {
      try {
        parseConfig({
          inventoryPush: {
            debounceMs: 5000,
            maxDelayMs: 1000,
            rules: {
              percent: 150,
              channels: { amzon: { percent: 10 }, 'ebay:us': { safetystock: 2 } },
              skus: [
                { sku: 'MUG', maxShown: -1 },
                { sku: 'has space', channel: 'shopify:a:b' },
                { sku: 'MUG', safetyStock: 3 },
              ],
            },
          },
        });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'inventoryPush.rules.percent',
        'inventoryPush.rules.channels.amzon',
        'inventoryPush.rules.channels.ebay:us',
        'inventoryPush.rules.skus[0].maxShown',
        'inventoryPush.rules.skus[1].sku',
        'inventoryPush.rules.skus[1].channel',
      ]),
    );
  });

  it('refuses a burst ceiling below the debounce and two overrides of the same SKU and channel', () => {
    const issues = (raw: unknown) => {
      try {
        parseConfig({ inventoryPush: raw });
        return [];
      } catch (caught) {
        return (caught as ConfigError).issues.map((issue) => issue.path);
      }
    };
    expect(issues({ debounceMs: 5000, maxDelayMs: 1000 })).toEqual(['inventoryPush.maxDelayMs']);
    expect(
      issues({
        rules: {
          skus: [
            { sku: 'MUG', percent: 5 },
            { sku: 'MUG', maxShown: 3 },
          ],
        },
      }),
    ).toEqual(['inventoryPush.rules.skus[1]']);
    expect(issues({ rules: { skus: [{ sku: 'MUG' }, { sku: 'MUG', channel: 'amazon' }] } })).toEqual([]);
  });
});
