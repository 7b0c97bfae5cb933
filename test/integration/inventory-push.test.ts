import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forEachBounded } from '../../src/core/bounded-concurrency.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { PUSH_GROUP } from '../../src/workers/inventory-push-streams.js';
import { eventually } from '../helpers/bus-fixture.js';
import { createPushFixture, type PushFixture } from '../helpers/inventory-push-fixture.js';
import { call } from '../helpers/sandbox-client.js';

// Real Redis (stock, streams, leases), MariaDB (the listing map) and the marketplace sandbox
// (the channels). Internal SKUs are mapped to catalogue products of the sandbox accounts.
let f: PushFixture;

// The rules under test: every channel keeps 2 back, Amazon shows half, the second eBay account (de-seller)
// at most 7, and the mug shows 40% on the second Amazon account.
const RULES = {
  safetyStock: 2,
  channels: { amazon: { percent: 50 }, 'ebay:de-seller': { maxShown: 7 } },
  skus: [{ sku: 'MUG-1', channel: 'amazon:eu-main', percent: 40 }],
};

/** What each listing of MUG-1 must show with `available` units. */
function expectedMug(available: number) {
  const left = Math.max(0, available - 2);
  return {
    'shopify:0': left,
    'amazon:0': Math.floor(left / 2),
    'amazon:1': Math.floor((left * 40) / 100),
    'ebay:0': left,
    'ebay:1': Math.min(7, left),
  };
}

function shownMug(catalogueSku = 'MUG-CER-350-WHT') {
  return {
    'shopify:0': f.shown('shopify', 0, catalogueSku),
    'amazon:0': f.shown('amazon', 0, catalogueSku),
    'amazon:1': f.shown('amazon', 1, catalogueSku),
    'ebay:0': f.shown('ebay', 0, catalogueSku),
    'ebay:1': f.shown('ebay', 1, catalogueSku),
  };
}

async function pendingInPushGroup(tenant = 'default'): Promise<number> {
  const [count] = (await f.stock.redis.xpending(
    tenantKeys(f.stock.keyPrefix, tenant).stream,
    PUSH_GROUP,
  )) as [number];
  return Number(count);
}

let op = 0;
async function sell(sku: string, quantity = 1) {
  await f.service.deduct({ operationId: `sale-${++op}`, lines: [{ sku, quantity }] });
}

beforeAll(async () => {
  f = await createPushFixture();
  expect(f.account('amazon', 1).account).toBe('eu-main');
  expect(f.account('ebay', 1).account).toBe('de-seller');
  for (const platform of ['shopify', 'amazon', 'ebay'] as const) {
    for (const index of platform === 'shopify' ? [0] : [0, 1]) {
      await f.mapListing('MUG-1', platform, index, 'MUG-CER-350-WHT');
      await f.mapListing('TEE-1', platform, index, 'TEE-ORG-M-NVY');
    }
  }
});

afterEach(async () => {
  await f?.stopPushers();
});

afterAll(async () => {
  await f?.close();
});

describe('inventory push', () => {
  it('sets every listing of a sold SKU to the quantity of its channel rule', async () => {
    const metrics = new Registry();
    await f.service.set({ operationId: 'stock-mug', sku: 'MUG-1', expectedVersion: 0, available: 120 });
    const pusher = f.pusher({ settings: { rules: RULES }, metrics });
    pusher.start();
    await eventually('the first push of the stock level', () =>
      Object.values(shownMug()).every((value, i) => value === Object.values(expectedMug(120))[i]),
    );
    await sell('MUG-1', 3);
    await sell('MUG-1', 1);
    await eventually('every channel shows 116 units by its rule', async () => {
      return JSON.stringify(shownMug()) === JSON.stringify(expectedMug(116));
    });
    expect(shownMug()).toEqual({
      'shopify:0': 114,
      'amazon:0': 57,
      'amazon:1': 45,
      'ebay:0': 114,
      'ebay:1': 7,
    });
    // The sandbox's own read endpoint says the same.
    const amazon = f.account('amazon', 0);
    const read = await call(`${f.sandbox.url}/_sandbox/inventory?platform=amazon&account=${amazon.account}`);
    expect(read.body.inventory['MUG-CER-350-WHT']).toBe(57);
    await eventually('every entry acknowledged', async () => (await pendingInPushGroup()) === 0);
    const text = await metrics.metrics();
    expect(text).toMatch(/tradectl_inventory_pushes_total\{platform="amazon",account="na-main"\} [1-9]/);
    expect(text).toMatch(
      /tradectl_inventory_push_skipped_total\{platform="shopify",reason="shopify_needs_inventory_item"\} [1-9]/,
    );
    await pusher.stop();
  });

  it('turns a burst of 600 sales into far fewer pushes and ends at the right value', async () => {
    await f.service.set({ operationId: 'stock-tee', sku: 'TEE-1', expectedVersion: 0, available: 1000 });
    // The debounce is well above the 40 ms pauses of the burst, even on a loaded machine: the
    // burst is one burst, and only the ceiling cuts it into pushes.
    const pusher = f.pusher({ settings: { rules: RULES, debounceMs: 250, maxDelayMs: 600 } });
    pusher.start();
    const writes = () => {
      const stats = f.sandbox.stats();
      return stats.buckets.reduce(
        (sum, bucket) =>
          sum +
          (bucket.operations['inventory_levels/set.json'] ?? 0) +
          (bucket.operations.patchListingsItem ?? 0) +
          (bucket.operations.bulkUpdatePriceQuantity ?? 0),
        0,
      );
    };
    await eventually('the first push of the tee', () => f.shown('ebay', 0, 'TEE-ORG-M-NVY') === 998);
    await eventually('nothing left to push', () => pusher.stats().pendingSkus === 0);
    const before = writes();
    const { changes: changesBefore, pushes: pushesBefore } = pusher.stats();
    // 600 sales over about 1.2 s (longer on a busy machine): 30 rounds of 20 concurrent sales.
    const burstStarted = Date.now();
    for (let round = 0; round < 30; round++) {
      await forEachBounded(
        Array.from({ length: 20 }, () => 1),
        20,
        () => sell('TEE-1'),
      );
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const tee = (index: number, platform: 'shopify' | 'amazon' | 'ebay') =>
      f.shown(platform, index, 'TEE-ORG-M-NVY');
    await eventually('the channels show 400 sold', () => tee(0, 'ebay') === 398 && tee(0, 'amazon') === 199);
    // The pusher reads the stream a little behind the sales (more so on a busy machine): the
    // burst, as it sees it, lasts until the channels settle.
    const burstMs = Date.now() - burstStarted;
    await eventually('every entry acknowledged', async () => (await pendingInPushGroup()) === 0);
    expect({ shopify: tee(0, 'shopify'), amazon: tee(1, 'amazon'), ebay: tee(1, 'ebay') }).toEqual({
      shopify: 398,
      amazon: 199,
      ebay: 7,
    });
    const stats = pusher.stats();
    const pushes = stats.pushes - pushesBefore;
    expect(stats.changes - changesBefore).toBe(600);
    // Five listings, each pushed at most once per maxDelay (600 ms) while the burst lasts, plus
    // the trailing push and one spare for a window boundary.
    expect(pushes).toBeGreaterThanOrEqual(5);
    expect(pushes).toBeLessThanOrEqual(5 * (Math.ceil(burstMs / 600) + 2));
    // Every request the channels received, retries and throttled ones included, against the
    // 3,000 writes of pushing each change to each listing.
    expect(writes() - before).toBeLessThan(600);
    expect(stats.coalesced).toBeGreaterThan(500);
    expect(pusher.stats().pendingSkus).toBe(0);
    await pusher.stop();
  });

  it('retries a push the platform fails with 5xx until it lands', async () => {
    const pusher = f.pusher({ settings: { rules: RULES } });
    pusher.start();
    f.sandbox.setFaults('ebay', { error5xx: 1 });
    const level = await f.service.get({ sku: 'MUG-1' });
    await sell('MUG-1', 10);
    const expected = expectedMug(level!.available - 10);
    await eventually(
      'the other channels took the new value',
      () => f.shown('amazon', 0, 'MUG-CER-350-WHT') === expected['amazon:0'],
    );
    await eventually('a failed eBay push is scheduled again', () => pusher.stats().retries >= 2);
    expect(f.shown('ebay', 0, 'MUG-CER-350-WHT')).not.toBe(expected['ebay:0']);
    expect(await pendingInPushGroup()).toBe(1);
    f.sandbox.setFaults('ebay', {});
    await eventually(
      'eBay shows the value after the fault cleared',
      () =>
        f.shown('ebay', 0, 'MUG-CER-350-WHT') === expected['ebay:0'] &&
        f.shown('ebay', 1, 'MUG-CER-350-WHT') === expected['ebay:1'],
    );
    await eventually('the entry is acknowledged once pushed', async () => (await pendingInPushGroup()) === 0);
    await pusher.stop();
  });

  it('hands a tenant over: entries read but not pushed by a stopped pusher are pushed by the next', async () => {
    const first = f.pusher({
      settings: { rules: RULES, debounceMs: 60_000, maxDelayMs: 60_000 },
      consumer: 'first',
    });
    first.start();
    const level = await f.service.get({ sku: 'MUG-1' });
    await sell('MUG-1', 5);
    await eventually('the first pusher read the sale', () => first.stats().pendingSkus === 1);
    const second = f.pusher({ settings: { rules: RULES }, consumer: 'second' });
    second.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The first pusher holds the tenant: the second waits.
    expect(second.stats().tenants).toEqual([]);
    await first.stop();
    expect(await pendingInPushGroup()).toBe(1);
    const expected = expectedMug(level!.available - 5);
    await eventually(
      'the second pusher took over and pushed',
      () => JSON.stringify(shownMug()) === JSON.stringify(expected),
    );
    await eventually('and acknowledged', async () => (await pendingInPushGroup()) === 0);
    expect(second.stats().tenants).toEqual(['default']);
    await second.stop();
  });
});
