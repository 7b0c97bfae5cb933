import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { isRetriable, TradectlError, ValidationError } from '../../src/core/errors.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { orderKey, type UnifiedOrder } from '../../src/core/order.js';
import { createOrderStore, type OrderStore, type UpsertResult } from '../../src/core/order-store.js';
import { routerForConfig } from '../../src/core/shard-admin.js';
import { addMs } from '../../src/core/time.js';
import { counterIds, generateOrders } from '../helpers/order-generator.js';
import { testConfig } from '../helpers/services.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

let fixture: StoreFixture;
let store: OrderStore;

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 4, tablesPerDatabase: 8 });
  store = createOrderStore({ pools: fixture.pools, router: fixture.router, nextId: counterIds() });
});

afterAll(async () => {
  await fixture?.close();
});

async function countOrders(): Promise<number> {
  let total = 0;
  for (const location of fixture.router.all()) {
    const [rows] = await fixture.pools
      .forDatabase(location.database)
      .query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM ${fixture.router.qualifiedTable(location, 'orders')}`,
      );
    total += Number(rows[0]!.n);
  }
  return total;
}

/** The caller's side of the contract: retriable failures (deadlocks) are retried. */
async function withRetry(run: () => Promise<UpsertResult>): Promise<UpsertResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isRetriable(error) || attempt >= 5) throw error;
    }
  }
}

describe('order lookups', () => {
  it('finds an order by its id and by its platform key, with every field', async () => {
    const orders = generateOrders({ seed: 11, count: 50, idPrefix: 'LOOKUP' });
    const result = await store.upsertBatch(orders);
    expect(result.inserted).toBe(50);
    for (const order of orders) {
      const id = result.ids.get(orderKey(order))!;
      const byKey = await store.getByPlatformKey(order);
      expect(byKey).toEqual({ ...order, id, storedAt: expect.any(String) });
      expect(await store.getById(id)).toEqual(byKey);
    }
  });

  it('returns null for an unknown id or key, and rejects an id that is not a number', async () => {
    const [order] = generateOrders({ seed: 12, count: 1, idPrefix: 'MISSING' });
    expect(await store.getByPlatformKey(order!)).toBeNull();
    expect(await store.getById('123456789012345')).toBeNull();
    await expect(store.getById('12; DROP TABLE x')).rejects.toBeInstanceOf(ValidationError);
  });

  it('stamps stored_at from the injected clock', async () => {
    const clocked = createOrderStore({
      pools: fixture.pools,
      router: fixture.router,
      nextId: counterIds(5_000_000_000_000n),
      clock: () => '2030-06-01T12:00:00.000Z',
    });
    const [order] = generateOrders({ seed: 13, count: 1, idPrefix: 'CLOCK' });
    await clocked.upsertBatch([order!]);
    expect((await store.getByPlatformKey(order!))?.storedAt).toBe('2030-06-01T12:00:00.000Z');
  });
});

describe('batch semantics', () => {
  it('keeps only the newest version when a batch holds the same order twice', async () => {
    const [order] = generateOrders({ seed: 21, count: 1, idPrefix: 'TWICE' });
    const newer = { ...order!, updatedAt: addMs(order!.updatedAt, 1000), status: 'shipped' as const };
    const result = await store.upsertBatch([newer, order!]);
    expect({ ...result, ids: result.ids.size, outcomes: [...result.outcomes.values()] }).toEqual({
      inserted: 1,
      updated: 0,
      unchanged: 0,
      ids: 1,
      outcomes: ['inserted'],
    });
    expect((await store.getByPlatformKey(order!))?.status).toBe('shipped');
  });

  it('counts a replay of the same version as unchanged and keeps the id', async () => {
    const orders = generateOrders({ seed: 22, count: 20, idPrefix: 'SAME' });
    const first = await store.upsertBatch(orders);
    const again = await store.upsertBatch(orders);
    expect([again.inserted, again.updated, again.unchanged]).toEqual([0, 0, 20]);
    expect(again.ids).toEqual(first.ids);
  });

  it('counts inserted, updated and unchanged exactly in one mixed batch', async () => {
    const orders = generateOrders({ seed: 23, count: 30, idPrefix: 'MIX' });
    await store.upsertBatch(orders.slice(0, 20));
    const mixed: UnifiedOrder[] = [
      ...orders.slice(0, 5).map((order) => ({ ...order, updatedAt: addMs(order.updatedAt, 10) })), // newer
      ...orders.slice(5, 10).map((order) => ({ ...order, updatedAt: addMs(order.updatedAt, -10) })), // older
      ...orders.slice(10, 20), // same
      ...orders.slice(20, 30), // new
    ];
    const result = await store.upsertBatch(mixed);
    expect([result.inserted, result.updated, result.unchanged]).toEqual([10, 5, 15]);
  });

  it('removes the lines a newer version no longer has, and keeps them for an older one', async () => {
    const [order] = generateOrders({ seed: 24, count: 1, idPrefix: 'LINES' });
    const threeLines = {
      ...order!,
      lines: [0, 1, 2].map((n) => ({ ...order!.lines[0]!, lineId: `line-${n}` })),
    };
    await store.upsertBatch([threeLines]);
    const oneLine = {
      ...threeLines,
      updatedAt: addMs(threeLines.updatedAt, 1),
      lines: [threeLines.lines[1]!],
    };
    expect((await store.upsertBatch([oneLine])).updated).toBe(1);
    expect((await store.getByPlatformKey(order!))?.lines.map((line) => line.lineId)).toEqual(['line-1']);
    // The old version arriving late brings nothing back.
    expect((await store.upsertBatch([threeLines])).unchanged).toBe(1);
    expect((await store.getByPlatformKey(order!))?.lines.map((line) => line.lineId)).toEqual(['line-1']);
  });
});

describe('concurrent writers', () => {
  it('store each order once and agree on its id when they write the same orders at once', async () => {
    const orders = generateOrders({ seed: 31, count: 600, users: 40, idPrefix: 'RACE' });
    const before = await countOrders();
    const writers = [1n, 2n, 3n].map((n) =>
      createOrderStore({
        pools: fixture.pools,
        router: fixture.router,
        nextId: counterIds(n * 10_000_000_000_000n),
        concurrency: 4,
      }),
    );
    const results = await Promise.all(
      writers.map((writer, index) =>
        withRetry(() => writer.upsertBatch(index === 1 ? [...orders].reverse() : orders)),
      ),
    );
    expect(await countOrders()).toBe(before + orders.length);
    const [a, b, c] = results as [UpsertResult, UpsertResult, UpsertResult];
    // A retried batch may find its own first attempt's orders: inserted is at most one per key.
    expect(a.inserted + b.inserted + c.inserted).toBeLessThanOrEqual(orders.length);
    for (const order of orders) {
      const key = orderKey(order);
      expect(b.ids.get(key)).toBe(a.ids.get(key));
      expect(c.ids.get(key)).toBe(a.ids.get(key));
    }
    const stored = await store.getByPlatformKey(orders[0]!);
    expect(stored?.id).toBe(a.ids.get(orderKey(orders[0]!)));
  });
});

describe('failures', () => {
  it('reports missing shard tables as a config error that names the fix', async () => {
    const config = testConfig({ shards: { databases: 2, tablesPerDatabase: 2 } });
    const router = routerForConfig(config);
    const pools = new MysqlPools(config, router);
    try {
      const empty = createOrderStore({ pools, router, nextId: counterIds() });
      const error = await empty.upsertBatch(generateOrders({ seed: 41, count: 3 })).catch((caught) => caught);
      expect(error).toBeInstanceOf(TradectlError);
      expect(error).toMatchObject({ code: 'TRADECTL_SHARDS_MISSING', kind: 'config', retriable: false });
      expect(error.hint).toContain('tradectl shards init');
    } finally {
      await pools.close();
    }
  });

  it('reports an unreachable server as a transient, retriable error', async () => {
    // Nothing listens on port 1 (testConfig would put the local server's URL from the env back).
    const config = parseConfig({
      mysql: { url: 'mysql://tradectl:tradectl@127.0.0.1:1', databasePrefix: 'unreachable' },
    });
    const router = routerForConfig(config);
    const pools = new MysqlPools(config, router, { connectTimeout: 2000 });
    try {
      const down = createOrderStore({ pools, router, nextId: counterIds() });
      const error = await down.upsertBatch(generateOrders({ seed: 42, count: 1 })).catch((caught) => caught);
      expect(error).toMatchObject({ code: 'TRADECTL_DB_UNAVAILABLE', kind: 'transient', retriable: true });
      expect(String(error.message)).not.toContain('tradectl:tradectl');
    } finally {
      await pools.close();
    }
  });
});
