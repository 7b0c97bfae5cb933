import type { Pool } from 'mysql2/promise';
import { forEachBounded } from '../../src/core/bounded-concurrency.js';
import type { MysqlPools } from '../../src/core/mysql-pools.js';
import { ORDER_STATUSES, type OrderStatus } from '../../src/core/order.js';
import { orderTablesDdl } from '../../src/core/order-schema.js';
import { PLATFORMS, type Platform } from '../../src/core/platforms.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { fromEpochMs, type Instant, toSqlDateTime } from '../../src/core/time.js';

/**
 * Rows and tables for order-list tests and benchmarks, written with plain INSERTs so they do not
 * depend on the order store. Only the orders_N tables are created: the list never reads others.
 */
export interface OrderRow {
  id: string;
  userId: string;
  platform: Platform;
  account: string;
  platformOrderId: string;
  status: OrderStatus;
  currency: string;
  totalAmount: number;
  lineCount: number;
  createdAt: Instant;
  updatedAt: Instant;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same data set. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomOrdersOptions {
  count: number;
  users: number;
  /** Distinct created_at values; few of them make many exact ties. */
  instants: number;
  start?: Instant;
}

/** Random orders with many created_at ties and ids of every length up to 2^64-1. */
export function randomOrders(random: () => number, options: RandomOrdersOptions): OrderRow[] {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const startMs = Date.parse(options.start ?? '2026-01-01T00:00:00.000Z');
  const instants = Array.from({ length: options.instants }, (_, index) =>
    fromEpochMs(startMs + index * 3_600_000 + (index % 3 === 0 ? 0 : Math.floor(random() * 1000))),
  );
  const users = Array.from({ length: options.users }, () => String(Math.floor(random() * 1e13)));
  const ids = new Set<string>();
  while (ids.size < options.count) {
    // Short ids (9 vs 10 digits) and ids past 2^53 and 2^63 catch text-versus-number ordering.
    const small = random() < 0.3;
    const big = (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
    ids.add(small ? String(1 + Math.floor(random() * 5000)) : big.toString());
  }
  return [...ids].map((id, index) => {
    const createdAt = pick(instants);
    return {
      id,
      userId: pick(users),
      platform: pick(PLATFORMS),
      account: `acct-${index % 3}`,
      platformOrderId: `po-${index}`,
      status: pick(ORDER_STATUSES),
      currency: pick(['USD', 'EUR', 'JPY']),
      totalAmount: Math.floor(random() * 2 ** 40),
      lineCount: 1 + Math.floor(random() * 5),
      createdAt,
      updatedAt: fromEpochMs(Date.parse(createdAt) + Math.floor(random() * 86_400_000)),
    };
  });
}

/** Creates every shard database and orders_N table of the layout. */
export async function createOrderTables(
  pools: Pick<MysqlPools, 'servers' | 'forDatabase'>,
  router: ShardRouter,
  concurrency = 4,
): Promise<void> {
  for (const { pool, databases } of pools.servers()) {
    for (const database of databases) {
      await pool.query(`CREATE DATABASE IF NOT EXISTS \`${router.databaseName(database)}\``);
    }
  }
  const shards = [...router.all()];
  await forEachBounded(shards, concurrency, async (shard) => {
    const orders = router.qualifiedTable(shard, 'orders');
    const ddl = orderTablesDdl(router, shard).find((statement) => statement.includes(orders));
    await pools.forDatabase(shard.database).query(ddl!);
  });
}

/** Inserts rows into the table their user routes to, one multi-row INSERT per table. */
export async function insertOrders(
  pools: Pick<MysqlPools, 'forDatabase'>,
  router: ShardRouter,
  rows: readonly OrderRow[],
): Promise<void> {
  const byTable = new Map<string, { pool: Pool; table: string; rows: OrderRow[] }>();
  for (const row of rows) {
    const shard = router.route(row.userId);
    const table = router.qualifiedTable(shard, 'orders');
    const entry = byTable.get(table) ?? { pool: pools.forDatabase(shard.database), table, rows: [] };
    entry.rows.push(row);
    byTable.set(table, entry);
  }
  await forEachBounded([...byTable.values()], 4, ({ pool, table, rows: tableRows }) =>
    insertInto(pool, table, tableRows),
  );
}

/** Inserts rows into one named table (a reference table holding everything). */
export async function insertInto(pool: Pool, table: string, rows: readonly OrderRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const values = chunk.map(
      (row) =>
        [
          row.id,
          row.userId,
          row.platform,
          row.account,
          row.platformOrderId,
          row.status,
          row.status.toUpperCase(),
          row.currency,
          row.totalAmount,
          row.lineCount,
          toSqlDateTime(row.createdAt),
          toSqlDateTime(row.updatedAt),
          toSqlDateTime(row.updatedAt),
        ] as unknown[],
    );
    await pool.query(
      `INSERT INTO ${table} (id, user_id, platform, account, platform_order_id, status, raw_status, currency,
        total_amount, line_count, created_at, updated_at, stored_at) VALUES ?`,
      [values],
    );
  }
}

/** A one-table layout next to the sharded one: the unsharded reference every answer is checked against. */
export function referenceRouter(databasePrefix: string): ShardRouter {
  return new ShardRouter({ databases: 1, tablesPerDatabase: 1, databasePrefix: `${databasePrefix}_ref` });
}
