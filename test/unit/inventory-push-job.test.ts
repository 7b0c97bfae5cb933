import { describe, expect, it } from 'vitest';
import { PLATFORM_ERROR_CODES, PlatformError } from '../../src/adapters/resilience/platform-error.js';
import type { MarketplaceAdapter, UpdateInventoryInput, WriteOutcome } from '../../src/adapters/types.js';
import type { ListingMapping } from '../../src/core/stock/listing-mapping.js';
import { PushRules } from '../../src/core/stock/push-rules.js';
import { pushSku } from '../../src/workers/inventory-push-job.js';
import { listingTargetKey, pushTargetOf } from '../../src/workers/inventory-push-targets.js';

const mapping = (
  platform: ListingMapping['platform'],
  account: string,
  kind: ListingMapping['kind'],
  channelKey: string,
): ListingMapping => ({ platform, account, kind, channelKey, tenant: 'default', sku: 'MUG' });

const LISTINGS: ListingMapping[] = [
  mapping('amazon', 'us', 'sku', 'MUG-AMZ'),
  mapping('amazon', 'us', 'listing', 'B0ASIN0001'),
  mapping('ebay', 'us', 'sku', 'MUG-EBAY'),
  mapping('shopify', 'shop', 'sku', 'MUG-SHOP'),
  mapping('shopify', 'shop', 'listing', '44000000000001'),
  mapping('shopify', 'shop', 'listing', 'gid://shopify/InventoryItem/46000000000001'),
];

/** An adapter that records every write and answers what `answer` says (throws when it returns an Error). */
function fakeAdapter(
  platform: string,
  account: string,
  calls: string[],
  answer?: () => WriteOutcome | Error,
) {
  return {
    platform,
    account,
    async updateInventory(input: UpdateInventoryInput) {
      calls.push(`${platform}:${account} ${input.sku} ${input.listingId ?? '-'} ${input.quantity}`);
      const outcome = answer?.() ?? { status: 'applied' };
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  } as unknown as MarketplaceAdapter;
}

function deps(
  options: { available?: number | null; answers?: Record<string, () => WriteOutcome | Error> } = {},
) {
  const calls: string[] = [];
  const adapters = new Map(
    ['amazon:us', 'ebay:us', 'shopify:shop'].map((channel) => {
      const [platform, account] = channel.split(':') as [string, string];
      return [channel, fakeAdapter(platform, account, calls, options.answers?.[channel])];
    }),
  );
  return {
    calls,
    deps: {
      listingsOf: async () => {
        calls.push('listings');
        return LISTINGS;
      },
      level: async () => {
        calls.push('level');
        const available = options.available === undefined ? 40 : options.available;
        return available === null ? null : { available, version: 9 };
      },
      adapterFor: (platform: string, account: string) => adapters.get(`${platform}:${account}`),
      rules: new PushRules({
        safetyStock: 0,
        percent: 100,
        maxShown: null,
        channels: { amazon: { percent: 50 }, 'ebay:us': { safetyStock: 5, maxShown: 30 } },
        skus: [],
      }),
    },
  };
}

const status = (result: Awaited<ReturnType<typeof pushSku>>) =>
  Object.fromEntries(
    result.listings.map((listing) => [listing.key, [listing.status, listing.reason ?? null]]),
  );

describe('push targets', () => {
  it('pushes Amazon and eBay by seller SKU and Shopify by inventory item global id only', () => {
    expect(LISTINGS.map((entry) => pushTargetOf(entry))).toEqual([
      { pushable: true, key: 'amazon:us:sku:MUG-AMZ', sku: 'MUG-AMZ' },
      { pushable: false, key: 'amazon:us:listing:B0ASIN0001', reason: 'listing_id_not_addressable' },
      { pushable: true, key: 'ebay:us:sku:MUG-EBAY', sku: 'MUG-EBAY' },
      { pushable: false, key: 'shopify:shop:sku:MUG-SHOP', reason: 'shopify_needs_inventory_item' },
      { pushable: false, key: 'shopify:shop:listing:44000000000001', reason: 'shopify_needs_inventory_item' },
      {
        pushable: true,
        key: 'shopify:shop:listing:gid://shopify/InventoryItem/46000000000001',
        sku: 'MUG',
        listingId: '46000000000001',
      },
    ]);
    expect(pushTargetOf(mapping('walmart', 'w', 'sku', 'X'))).toMatchObject({
      pushable: false,
      reason: 'no_inventory_api',
    });
  });
});

describe('pushSku', () => {
  it('reads the quantity after the listings and sets each pushable listing by its channel rule', async () => {
    const { calls, deps: d } = deps();
    const result = await pushSku(d, { tenant: 'default', sku: 'MUG' });
    expect(calls.slice(0, 2)).toEqual(['listings', 'level']);
    expect(calls.slice(2).sort()).toEqual([
      'amazon:us MUG-AMZ - 20',
      'ebay:us MUG-EBAY - 30',
      'shopify:shop MUG 46000000000001 40',
    ]);
    expect(result).toMatchObject({ available: 40, version: 9 });
    expect(status(result)).toEqual({
      'amazon:us:sku:MUG-AMZ': ['applied', null],
      'amazon:us:listing:B0ASIN0001': ['skipped', 'listing_id_not_addressable'],
      'ebay:us:sku:MUG-EBAY': ['applied', null],
      'shopify:shop:sku:MUG-SHOP': ['skipped', 'shopify_needs_inventory_item'],
      'shopify:shop:listing:44000000000001': ['skipped', 'shopify_needs_inventory_item'],
      'shopify:shop:listing:gid://shopify/InventoryItem/46000000000001': ['applied', null],
    });
  });

  it('retries transient failures (with the wait they ask for) and gives up on refusals', async () => {
    const breakerOpen = new PlatformError(PLATFORM_ERROR_CODES.breakerOpen, 'open', {
      platform: 'amazon',
      account: 'us',
      operation: 'patchListingsItem',
      kind: 'transient',
      retriable: false,
      retryAfterMs: 12_000,
    });
    const rejected = new PlatformError(PLATFORM_ERROR_CODES.rejected, 'unknown SKU', {
      platform: 'ebay',
      account: 'us',
      operation: 'bulkUpdatePriceQuantity',
      kind: 'data',
      retriable: false,
    });
    const { deps: d } = deps({
      answers: {
        'amazon:us': () => breakerOpen,
        'ebay:us': () => rejected,
        'shopify:shop': () => ({ status: 'indeterminate', reason: 'timeout' }),
      },
    });
    const result = await pushSku(d, { tenant: 'default', sku: 'MUG' });
    const byKey = new Map(result.listings.map((listing) => [listing.key, listing]));
    expect(byKey.get('amazon:us:sku:MUG-AMZ')).toMatchObject({
      status: 'retry',
      reason: 'TRADECTL_BREAKER_OPEN',
      retryAfterMs: 12_000,
    });
    expect(byKey.get('ebay:us:sku:MUG-EBAY')).toMatchObject({
      status: 'failed',
      reason: 'TRADECTL_PLATFORM_REJECTED',
    });
    expect(byKey.get('shopify:shop:listing:gid://shopify/InventoryItem/46000000000001')).toMatchObject({
      status: 'retry',
      reason: 'indeterminate',
    });
  });

  it('treats an error that is not ours as a bug: reported, not retried', async () => {
    const { deps: d } = deps({ answers: { 'amazon:us': () => new TypeError('boom') } });
    const result = await pushSku(d, { tenant: 'default', sku: 'MUG' });
    expect(
      result.listings.find((listing) => listing.platform === 'amazon' && listing.kind === 'sku'),
    ).toMatchObject({
      status: 'failed',
      reason: 'unexpected',
    });
  });

  it('pushes only the listings a retry names', async () => {
    const { calls, deps: d } = deps();
    const only = new Set([listingTargetKey(LISTINGS[2]!)]);
    const result = await pushSku(d, { tenant: 'default', sku: 'MUG', only });
    expect(calls).toEqual(['listings', 'level', 'ebay:us MUG-EBAY - 30']);
    expect(result.listings).toHaveLength(1);
  });

  it('pushes nothing for a SKU Redis does not know, and nothing to an account that is not configured', async () => {
    const unknown = deps({ available: null });
    const result = await pushSku(unknown.deps, { tenant: 'default', sku: 'MUG' });
    expect(unknown.calls).toEqual(['listings', 'level']);
    expect(new Set(result.listings.map((listing) => listing.reason))).toEqual(new Set(['unknown_sku']));

    const { calls, deps: d } = deps();
    const partial = await pushSku(
      {
        ...d,
        adapterFor: (platform, account) =>
          platform === 'ebay' ? undefined : d.adapterFor(platform, account),
      },
      { tenant: 'default', sku: 'MUG' },
    );
    expect(calls.some((call) => call.startsWith('ebay'))).toBe(false);
    expect(status(partial)['ebay:us:sku:MUG-EBAY']).toEqual(['skipped', 'account_not_configured']);
  });

  it('writes nothing in a dry run but reports the quantities', async () => {
    const { calls, deps: d } = deps({ available: 11 });
    const result = await pushSku(d, { tenant: 'default', sku: 'MUG', dryRun: true });
    expect(calls).toEqual(['listings', 'level']);
    expect(
      result.listings
        .filter((listing) => listing.status === 'dry_run')
        .map((listing) => [listing.platform, listing.quantity]),
    ).toEqual([
      ['amazon', 5],
      ['ebay', 6],
      ['shopify', 11],
    ]);
  });
});
