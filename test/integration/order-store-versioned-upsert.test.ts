import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderKey, type UnifiedOrder } from '../../src/core/order.js';
import { DETAIL_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS } from '../../src/core/order-rows.js';
import { createOrderStore, type OrderStore, type UpsertResult } from '../../src/core/order-store.js';
import { ORDER_TABLES, ShardRouter } from '../../src/core/shard-router.js';
import { addMs } from '../../src/core/time.js';
import { counterIds, generateOrders } from '../helpers/order-generator.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

// 100,000 orders over a 4 x 8 layout (32 shards): every shard gets thousands of orders, and
// every path of the versioned upsert (insert, newer, same, older, lines removed) is exercised.
const COUNT = 100_000;
const BATCH = 2_000;

let fixture: StoreFixture;
let store: OrderStore;
let orders: UnifiedOrder[];

async function upsertAll(
  batchOrders: readonly UnifiedOrder[],
): Promise<Omit<UpsertResult, 'ids' | 'outcomes'>> {
  const total = { inserted: 0, updated: 0, unchanged: 0 };
  for (let index = 0; index < batchOrders.length; index += BATCH) {
    const result = await store.upsertBatch(batchOrders.slice(index, index + BATCH));
    total.inserted += result.inserted;
    total.updated += result.updated;
    total.unchanged += result.unchanged;
    // The per-key outcomes (how the sink counts per account) agree with the totals.
    const tally = { inserted: 0, updated: 0, unchanged: 0 };
    for (const outcome of result.outcomes.values()) tally[outcome]++;
    expect(tally).toEqual({
      inserted: result.inserted,
      updated: result.updated,
      unchanged: result.unchanged,
    });
  }
  return total;
}

/** Row count and a checksum of every column of every row, per table kind, by plain SQL. */
async function checksums(): Promise<Record<string, { rows: number; crc: string }>> {
  const columns = { orders: ORDER_COLUMNS, order_details: DETAIL_COLUMNS, order_lines: LINE_COLUMNS };
  const out: Record<string, { rows: number; crc: bigint }> = {};
  for (const location of fixture.router.all()) {
    for (const kind of ORDER_TABLES) {
      const values = columns[kind].map((column) => `IFNULL(\`${column}\`, '<null>')`).join(', ');
      const [rows] = await fixture.pools
        .forDatabase(location.database)
        .query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n, COALESCE(SUM(CRC32(CONCAT_WS('|', ${values}))), 0) AS crc FROM ${fixture.router.qualifiedTable(location, kind)}`,
        );
      const entry = out[kind] ?? { rows: 0, crc: 0n };
      out[kind] = entry;
      entry.rows += Number(rows[0]!.n);
      entry.crc += BigInt(rows[0]!.crc);
    }
  }
  return Object.fromEntries(
    Object.entries(out).map(([kind, { rows, crc }]) => [kind, { rows, crc: String(crc) }]),
  );
}

function stored(order: UnifiedOrder) {
  return store.getByPlatformKey(order);
}

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 4, tablesPerDatabase: 8 });
  store = createOrderStore({ pools: fixture.pools, router: fixture.router, nextId: counterIds() });
  orders = generateOrders({ seed: 20260101, count: COUNT, users: 20_000 });
}, 120_000);

afterAll(async () => {
  await fixture?.close();
});

describe('versioned upsert of 100,000 orders', () => {
  it('stores every order exactly once, in its own shard', { timeout: 600_000 }, async () => {
    expect(await upsertAll(orders)).toEqual({ inserted: COUNT, updated: 0, unchanged: 0 });

    const expected = new Map<string, { orders: number; lines: number }>();
    for (const order of orders) {
      const key = ShardRouter.key(fixture.router.route(order.userId));
      const entry = expected.get(key) ?? { orders: 0, lines: 0 };
      entry.orders += 1;
      entry.lines += order.lines.length;
      expected.set(key, entry);
    }
    for (const location of fixture.router.all()) {
      const pool = fixture.pools.forDatabase(location.database);
      const count = async (kind: (typeof ORDER_TABLES)[number]) => {
        const [rows] = await pool.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM ${fixture.router.qualifiedTable(location, kind)}`,
        );
        return Number(rows[0]!.n);
      };
      const want = expected.get(ShardRouter.key(location)) ?? { orders: 0, lines: 0 };
      expect({
        orders: await count('orders'),
        details: await count('order_details'),
        lines: await count('order_lines'),
      }).toEqual({
        orders: want.orders,
        details: want.orders,
        lines: want.lines,
      });
    }
    const [locator] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM \`${fixture.router.metaDatabaseName}\`.\`order_locator\``,
      );
    expect(Number(locator[0]!.n)).toBe(COUNT);

    for (let index = 0; index < COUNT; index += 997) {
      const order = orders[index]!;
      const found = await stored(order);
      expect(found).toEqual({ ...order, id: expect.stringMatching(/^\d+$/), storedAt: expect.any(String) });
      expect(await store.getById(found!.id)).toEqual(found);
    }
  });

  it('changes nothing when every order is replayed with an older update time', {
    timeout: 600_000,
  }, async () => {
    const before = await checksums();
    const older = orders.map((order) => ({
      ...order,
      updatedAt: addMs(order.updatedAt, -1),
      status: 'cancelled' as const,
      totals: { ...order.totals, total: order.totals.total + 1 },
      lines: order.lines.slice(1),
    }));
    expect(await upsertAll(older)).toEqual({ inserted: 0, updated: 0, unchanged: COUNT });
    expect(await checksums()).toEqual(before);
  });

  it('applies exactly the replayed orders that carry a newer update time', { timeout: 600_000 }, async () => {
    const chosen = new Set<number>();
    for (let index = 5; index < COUNT; index += 37) chosen.add(index);
    // The subset travels with the other orders at their stored version: those count as unchanged.
    const replay = orders.map((order, index) => {
      if (!chosen.has(index)) return order;
      const first = order.lines[0]!;
      return {
        ...order,
        updatedAt: addMs(order.updatedAt, 3_600_000),
        status: 'refunded' as const,
        refundState: 'full' as const,
        totals: { ...order.totals, refunded: order.totals.total },
        // One line changes, the others disappear, one is new.
        lines: [
          { ...first, quantityShipped: 0, title: 'changed' },
          { ...first, lineId: `${first.lineId}-new`, quantity: 1, quantityShipped: 0 },
        ],
      };
    });
    expect(await upsertAll(replay)).toEqual({
      inserted: 0,
      updated: chosen.size,
      unchanged: COUNT - chosen.size,
    });

    for (const index of [...chosen].filter((_, position) => position % 25 === 0)) {
      expect(await stored(replay[index]!)).toEqual({
        ...replay[index]!,
        id: expect.any(String),
        storedAt: expect.any(String),
      });
    }
    for (let index = 0; index < COUNT; index += 1009) {
      if (!chosen.has(index)) {
        expect(await stored(orders[index]!)).toEqual({
          ...orders[index]!,
          id: expect.any(String),
          storedAt: expect.any(String),
        });
      }
    }
    const expectedLines = replay.reduce((sum, order) => sum + order.lines.length, 0);
    expect((await checksums()).order_lines!.rows).toBe(expectedLines);
    // The same replay again is a no-op.
    expect(await upsertAll(replay.filter((_, index) => chosen.has(index)))).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: chosen.size,
    });
    expect(new Set(replay.map(orderKey)).size).toBe(COUNT);
  });
});
