import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { createEnvelope, encodeEnvelope } from '../../src/core/bus/envelope.js';
import type { BusBatch, BusMessage } from '../../src/core/bus/order-bus.js';
import { silentLogger } from '../../src/core/logger.js';
import { orderKey, parseOrder, type UnifiedOrder, type UnifiedOrderInput } from '../../src/core/order.js';
import { createOrderStock, type OrderStock } from '../../src/core/order-stock/create-order-stock.js';
import { type IntentRow, intentFromRow } from '../../src/core/order-stock/intent-rows.js';
import { intentsTable, issuesTable } from '../../src/core/order-stock/intent-schema.js';
import { resolveIntentTargets } from '../../src/core/order-stock/intent-targets.js';
import { createOrderStore, type OrderStore } from '../../src/core/order-store.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { LedgerDrain } from '../../src/core/stock/ledger-drain.js';
import { stockTable } from '../../src/core/stock/ledger-schema.js';
import { ListingMap } from '../../src/core/stock/listing-map.js';
import { StockService } from '../../src/core/stock/stock-service.js';
import { createOrderSink, type OrderSink } from '../../src/workers/order-sink.js';
import { REDIS_URL } from './services.js';
import { createStoreFixture, type StoreFixture } from './store-fixture.js';

/**
 * The order stock outbox against real MariaDB and Redis: a 2 x 4 layout with its own database
 * and key prefixes, a store writing stock intents, a sink whose hook drains them, the listing
 * map and the stock service. `clock` drives the drainer (sweep due times); `stock` can be
 * wrapped to fail on demand. `close()` removes the databases and the keys.
 */
export interface OrderStockFixture extends StoreFixture {
  redis: Redis;
  keyPrefix: string;
  service: StockService;
  listings: ListingMap;
  store: OrderStore;
  /** Unix ms seen by the drainer; tests move it forward past retry delays. */
  clock: { now: number };
  /** Builds a sink (with its own drainer) around `stock`, by default the real service. */
  pipeline(options?: { stock?: StockService; unknownSkuAttempts?: number }): {
    sink: OrderSink;
    orderStock: OrderStock;
  };
  /** Every intent of the layout, ordered by order id, line id, kind. */
  intents(): Promise<IntentRow[]>;
  issues(): Promise<Record<string, unknown>[]>;
  /** Redis's available quantity of a SKU (tenant default), or undefined. */
  available(sku: string): Promise<number | undefined>;
  /** Drains the ledger and returns MySQL's on_hand next to Redis's available + reserved. */
  drainAndCompare(
    skus: readonly string[],
  ): Promise<{ redis: Record<string, number>; mysql: Record<string, number> }>;
  close(): Promise<void>;
}

export async function createOrderStockFixture(): Promise<OrderStockFixture> {
  const base = await createStoreFixture({ databases: 2, tablesPerDatabase: 4 });
  const { config, pools, router } = base;
  const redis = new Redis(REDIS_URL);
  redis.on('error', () => undefined);
  const keyPrefix = config.redis.keyPrefix;
  const clock = { now: Date.now() };
  const service = new StockService({ redis, keyPrefix });
  const listings = new ListingMap({ pool: pools.meta(), router });
  let ids = 0;
  const settings = { ...config.orderStock, retryAfterMs: 1000 };
  const store = createOrderStore({
    pools,
    router,
    nextId: () => String(1_000_000 + ++ids),
    // As the sink wires it (createOrderStock's storeOptions): new intents carry their target.
    stockIntents: {
      sweepAfterMs: settings.retryAfterMs,
      resolveTargets: async (rows) => (await resolveIntentTargets(listings, rows)).mapped,
    },
  });
  return {
    ...base,
    redis,
    keyPrefix,
    service,
    listings,
    store,
    clock,
    pipeline(options = {}) {
      const orderStock = createOrderStock({
        config: {
          redis: config.redis,
          orderStock: {
            ...settings,
            unknownSkuAttempts: options.unknownSkuAttempts ?? settings.unknownSkuAttempts,
          },
        },
        pools,
        router,
        redis,
        logger: silentLogger(),
        clock: () => clock.now,
        stock: options.stock ?? service,
        listings,
      });
      const sink = createOrderSink({
        store,
        logger: silentLogger(),
        deductStockForNewLines: (orders) => orderStock.afterCommit(orders),
      });
      return { sink, orderStock };
    },
    async intents() {
      const rows: IntentRow[] = [];
      for (let database = 0; database < router.layout.databases; database++) {
        const [found] = await pools
          .forDatabase(database)
          .query<RowDataPacket[]>(`SELECT * FROM ${intentsTable(router, database)}`);
        rows.push(...found.map(intentFromRow));
      }
      const text = (row: IntentRow) => `${row.orderId.padStart(20, '0')} ${row.lineId} ${row.kind}`;
      return rows.sort((a, b) => (text(a) < text(b) ? -1 : 1));
    },
    async issues() {
      const [rows] = await pools
        .meta()
        .query<RowDataPacket[]>(`SELECT * FROM ${issuesTable(router)} ORDER BY order_id, line_id, kind`);
      return rows;
    },
    async available(sku) {
      const value = await redis.hget(tenantKeys(keyPrefix, 'default').stock(sku), 'available');
      return value === null ? undefined : Number(value);
    },
    async drainAndCompare(skus) {
      const drain = new LedgerDrain({ redis, pool: pools.meta(), router, keyPrefix, logger: silentLogger() });
      await drain.drainUntilIdle();
      const redisSide: Record<string, number> = {};
      const mysqlSide: Record<string, number> = {};
      for (const sku of skus) {
        const [available, reserved] = await redis.hmget(
          tenantKeys(keyPrefix, 'default').stock(sku),
          'available',
          'reserved',
        );
        redisSide[sku] = Number(available) + Number(reserved ?? 0);
        const [rows] = await pools
          .meta()
          .query<RowDataPacket[]>(
            `SELECT on_hand FROM ${stockTable(router, 'inventory')} WHERE tenant = 'default' AND sku = ?`,
            [sku],
          );
        mysqlSide[sku] = rows[0] === undefined ? Number.NaN : Number(rows[0].on_hand);
      }
      return { redis: redisSide, mysql: mysqlSide };
    },
    async close() {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await base.close();
    },
  };
}

/** A validated marketplace order with the given lines (quantity, channel SKU, listing id). */
export function marketplaceOrder(
  platformOrderId: string,
  lines: {
    lineId: string;
    sku?: string | null;
    listingId?: string | null;
    quantity: number;
    cancelled?: boolean;
  }[],
  overrides: Partial<UnifiedOrderInput> = {},
): UnifiedOrder {
  return parseOrder({
    platform: 'shopify',
    account: 'us',
    platformOrderId,
    userId: '1003',
    status: 'paid',
    rawStatus: 'paid',
    currency: 'USD',
    totals: { subtotal: 1000, total: 1000 },
    createdAt: '2026-03-01T10:00:00.000Z',
    updatedAt: '2026-03-01T10:00:00.000Z',
    buyer: { platformBuyerId: null, name: null, email: null },
    lines: lines.map((line) => ({
      lineId: line.lineId,
      sku: line.sku ?? null,
      listingId: line.listingId ?? null,
      title: 'item',
      quantity: line.quantity,
      unitPrice: 100,
      total: 100 * line.quantity,
      cancelled: line.cancelled ?? false,
    })),
    ...overrides,
  });
}

/** A bus batch of these orders, as the sink receives it (dead letters kept in `deadLettered`). */
export function batchOf(orders: readonly UnifiedOrder[]): BusBatch & { deadLettered: unknown[] } {
  const deadLettered: unknown[] = [];
  const messages: BusMessage[] = orders.map((order) => {
    const envelope = createEnvelope(order, '2026-03-10T12:00:00.000Z');
    return { key: orderKey(order), envelope, raw: encodeEnvelope(envelope), source: null };
  });
  return {
    messages,
    deadLetter: async (entries) => {
      deadLettered.push(...entries);
    },
    heartbeat: async () => undefined,
    signal: new AbortController().signal,
    deadLettered,
  };
}
