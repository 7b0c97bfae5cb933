import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketplaceAdapter, OrderPage } from '../../src/adapters/types.js';
import { createAccountLeases } from '../../src/core/account-lease.js';
import { type CheckpointStore, createCheckpointStore } from '../../src/core/checkpoint-store.js';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import { createSyncWindowLog, type SyncWindowLog } from '../../src/core/sync-window-log.js';
import { SyncRunner } from '../../src/workers/sync-runner.js';
import { REDIS_URL, uniqueName } from '../helpers/services.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';
import { accountOrders, recordingBus, shopifyAccount } from '../helpers/sync-fakes.js';

// eBay-style offset paging: when an order moves in the list during the scan, the next offset
// skips one. The platform's total gives it away, and the runner lists the window again before
// it moves the checkpoint.
const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const TIMING = {
  lookbackMs: 120_000,
  safetyLagMs: 60_000,
  chunkMs: 86_400_000,
  initialBackfillMs: 86_400_000,
};

let fixture: StoreFixture;
let redis: Redis;
let checkpoints: CheckpointStore;
let windowLog: SyncWindowLog;
let keyPrefix: string;

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 1, tablesPerDatabase: 1 });
  redis = new Redis(REDIS_URL);
  checkpoints = createCheckpointStore({ pools: fixture.pools, router: fixture.router });
  windowLog = createSyncWindowLog({ pools: fixture.pools, router: fixture.router });
  keyPrefix = `${uniqueName('skip')}:`;
});

afterAll(async () => {
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await fixture.close();
});

/**
 * Pages of two over `orders` with the window's total on every page. The listings named in
 * `skipping` (1-based) lose the third order, as offset paging does when an order moves.
 */
function offsetPagedAdapter(id: string, orders: UnifiedOrder[], skipping: (listing: number) => boolean) {
  let listings = 0;
  const adapter: MarketplaceAdapter = {
    platform: 'shopify',
    account: id,
    async *listOrders(): AsyncIterable<OrderPage> {
      listings++;
      const served = skipping(listings) ? orders.filter((_, index) => index !== 2) : orders;
      for (let offset = 0; offset < served.length; offset += 2) {
        const next = offset + 2 < served.length ? String(offset + 2) : null;
        yield {
          orders: served.slice(offset, offset + 2),
          rejected: [],
          nextCursor: next,
          total: orders.length,
        };
      }
    },
    getOrder: async () => null,
    updateInventory: async () => ({ status: 'applied' }),
    submitTracking: async () => ({ status: 'applied' }),
  };
  return { adapter, listings: () => listings };
}

function runner(bus = recordingBus()) {
  return {
    bus,
    runner: new SyncRunner({
      bus,
      checkpoints,
      windowLog,
      leases: createAccountLeases({ redis, keyPrefix, logger: silentLogger(), clock: () => NOW }),
      dlq: { put: async () => undefined },
      logger: silentLogger(),
      clock: () => NOW,
    }),
  };
}

describe('sync runner with offset paging', () => {
  it('lists a window again when fewer distinct orders came than the platform reports', async () => {
    const orders = accountOrders('skip-once', 5);
    const { adapter, listings } = offsetPagedAdapter('skip-once', orders, (listing) => listing === 1);
    const { runner: sync, bus } = runner();
    const result = await sync.syncAccount({ account: shopifyAccount('skip-once'), adapter, timing: TIMING });
    expect(result.status).toBe('ok');
    expect(listings()).toBe(2);
    expect(new Set(bus.published)).toEqual(new Set(orders.map((order) => order.platformOrderId)));
    expect(await checkpoints.get('shopify', 'skip-once')).toMatchObject({
      cursorTime: '2026-03-10T11:59:00.000Z',
    });
  });

  it('leaves the checkpoint where it was when orders stay missing after three listings', async () => {
    const orders = accountOrders('skip-always', 5);
    const { adapter, listings } = offsetPagedAdapter('skip-always', orders, () => true);
    const { runner: sync } = runner();
    const result = await sync.syncAccount({
      account: shopifyAccount('skip-always'),
      adapter,
      timing: TIMING,
    });
    expect(listings()).toBe(3);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'TRADECTL_SYNC_INCOMPLETE_WINDOW' } });
    expect(await checkpoints.get('shopify', 'skip-always')).toBeNull();
    expect(await windowLog.list({ platform: 'shopify', account: 'skip-always' })).toEqual([]);
  });

  it('lists once when the platform reports no total (keyset paging)', async () => {
    const orders = accountOrders('no-total', 5);
    let listings = 0;
    const adapter: MarketplaceAdapter = {
      platform: 'shopify',
      account: 'no-total',
      async *listOrders(): AsyncIterable<OrderPage> {
        listings++;
        yield { orders, rejected: [], nextCursor: null };
      },
      getOrder: async () => null,
      updateInventory: async () => ({ status: 'applied' }),
      submitTracking: async () => ({ status: 'applied' }),
    };
    const { runner: sync } = runner();
    const result = await sync.syncAccount({ account: shopifyAccount('no-total'), adapter, timing: TIMING });
    expect(result).toMatchObject({ status: 'ok', fetched: 5, published: 5 });
    expect(listings).toBe(1);
    const [window] = await windowLog.list({ platform: 'shopify', account: 'no-total' });
    expect(window).toMatchObject({ orders: 5, pages: 1, checkpointMoved: true, via: 'inline' });
  });
});
