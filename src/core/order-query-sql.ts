import type { OrderStatus } from './order.js';
import type { OrderKey, SortOrder } from './order-cursor.js';
import type { Platform } from './platforms.js';
import type { ShardLocation, ShardRouter } from './shard-router.js';
import { type Instant, toSqlDateTime } from './time.js';

/**
 * The SQL of the cross-shard order list, as a pure function (no I/O) so its shape is tested
 * without a database. Values are always bound parameters; identifiers only come from the router.
 *
 * One statement reads several shard tables of one server: a UNION ALL of parenthesised
 * sub-selects, each with its own ORDER BY and LIMIT, so every sub-select is an index range scan
 * that stops after `limit` rows. Each sub-select is one sorted *stream*, tagged with its number
 * (`stream_no`) so the caller can split the result and merge the streams (k-way-merge.ts).
 */

/** The orders_N columns an order list reads (the list never touches details or lines). */
export const ORDER_LIST_COLUMNS = [
  'id',
  'user_id',
  'platform',
  'account',
  'platform_order_id',
  'status',
  'raw_status',
  'status_unknown',
  'refund_state',
  'currency',
  'total_amount',
  'line_count',
  'created_at',
  'updated_at',
] as const;

/** Filters of an order list; absent means "any". Time bounds apply to created_at. */
export interface OrderListFilters {
  /** Inclusive lower bound on created_at. */
  from?: Instant | undefined;
  /** Exclusive upper bound on created_at. */
  to?: Instant | undefined;
  statuses?: readonly OrderStatus[] | undefined;
  platforms?: readonly Platform[] | undefined;
  /** Decimal user id: the caller routes it to its one shard. */
  userId?: string | undefined;
}

export interface ShardStatementInput {
  router: ShardRouter;
  /** The shard tables to read; all must live on the server the statement is sent to. */
  shards: readonly ShardLocation[];
  filters: OrderListFilters;
  order: SortOrder;
  /** Exclusive start in the sort order (the page cursor). */
  after?: OrderKey | undefined;
  /**
   * Exclusive end in the sort order: rows at or past it cannot reach the page any more (the
   * caller already holds enough better rows), so the tables need not send them.
   */
  before?: OrderKey | undefined;
  /** Row limit of every stream: any one stream may fill the whole page. */
  limit: number;
}

export interface ShardStatement {
  sql: string;
  params: unknown[];
  /** Number of sorted streams in the result; `stream_no` is 0..streams-1. */
  streams: number;
}

/**
 * Builds one statement reading `shards`. With several statuses (or, without statuses, several
 * platforms) each table is read once per value (`status = ?`): `status IN (...)` cannot walk the
 * (status, created_at, id) index in created_at order, so MariaDB either filesorts the whole
 * range or scans (created_at, id) and discards other statuses; one ordered range per value stops
 * after `limit` rows, and the merge combines them like any other streams.
 */
export function buildShardStatement(input: ShardStatementInput): ShardStatement {
  const { router, shards, filters, order, limit } = input;
  if (shards.length === 0) throw new RangeError('a shard statement needs at least one shard');
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  const split = splitValues(filters);
  const direction = order === 'asc' ? 'ASC' : 'DESC';
  const columns = ORDER_LIST_COLUMNS.join(', ');
  const parts: string[] = [];
  const params: unknown[] = [];
  let stream = 0;
  for (const shard of shards) {
    const table = router.qualifiedTable(shard, 'orders');
    for (const value of split.values) {
      const where: string[] = [];
      params.push(stream++);
      addFilters(where, params, filters, split.column, value);
      if (input.after) addKeyset(where, params, input.after, order === 'asc' ? '>' : '<');
      if (input.before) addKeyset(where, params, input.before, order === 'asc' ? '<' : '>');
      params.push(limit);
      const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
      parts.push(
        `(SELECT ? AS stream_no, ${columns} FROM ${table}${clause}` +
          ` ORDER BY created_at ${direction}, id ${direction} LIMIT ?)`,
      );
    }
  }
  return { sql: parts.join('\nUNION ALL\n'), params, streams: stream };
}

/** How many sorted streams one table yields for these filters. */
export function streamsPerTable(filters: OrderListFilters): number {
  return splitValues(filters).values.length;
}

interface Split {
  column: 'status' | 'platform' | undefined;
  values: readonly (string | undefined)[];
}

function splitValues(filters: OrderListFilters): Split {
  // One user's rows are few and (user_id, created_at, id) is already in order: no split.
  if (filters.userId !== undefined) return { column: undefined, values: [undefined] };
  if (filters.statuses && filters.statuses.length > 0) {
    return { column: 'status', values: unique(filters.statuses) };
  }
  if (filters.platforms && filters.platforms.length > 0) {
    return { column: 'platform', values: unique(filters.platforms) };
  }
  return { column: undefined, values: [undefined] };
}

function addFilters(
  where: string[],
  params: unknown[],
  filters: OrderListFilters,
  splitColumn: Split['column'],
  splitValue: string | undefined,
): void {
  if (filters.userId !== undefined) {
    // CAST keeps the comparison integer: a string compared with BIGINT is compared as a double,
    // which cannot tell apart ids above 2^53.
    where.push('user_id = CAST(? AS UNSIGNED)');
    params.push(filters.userId);
  }
  if (splitColumn !== undefined) {
    where.push(`${splitColumn} = ?`);
    params.push(splitValue);
  }
  for (const [column, values] of [
    ['status', filters.statuses],
    ['platform', filters.platforms],
  ] as const) {
    if (column === splitColumn || !values || values.length === 0) continue;
    const list = unique(values);
    where.push(`${column} IN (${list.map(() => '?').join(', ')})`);
    params.push(...list);
  }
  if (filters.from !== undefined) {
    where.push('created_at >= ?');
    params.push(toSqlDateTime(filters.from));
  }
  if (filters.to !== undefined) {
    where.push('created_at < ?');
    params.push(toSqlDateTime(filters.to));
  }
}

/**
 * `(created_at, id) > (?, ?)` written out. MariaDB 10.11 does not turn a row-constructor
 * comparison into an index range (EXPLAIN shows a full index scan, ANALYZE reads every row
 * before the cursor); the expanded OR form is a range on any (…, created_at, id) index. The
 * leading non-strict bound on created_at alone is redundant but lets every optimizer start the
 * range at the right place even when it cannot use the OR.
 */
function addKeyset(where: string[], params: unknown[], key: OrderKey, op: '>' | '<'): void {
  const at = toSqlDateTime(key.createdAt);
  where.push(`created_at ${op}= ?`);
  where.push(`(created_at ${op} ? OR (created_at = ? AND id ${op} CAST(? AS UNSIGNED)))`);
  params.push(at, at, at, key.id);
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
