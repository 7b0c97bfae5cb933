import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import { intentsTable } from '../../src/core/order-stock/intent-schema.js';
import { LedgerDrain } from '../../src/core/stock/ledger-drain.js';
import { stockTable } from '../../src/core/stock/ledger-schema.js';
import { addMs } from '../../src/core/time.js';
import { openResync, type Resync } from '../../src/workers/reconcile-resync.js';
import {
  batchOf,
  createOrderStockFixture,
  marketplaceOrder,
  type OrderStockFixture,
} from '../helpers/order-stock-fixture.js';

// `reconcile orders --fix` re-stores an order deleted from its shard through the sink pipeline
// (reconcile-resync.ts), under a new order id. Its lines sold once, so stock must move once:
// the deduction is keyed by the marketplace line (platform, account, order id, line id), not by
// the internal id the order happened to get (MariaDB + Redis, 2 x 4 layout, own prefixes).
let f: OrderStockFixture;
let resync: Resync;
const INITIAL = 50;

beforeAll(async () => {
  f = await createOrderStockFixture();
  for (const sku of ['LAMP', 'DESK', 'SOFA']) {
    await f.service.set({ operationId: `init-${sku}`, sku, expectedVersion: 0, available: INITIAL });
  }
  await f.listings.add({
    platform: 'shopify',
    account: 'us',
    kind: 'sku',
    channelKey: 'S-LAMP',
    sku: 'LAMP',
  });
  await f.listings.add({
    platform: 'shopify',
    account: 'us',
    kind: 'listing',
    channelKey: '901',
    sku: 'DESK',
  });
  await f.listings.add({
    platform: 'shopify',
    account: 'us',
    kind: 'sku',
    channelKey: 'S-SOFA',
    sku: 'SOFA',
  });
  resync = await openResync({
    config: f.config,
    logger: silentLogger(),
    pools: f.pools,
    router: f.router,
    redis: f.redis,
    via: 'inline',
  });
}, 60_000);

afterAll(async () => {
  await resync?.close();
  await f?.close();
});

/** Deletes the order's rows from its shard tables, as the drift reconcile repairs. */
async function deleteFromShard(order: UnifiedOrder, options: { intentsToo?: boolean } = {}) {
  const location = f.router.route(order.userId);
  const pool = f.pools.forDatabase(location.database);
  const [found] = await pool.query<RowDataPacket[]>(
    `SELECT id FROM ${f.router.qualifiedTable(location, 'orders')} WHERE platform = ? AND account = ? AND platform_order_id = ?`,
    [order.platform, order.account, order.platformOrderId],
  );
  expect(found).toHaveLength(1);
  const id = String(found[0]!.id);
  for (const kind of ['order_lines', 'order_details', 'orders'] as const) {
    const column = kind === 'orders' ? 'id' : 'order_id';
    await pool.query(`DELETE FROM ${f.router.qualifiedTable(location, kind)} WHERE ${column} = ?`, [id]);
  }
  if (options.intentsToo) {
    await pool.query(
      `DELETE FROM ${intentsTable(f.router, location.database)} WHERE platform = ? AND account = ? AND platform_order_id = ?`,
      [order.platform, order.account, order.platformOrderId],
    );
  }
  return id;
}

async function storedId(order: UnifiedOrder): Promise<string | undefined> {
  const stored = await f.store.getByPlatformKey(order);
  return stored?.id;
}

/** Drains the ledger; the rows of a SKU after its initial `set`, as [kind, delta]. */
async function ledger(sku: string): Promise<[string, number][]> {
  const drain = new LedgerDrain({
    redis: f.redis,
    pool: f.pools.meta(),
    router: f.router,
    keyPrefix: f.keyPrefix,
    logger: silentLogger(),
  });
  await drain.drainUntilIdle();
  const [rows] = await f.pools
    .meta()
    .query<RowDataPacket[]>(
      `SELECT kind, delta FROM ${stockTable(f.router, 'stock_ledger')} WHERE tenant = 'default' AND sku = ? AND kind <> 'set' ORDER BY id`,
      [sku],
    );
  return rows.map((row) => [String(row.kind), Number(row.delta)]);
}

const cancelledVersion = (order: UnifiedOrder, afterMs: number): UnifiedOrder => ({
  ...order,
  status: 'cancelled',
  rawStatus: 'cancelled',
  updatedAt: addMs(order.updatedAt, afterMs),
});

describe('an order deleted from its shard and re-stored by reconcile --fix', () => {
  it('keeps its one deduction per line, and a later cancellation gives it back once', async () => {
    const order = marketplaceOrder('R-1', [
      { lineId: '1', sku: 'S-LAMP', quantity: 3 },
      { lineId: '2', listingId: '901', quantity: 2 },
    ]);
    await f.pipeline().sink.handler(batchOf([order]));
    expect([await f.available('LAMP'), await f.available('DESK')]).toEqual([INITIAL - 3, INITIAL - 2]);
    const firstId = await deleteFromShard(order);
    expect(await storedId(order)).toBeUndefined();

    await resync.store([order]);
    const secondId = await storedId(order);
    expect(secondId).toBeDefined();
    expect(secondId).not.toBe(firstId);
    expect([await f.available('LAMP'), await f.available('DESK')]).toEqual([INITIAL - 3, INITIAL - 2]);
    // A redelivery of the re-stored order, and the sweep, change nothing either.
    await resync.store([order]);
    f.clock.now += 3_600_000;
    await f.pipeline().orderStock.drainer.sweep();
    expect([await f.available('LAMP'), await f.available('DESK')]).toEqual([INITIAL - 3, INITIAL - 2]);
    const deducts = (await f.intents()).filter((row) => row.platformOrderId === 'R-1');
    expect(deducts.map((row) => [row.lineId, row.kind, row.status, row.appliedQuantity])).toEqual([
      ['1', 'deduct', 'applied', 3],
      ['2', 'deduct', 'applied', 2],
    ]);
    expect(await ledger('LAMP')).toEqual([['deduct', -3]]);
    expect(await ledger('DESK')).toEqual([['deduct', -2]]);

    // The platform cancels it: the release reaches the deductions of the first store.
    const cancelled = cancelledVersion(order, 60_000);
    await resync.store([cancelled]);
    await resync.store([cancelled]);
    expect([await f.available('LAMP'), await f.available('DESK')]).toEqual([INITIAL, INITIAL]);
    const intents = (await f.intents()).filter((row) => row.platformOrderId === 'R-1');
    expect(intents.map((row) => [row.lineId, row.kind, row.status, row.appliedQuantity])).toEqual([
      ['1', 'deduct', 'applied', 3],
      ['1', 'release', 'applied', 3],
      ['2', 'deduct', 'applied', 2],
      ['2', 'release', 'applied', 2],
    ]);
    // Deleted and re-stored once more, cancelled: nothing is deducted or released again.
    await deleteFromShard(cancelled);
    await resync.store([cancelled]);
    expect([await f.available('LAMP'), await f.available('DESK')]).toEqual([INITIAL, INITIAL]);
    expect((await ledger('LAMP')).map(([kind, delta]) => `${kind} ${delta}`)).toEqual([
      'deduct -3',
      'restore 3',
    ]);
    expect(await ledger('DESK')).toHaveLength(2);
    const compared = await f.drainAndCompare(['LAMP', 'DESK']);
    expect(compared.mysql).toEqual(compared.redis);
  });

  it('deducts once even when its stock intents were lost with it: Redis knows the line', async () => {
    const order = marketplaceOrder('R-2', [
      { lineId: 'gid://shopify/LineItem/7', sku: 'S-SOFA', quantity: 4 },
    ]);
    await f.pipeline().sink.handler(batchOf([order]));
    expect(await f.available('SOFA')).toBe(INITIAL - 4);
    await deleteFromShard(order, { intentsToo: true });

    await resync.store([order]);
    expect(await f.available('SOFA')).toBe(INITIAL - 4);
    const [intent] = (await f.intents()).filter((row) => row.platformOrderId === 'R-2');
    // Redis answered the repeat with the first deduction: recorded as applied, not taken again.
    expect(intent).toMatchObject({ kind: 'deduct', status: 'applied', appliedQuantity: 4 });
    expect(await ledger('SOFA')).toEqual([['deduct', -4]]);

    await resync.store([cancelledVersion(order, 1000)]);
    expect(await f.available('SOFA')).toBe(INITIAL);
    expect(await ledger('SOFA')).toEqual([
      ['deduct', -4],
      ['restore', 4],
    ]);
  });
});
