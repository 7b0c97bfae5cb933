import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnifiedOrder } from '../../src/core/order.js';
import { activeLines } from '../../src/core/order-stock/intent-rows.js';
import { intentsTable } from '../../src/core/order-stock/intent-schema.js';
import { createOrderStore, type OrderStore } from '../../src/core/order-store.js';
import { addMs } from '../../src/core/time.js';
import { counterIds, generateOrders } from '../helpers/order-generator.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

// The outbox half of the store: with stock intents on, each shard transaction writes the intents
// of the orders it inserted or moved forward, in the database the order lives in, and nothing
// for replays. Small statements (50 rows) so every statement kind is split across chunks.
let f: StoreFixture;
let store: OrderStore;
const orders = generateOrders({ seed: 7, count: 600, users: 300, idPrefix: 'OSI' });

beforeAll(async () => {
  f = await createStoreFixture({ databases: 2, tablesPerDatabase: 4 });
  store = createOrderStore({
    pools: f.pools,
    router: f.router,
    nextId: counterIds(),
    maxRowsPerStatement: 50,
    stockIntents: { sweepAfterMs: 30_000 },
  });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

/** Every intent as `platformOrderId line kind`, with the database it was found in checked. */
async function intents(): Promise<string[]> {
  const found: string[] = [];
  for (let database = 0; database < f.router.layout.databases; database++) {
    const [rows] = await f.pools
      .forDatabase(database)
      .query<RowDataPacket[]>(
        `SELECT platform_order_id, line_id, kind, status, quantity FROM ${intentsTable(f.router, database)}`,
      );
    for (const row of rows) {
      const order = orders.find((candidate) => candidate.platformOrderId === row.platform_order_id)!;
      expect(f.router.route(order.userId).database).toBe(database);
      expect(row.status).toBe('pending');
      found.push(`${row.platform_order_id} ${row.line_id} ${row.kind}`);
    }
  }
  return found.sort();
}

const deductsOf = (list: readonly UnifiedOrder[]) =>
  list.flatMap((order) => activeLines(order).map((line) => `${order.platformOrderId} ${line.lineId} deduct`));

describe('order store with stock intents', () => {
  it('writes one deduct intent per active line of each new order, none for cancelled ones or replays', async () => {
    expect(orders.some((order) => order.status === 'cancelled')).toBe(true);
    expect((await store.upsertBatch(orders)).inserted).toBe(orders.length);
    const expected = deductsOf(orders).sort();
    expect(await intents()).toEqual(expected);
    expect((await store.upsertBatch(orders)).unchanged).toBe(orders.length);
    const older = orders.map((order) => ({ ...order, updatedAt: addMs(order.updatedAt, -1000) }));
    await store.upsertBatch(older);
    expect(await intents()).toEqual(expected);
  });

  it('writes releases for orders cancelled and lines removed or cancelled by a newer version, once', async () => {
    const active = orders.filter((order) => order.status !== 'cancelled');
    const cancel = active.slice(0, 50);
    const shrink = active.slice(50, 100).filter((order) => order.lines.length > 1);
    const lineCancel = active.slice(100, 150).filter((order) => order.lines.length > 1);
    const newer = (order: UnifiedOrder, change: Partial<UnifiedOrder>) => ({
      ...order,
      ...change,
      updatedAt: addMs(order.updatedAt, 60_000),
    });
    const changed = [
      ...cancel.map((order) => newer(order, { status: 'cancelled', rawStatus: 'cancelled' })),
      ...shrink.map((order) => newer(order, { lines: order.lines.slice(1) })),
      ...lineCancel.map((order) =>
        newer(order, { lines: order.lines.map((line, index) => ({ ...line, cancelled: index === 0 })) }),
      ),
    ];
    const result = await store.upsertBatch(changed);
    expect(result.updated).toBe(changed.length);
    const releases = [
      ...cancel.flatMap((order) =>
        order.lines.map((line) => `${order.platformOrderId} ${line.lineId} release`),
      ),
      ...[...shrink, ...lineCancel].map(
        (order) => `${order.platformOrderId} ${order.lines[0]!.lineId} release`,
      ),
    ];
    const expected = [...deductsOf(orders), ...releases].sort();
    expect(await intents()).toEqual(expected);
    // The same versions again, and a still newer cancelled version: nothing new.
    await store.upsertBatch(changed);
    await store.upsertBatch(
      changed.slice(0, 50).map((order) => ({ ...order, updatedAt: addMs(order.updatedAt, 1) })),
    );
    expect(await intents()).toEqual(expected);
  });

  it('deducts an order first seen cancelled once it becomes an active sale', async () => {
    const first = orders.find((order) => order.status === 'cancelled')!;
    const revived = {
      ...first,
      status: 'paid' as const,
      rawStatus: 'paid',
      lines: first.lines.map((line) => ({ ...line, cancelled: false })),
      updatedAt: addMs(first.updatedAt, 60_000),
    };
    await store.upsertBatch([revived]);
    const mine = (await intents()).filter((entry) => entry.startsWith(`${first.platformOrderId} `));
    expect(mine).toEqual(first.lines.map((line) => `${first.platformOrderId} ${line.lineId} deduct`).sort());
  });
});
