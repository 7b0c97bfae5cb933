import type { Pool, RowDataPacket } from 'mysql2/promise';
import { forEachBounded } from './bounded-concurrency.js';
import { TradectlError } from './errors.js';
import { kWayMerge } from './k-way-merge.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlPools } from './mysql-pools.js';
import type { OrderStatus, RefundState } from './order.js';
import { encodeCursor, filterHash, orderKeyComparator } from './order-cursor.js';
import { normalizeQuery, type OrderQuery } from './order-query-input.js';
import { buildShardStatement, type OrderListFilters, streamsPerTable } from './order-query-sql.js';
import type { Platform } from './platforms.js';
import type { ShardLocation, ShardRouter } from './shard-router.js';
import { fromSqlDateTime, type Instant } from './time.js';

export { MAX_PAGE_SIZE, type OrderQuery } from './order-query-input.js';

/**
 * The operations query: one page of orders across every shard, filtered by created_at range,
 * status, platform or user, in (created_at, id) order, with keyset pagination.
 *
 * Every shard table is asked for the *whole* page (ORDER BY + LIMIT pushed down: any one table
 * may hold all of it), the sorted answers are merged k-way, and the first `limit` rows are the
 * page. The seed's "LIMIT per table, then sort" cut each table short first and lost rows.
 *
 * Batching and pruning were chosen by measurement (bench/order-query.ts: 16 x 256 = 4096 tables,
 * 20,000 orders in 570 of them, one page of 100, 2-core dev machine; three runs while parallel
 * work kept the load average at 10-20, so absolute times are inflated and noisy):
 * - a statement over one empty table cost 0.9 ms, over 32 empty tables 3.2 ms (0.1 ms per
 *   extra table): the round trip and statement overhead dominate. For the unfiltered page, one
 *   statement per table (4096 statements) took 1.3-5.0 s; a UNION ALL of 32 sub-selects (128
 *   statements) 0.42-0.98 s, fastest in every run. 128 sub-selects per statement (32
 *   statements) was not faster (1.1-1.4 s): too few statements to overlap across the workers,
 *   and a late bound.
 * - pruning: once `limit + 1` rows are held, later statements carry an exclusive upper bound, so
 *   a table sends only rows that can still reach the page. Rows sent fell from 19,991 to about
 *   1,500 (no filter) and from 5,734 to about 650 (two statuses) in every run. The unfiltered
 *   page was 15-26% faster in each run; the two-status page swung both ways (noise). On full
 *   tables, where every table would otherwise send a whole page, the saving only grows.
 * - concurrency 8 beat 4 and 16 in all runs but one (the default pool has 8 connections).
 */
export interface OrderQueryDeps {
  pools: Pick<MysqlPools, 'servers'>;
  router: ShardRouter;
  /** Statements in flight at once, over all servers. Default 8 (the default pool size). */
  concurrency?: number;
  /** Sub-selects (tables x split values) per UNION ALL statement. Default 32. */
  subqueriesPerStatement?: number;
  /** Bound later statements by the rows already held (see above). Default true. */
  prune?: boolean;
}

/** One row of an order list: the orders_N columns, in domain types. */
export interface OrderSummary {
  id: string;
  userId: string;
  platform: Platform;
  account: string;
  platformOrderId: string;
  status: OrderStatus;
  rawStatus: string;
  statusUnknown: boolean;
  refundState: RefundState;
  currency: string;
  /** Integer minor units of `currency`. */
  totalAmount: number;
  lineCount: number;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface OrderPage {
  rows: OrderSummary[];
  /** Pass as `after` for the next page; null when this page is the last. */
  nextCursor: string | null;
  /** What the page cost: for `--debug`, metrics and benchmarks. */
  stats: { tables: number; statements: number; rowsRead: number };
}

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_SUBQUERIES = 32;

/** Reads one page. Throws ValidationError for bad input (every field named), TradectlError for I/O. */
export async function queryOrders(deps: OrderQueryDeps, query: OrderQuery): Promise<OrderPage> {
  const { filters, order, limit, after } = normalizeQuery(query);
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  const compare = orderKeyComparator(order);
  // One row more than the page tells whether another page exists, without a second query.
  const want = limit + 1;
  const batches = planBatches(deps, filters);
  let held: OrderSummary[] = [];
  const stats = { tables: 0, statements: 0, rowsRead: 0 };

  await forEachBounded(batches, concurrency, async ({ pool, shards }) => {
    // Once limit + 1 rows are held, a next page is proven and no row after the limit-th held
    // one can enter this page: later tables need not send those rows.
    const before = deps.prune !== false && held.length === want ? held[limit - 1] : undefined;
    const statement = buildShardStatement({
      router: deps.router,
      shards,
      filters,
      order,
      after,
      before,
      limit: want,
    });
    const rows = await run(pool, statement.sql, statement.params, shards);
    stats.tables += shards.length;
    stats.statements++;
    stats.rowsRead += rows.length;
    const streams = Array.from({ length: statement.streams }, (): OrderSummary[] => []);
    for (const row of rows) streams[Number(row.stream_no)]!.push(toSummary(row));
    // Each sub-select is sorted by the server, but SQL does not promise that UNION ALL keeps
    // that order; sorting an already sorted array is one linear pass (TimSort finds the run).
    for (const stream of streams) stream.sort(compare);
    held = kWayMerge([held, ...streams], compare, want);
  });

  const rows = held.slice(0, limit);
  const last = rows.at(-1);
  const nextCursor =
    held.length > limit && last
      ? encodeCursor({ order, createdAt: last.createdAt, id: last.id }, filterHash(filters))
      : null;
  return { rows, nextCursor, stats };
}

interface Batch {
  pool: Pool;
  shards: ShardLocation[];
}

// Statements group tables of one server (queries name their database, so one statement may
// span that server's databases) and servers take turns, so every server works from the start.
function planBatches(deps: OrderQueryDeps, filters: OrderListFilters): Batch[] {
  const { router } = deps;
  const perStatement = Math.max(
    1,
    Math.floor((deps.subqueriesPerStatement ?? DEFAULT_SUBQUERIES) / streamsPerTable(filters)),
  );
  const target = filters.userId === undefined ? undefined : router.route(filters.userId);
  const perServer = deps.pools.servers().map(({ pool, databases }) => {
    const shards: ShardLocation[] = [];
    for (const database of databases) {
      if (target) {
        if (target.database === database) shards.push(target);
        continue;
      }
      for (let table = 0; table < router.layout.tablesPerDatabase; table++) {
        shards.push(router.location(database, table));
      }
    }
    const batches: Batch[] = [];
    for (let start = 0; start < shards.length; start += perStatement) {
      batches.push({ pool, shards: shards.slice(start, start + perStatement) });
    }
    return batches;
  });
  const longest = Math.max(0, ...perServer.map((batches) => batches.length));
  const batches: Batch[] = [];
  for (let index = 0; index < longest; index++) {
    for (const server of perServer) if (index < server.length) batches.push(server[index]!);
  }
  return batches;
}

async function run(
  pool: Pool,
  sql: string,
  params: unknown[],
  shards: readonly ShardLocation[],
): Promise<RowDataPacket[]> {
  try {
    // query(), not execute(): every table is a distinct statement text, and server-side prepared
    // statements for 4096 tables on every pooled connection would exceed MariaDB's
    // max_prepared_stmt_count (16382). Values still travel only in `params` (escaped by the
    // driver), never in the SQL text built here.
    const [rows] = await pool.query<RowDataPacket[]>(sql, params);
    return rows;
  } catch (error) {
    const databases = [...new Set(shards.map((shard) => shard.databaseName))];
    throw classifyMysqlError(error, `order list on ${databases.join(', ')}`, {
      databases,
      tables: shards.length,
    });
  }
}

function toSummary(row: RowDataPacket): OrderSummary {
  const totalAmount = Number(row.total_amount);
  if (!Number.isSafeInteger(totalAmount)) {
    throw new TradectlError('TRADECTL_SHARD_ROW_INVALID', `order ${row.id}: total_amount out of range`, {
      kind: 'data',
      details: { id: String(row.id) },
    });
  }
  return {
    id: String(row.id),
    userId: String(row.user_id),
    platform: row.platform as Platform,
    account: String(row.account),
    platformOrderId: String(row.platform_order_id),
    status: row.status as OrderStatus,
    rawStatus: String(row.raw_status),
    statusUnknown: Number(row.status_unknown) === 1,
    refundState: row.refund_state as RefundState,
    currency: String(row.currency),
    totalAmount,
    lineCount: Number(row.line_count),
    createdAt: fromSqlDateTime(row.created_at as string),
    updatedAt: fromSqlDateTime(row.updated_at as string),
  };
}
