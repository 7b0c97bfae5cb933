import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { silentLogger } from '../../src/core/logger.js';
import { withShardMigrations } from '../../src/core/migrate/dual-write-store.js';
import { type LayoutHandle, layoutHandle } from '../../src/core/migrate/layouts.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import { createOrderStock, type OrderStock } from '../../src/core/order-stock/create-order-stock.js';
import { type IntentRow, intentFromRow } from '../../src/core/order-stock/intent-rows.js';
import { intentsTable } from '../../src/core/order-stock/intent-schema.js';
import type { OrderStore } from '../../src/core/order-store.js';
import { addMs } from '../../src/core/time.js';
import { createOrderSink, type OrderSink } from '../../src/workers/order-sink.js';
import { migrateCli } from '../helpers/migrate-fixture.js';
import {
  batchOf,
  createOrderStockFixture,
  marketplaceOrder,
  type OrderStockFixture,
} from '../helpers/order-stock-fixture.js';

// Resharding 2 x 4 into 4 x 8 carries the stock intents (the order stock outbox) of every order
// into the new layout: after the backfill and cutover the target holds the same intents as the
// source, and once the source is gone a drainer on the new layout neither deducts an old order's
// lines again nor fails to give back what a cancellation must, exactly once.

let f: OrderStockFixture;
let cli: Awaited<ReturnType<typeof migrateCli>>;
let store: OrderStore;
const INITIAL = 100;
const SKUS = ['MUG', 'TEE', 'BAG'];
let ids = 0;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (text: string) => JSON.parse(text);

/** Order n: users spread over every shard of both layouts, two lines of 1-3 units. */
function order(n: number, overrides: Partial<UnifiedOrder> = {}): UnifiedOrder {
  return marketplaceOrder(
    `R-${n}`,
    [
      { lineId: '1', sku: `S-${SKUS[n % 3]}`, quantity: 1 + (n % 3) },
      { lineId: '2', sku: `S-${SKUS[(n + 1) % 3]}`, quantity: 1 },
    ],
    { userId: String(1000 + n * 13), ...overrides },
  );
}
const cancelled = (n: number) =>
  order(n, {
    status: 'cancelled',
    rawStatus: 'cancelled',
    updatedAt: addMs(order(n).updatedAt, 60_000),
  });
const newer = (n: number) => order(n, { updatedAt: addMs(order(n).updatedAt, 30_000) });

/** The units order n's active lines hold, per SKU. */
function held(numbers: readonly number[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(SKUS.map((sku) => [sku, 0]));
  for (const n of numbers) {
    for (const line of order(n).lines) out[line.sku!.slice(2)]! += line.quantity;
  }
  return out;
}

async function available(): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(SKUS.map(async (sku) => [sku, (await f.available(sku))!])));
}

const expectHolding = async (numbers: readonly number[]) => {
  const units = held(numbers);
  expect(await available()).toEqual(Object.fromEntries(SKUS.map((sku) => [sku, INITIAL - units[sku]!])));
};

async function intentsOf(handle: LayoutHandle): Promise<IntentRow[]> {
  const rows: IntentRow[] = [];
  for (let database = 0; database < handle.spec.databases; database++) {
    const [found] = await handle.pools
      .forDatabase(database)
      .query<RowDataPacket[]>(`SELECT * FROM ${intentsTable(handle.router, database)}`);
    rows.push(...found.map(intentFromRow));
  }
  const text = (row: IntentRow) => `${row.platformOrderId.padStart(8)} ${row.lineId} ${row.kind}`;
  return rows.sort((a, b) => (text(a) < text(b) ? -1 : 1));
}

/** A sink over the migration-aware store whose stock hook drains `orderStock`'s layout. */
function sinkWith(orderStock: OrderStock): OrderSink {
  return createOrderSink({
    store,
    logger: silentLogger(),
    deductStockForNewLines: (orders) => orderStock.afterCommit(orders),
  });
}

function stockOn(handle: LayoutHandle): OrderStock {
  return createOrderStock({
    config: { redis: f.config.redis, orderStock: { ...f.config.orderStock, retryAfterMs: 1000 } },
    pools: handle.pools,
    router: handle.router,
    redis: f.redis,
    logger: silentLogger(),
    clock: () => f.clock.now,
    stock: f.service,
    listings: f.listings,
  });
}

const spec = (prefix: string, databases: number, tablesPerDatabase: number) => ({
  databases,
  tablesPerDatabase,
  databasePrefix: prefix,
});
let source: LayoutHandle;
let target: LayoutHandle;

beforeAll(async () => {
  f = await createOrderStockFixture();
  for (const sku of SKUS) {
    await f.service.set({ operationId: `init-${sku}`, sku, expectedVersion: 0, available: INITIAL });
    await f.listings.add({ platform: 'shopify', account: 'us', kind: 'sku', channelKey: `S-${sku}`, sku });
  }
  cli = await migrateCli(f.config);
  const { config, pools, router } = f;
  store = withShardMigrations(f.store, {
    config,
    pools,
    router,
    nextId: () => String(5_000_000 + ++ids),
    logger: silentLogger(),
    refreshMs: 50,
    stockIntents: { sweepAfterMs: 1000 },
  });
  const prefix = config.mysql.databasePrefix;
  source = layoutHandle(config, { router, pools }, spec(prefix, 2, 4));
  target = layoutHandle(config, { router, pools }, spec(`${prefix}_n`, 4, 8));
}, 60_000);

afterAll(async () => {
  await cli?.cleanup();
  await f?.close();
});

describe('stock intents in a 2 x 4 -> 4 x 8 reshard', () => {
  const before = Array.from({ length: 30 }, (_, n) => n);
  const during = Array.from({ length: 10 }, (_, n) => 30 + n);

  it('copies the intents with the orders: backfill, then cutover catches up what dual write added', async () => {
    const sink = sinkWith(stockOn(source));
    await sink.handler(batchOf(before.map((n) => order(n))));
    await expectHolding(before);
    const planned = await cli.run(
      'migrate-shards',
      'plan',
      '--to',
      '4x8',
      '--to-prefix',
      target.spec.databasePrefix,
    );
    expect(planned.code, planned.stderr).toBe(EXIT.ok);
    expect((await cli.run('migrate-shards', 'start')).code).toBe(EXIT.ok);
    await wait(100);
    // Written while dual write is on: the intents go into the source (the drainer's layout) only.
    await sink.handler(batchOf(during.map((n) => order(n))));
    await expectHolding([...before, ...during]);

    const backfill = await cli.run('migrate-shards', 'backfill', '--settle', '0', '--json');
    expect(backfill.code, backfill.stderr).toBe(EXIT.ok);
    const copied = (await intentsOf(target)).filter((row) =>
      before.includes(Number(row.platformOrderId.slice(2))),
    );
    expect(copied.map((row) => [row.kind, row.status])).toEqual(
      before.flatMap(() => Array(2).fill(['deduct', 'applied'])),
    );

    expect((await cli.run('migrate-shards', 'verify', '--json')).code).toBe(EXIT.ok);
    const cutover = await cli.run('migrate-shards', 'cutover', '--json');
    expect(cutover.code, cutover.stderr).toBe(EXIT.ok);
    const sourceIntents = await intentsOf(source);
    expect(sourceIntents).toHaveLength((before.length + during.length) * 2);
    expect(json(cutover.stdout).intents).toEqual({ copied: sourceIntents.length, notCopied: 0 });
    // Row for row, status, outcome and operation key included, each in its user's new database.
    expect(await intentsOf(target)).toEqual(sourceIntents);
    for (let database = 0; database < 4; database++) {
      const [rows] = await target.pools
        .forDatabase(database)
        .query<RowDataPacket[]>(`SELECT platform_order_id FROM ${intentsTable(target.router, database)}`);
      for (const row of rows) {
        const n = Number(String(row.platform_order_id).slice(2));
        expect(target.router.route(order(n).userId).database).toBe(database);
      }
    }
  });

  it('after cutover a cancellation gives back once and a re-stored order takes nothing', async () => {
    await wait(100);
    const sink = sinkWith(stockOn(source));
    await sink.handler(batchOf([cancelled(0)]));
    await sink.handler(batchOf([cancelled(0), newer(1)]));
    await sink.handler(batchOf([order(2)]));
    await expectHolding([...before, ...during].filter((n) => n !== 0));
  });

  it('cleanup copies what changed since cutover; a drainer on the new layout then moves stock exactly once', async () => {
    const cleaned = await cli.run('migrate-shards', 'cleanup', '--yes', '--settle', '0', '--json');
    expect(cleaned.code, cleaned.stderr).toBe(EXIT.ok);
    expect(json(cleaned.stdout).intents).toMatchObject({ notCopied: 0 });
    const released = (await intentsOf(target)).filter((row) => row.kind === 'release');
    expect(released.map((row) => [row.platformOrderId, row.lineId, row.status])).toEqual([
      ['R-0', '1', 'applied'],
      ['R-0', '2', 'applied'],
    ]);
    await wait(100);
    const stock = stockOn(target);
    // Nothing copied is pending: a sweep of the new layout moves nothing.
    f.clock.now += 3_600_000;
    await stock.drainer.sweep();
    await expectHolding([...before, ...during].filter((n) => n !== 0));

    const sink = sinkWith(stock);
    await sink.handler(batchOf([cancelled(3), newer(4), order(5), cancelled(0)]));
    await sink.handler(batchOf([cancelled(3)]));
    f.clock.now += 3_600_000;
    await stock.drainer.sweep();
    await expectHolding([...before, ...during].filter((n) => n !== 0 && n !== 3));
    const intents = await intentsOf(target);
    expect(intents.filter((row) => row.status !== 'applied')).toEqual([]);
    const kinds = intents.map((row) => `${row.platformOrderId}/${row.lineId}/${row.kind}`);
    expect(kinds.filter((kind) => kind.endsWith('deduct'))).toHaveLength((before.length + during.length) * 2);
    expect(kinds.filter((kind) => kind.endsWith('release')).sort()).toEqual([
      'R-0/1/release',
      'R-0/2/release',
      'R-3/1/release',
      'R-3/2/release',
    ]);
  });
});
