import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { TradectlError } from './errors.js';
import { classifyMysqlError, isDeadlock } from './mysql-errors.js';
import { orderKey, type UnifiedOrder } from './order.js';
import {
  DETAIL_COLUMNS,
  detailRow,
  LINE_COLUMNS,
  lineRows,
  ORDER_COLUMNS,
  ORDER_KEY_COLUMNS,
  orderRow,
} from './order-rows.js';
import {
  type ChangedOrder,
  type LineTargets,
  resolveLineTargets,
  type StockIntentOptions,
  stockIntentStatements,
} from './order-stock/intent-writes.js';
import {
  deleteStaleLinesSql,
  hadDuplicates,
  readBackSql,
  type SqlStatement,
  versionedUpsert,
} from './order-store-sql.js';
import type { ShardLocation, ShardRouter } from './shard-router.js';
import type { ShardTransactionContext } from './shard-workers.js';
import { fromSqlDateTime, type Instant } from './time.js';

/**
 * One shard's part of an upsertBatch: ONE transaction, one multi-row statement per table.
 *
 *   1. orders: versioned INSERT ... ON DUPLICATE KEY UPDATE, new keys under their proposed ids;
 *   2. when any key already existed: read back id, stored version and previous version;
 *   3. order_details and order_lines: versioned upserts, only for orders whose version applied;
 *   4. lines a newer version no longer has: deleted;
 *   5. with stock intents on: the stock intents of orders inserted or moved forward
 *      (order-stock/intent-writes.ts), so an order version and its intents commit together.
 */

export type Outcome = 'inserted' | 'updated' | 'unchanged';

export interface PendingOrder {
  /** orderKey(order) */
  key: string;
  order: UnifiedOrder;
  /** A fresh id, used if the order turns out to be new. */
  proposedId: string;
}

export interface ShardWriteInput {
  router: ShardRouter;
  location: ShardLocation;
  /** Distinct keys, in key order (so concurrent writers of one shard lock rows in one order). */
  pending: readonly PendingOrder[];
  storedAt: Instant;
  maxRows: number;
  /** Write stock intents in the same transaction (off: none, and no extra statement). */
  stockIntents?: StockIntentOptions | undefined;
}

interface StoredVersion {
  id: string;
  version: Instant;
  /** The version before this transaction, from the details row; null for a new order. */
  previous: Instant | null;
}

/**
 * Writes one shard's orders in one transaction on `context.connection`, which is in
 * autocommit-off mode (shard-workers.ts): the first statement opens the transaction, COMMIT
 * ends it. Resolves the id and outcome of every key once committed.
 */
export async function writeShard(
  context: ShardTransactionContext,
  input: ShardWriteInput,
): Promise<Map<string, { id: string; outcome: Outcome }>> {
  const { connection } = context;
  // Before the transaction: a listing lookup that misses the cache never holds the row locks.
  const targets = await resolveLineTargets(input.stockIntents, input.pending, input.storedAt);
  // One retry for a deadlock: the victim's work was rolled back, and the second attempt
  // usually finds the other transaction committed. Anything else goes to the caller.
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await shardTransaction(connection, input, targets);
      await connection.query('COMMIT');
      return result;
    } catch (error) {
      const rolledBack = await rollback(connection);
      if (!rolledBack) context.markBroken();
      if (attempt === 1 && rolledBack && isDeadlock(error)) continue;
      throw classifyMysqlError(error, 'upsert orders', {
        database: input.location.databaseName,
        table: input.location.tableSuffix,
        orders: input.pending.length,
      });
    }
  }
}

async function shardTransaction(
  connection: PoolConnection,
  { router, location, pending, storedAt, maxRows, stockIntents }: ShardWriteInput,
  targets: LineTargets | undefined,
): Promise<Map<string, { id: string; outcome: Outcome }>> {
  const ordersTable = router.qualifiedTable(location, 'orders');
  const detailsTable = router.qualifiedTable(location, 'order_details');
  const linesTable = router.qualifiedTable(location, 'order_lines');
  let duplicates = false;
  for (const part of chunks(pending, maxRows)) {
    const rows = part.map((item) => orderRow(item.order, item.proposedId, storedAt));
    const header = await run(
      connection,
      versionedUpsert(ordersTable, ORDER_COLUMNS, ORDER_KEY_COLUMNS, rows, { reportDuplicateId: 'id' }),
    );
    duplicates ||= hadDuplicates(header, rows.length);
  }
  // No duplicate key at all: every row went in as new, under its proposed id (the common case
  // for new orders), and nothing needs reading. Otherwise read back; the upsert holds the row
  // locks of every key, so what is read stays true until COMMIT.
  const stored = duplicates
    ? await readBack(connection, ordersTable, detailsTable, pending, maxRows)
    : new Map<string, StoredVersion>(
        pending.map((item) => [
          item.key,
          { id: item.proposedId, version: item.order.updatedAt, previous: null },
        ]),
      );
  const result = new Map<string, { id: string; outcome: Outcome }>();
  const applied: { item: PendingOrder; id: string }[] = [];
  const movedForward: { id: string; version: Instant }[] = [];
  const changed: ChangedOrder[] = [];
  for (const item of pending) {
    const found = stored.get(item.key);
    if (!found) {
      // ON DUPLICATE KEY also fires on the primary key: a reused id would have updated another
      // order's row instead of inserting this one. Only duplicate Snowflake worker ids do that.
      throw new TradectlError('TRADECTL_ID_COLLISION', `order ${item.key} was not stored: id collision?`, {
        kind: 'internal',
        details: { proposedId: item.proposedId, database: location.databaseName },
        hint: 'check that every running replica has its own Snowflake worker id',
      });
    }
    // GREATEST(old, incoming) equals the incoming version exactly when it was applied (>=).
    const wasApplied = found.version === item.order.updatedAt;
    let outcome: Outcome = 'unchanged';
    // A caller that chooses ids (the migration's layout writer) proposes the id an existing order
    // already has: only an order without a previous version is new. Counting an existing one as
    // inserted would skip its release intents and its stale lines.
    if (found.id === item.proposedId && found.previous === null) outcome = 'inserted';
    else if (wasApplied && found.previous !== item.order.updatedAt) {
      outcome = 'updated';
      movedForward.push({ id: found.id, version: item.order.updatedAt });
    }
    if (wasApplied) applied.push({ item, id: found.id });
    if (outcome !== 'unchanged') changed.push({ id: found.id, order: item.order, outcome });
    result.set(item.key, { id: found.id, outcome });
  }
  // Older versions were ignored by the orders upsert; their details and lines are not sent at
  // all, or a late replay could bring back lines a newer version had removed.
  for (const part of chunks(applied, maxRows)) {
    const rows = part.map(({ item, id }) => detailRow(item.order, id));
    await run(connection, versionedUpsert(detailsTable, DETAIL_COLUMNS, ['order_id'], rows));
  }
  const lines = applied.flatMap(({ item, id }) => lineRows(item.order, id));
  for (const part of chunks(lines, maxRows)) {
    await run(connection, versionedUpsert(linesTable, LINE_COLUMNS, ['order_id', 'line_id'], part));
  }
  for (const part of chunks(movedForward, maxRows)) {
    await run(connection, deleteStaleLinesSql(linesTable, part));
  }
  if (stockIntents && changed.length > 0) {
    const options = { ...stockIntents, now: storedAt, maxRows, targets };
    for (const statement of stockIntentStatements(router, location.database, changed, options)) {
      await run(connection, statement);
    }
  }
  return result;
}

async function readBack(
  connection: PoolConnection,
  ordersTable: string,
  detailsTable: string,
  pending: readonly PendingOrder[],
  maxRows: number,
): Promise<Map<string, StoredVersion>> {
  const stored = new Map<string, StoredVersion>();
  for (const part of chunks(pending, maxRows)) {
    const keys = part.map((item) => item.order);
    const [rows] = await connection.query<RowDataPacket[]>(readBackSql(ordersTable, detailsTable, keys));
    for (const row of rows) {
      const key = orderKey({
        platform: row.platform,
        account: row.account,
        platformOrderId: row.platform_order_id,
      });
      stored.set(key, {
        id: String(row.id),
        version: fromSqlDateTime(String(row.updated_at)),
        previous: row.previous_version === null ? null : fromSqlDateTime(String(row.previous_version)),
      });
    }
  }
  return stored;
}

/**
 * Sends one statement. `query` (values escaped by the driver) rather than `execute`: each
 * multi-row statement has its own shape (table x row count), so a prepared statement would be
 * prepared, used about once and kept per connection (the server caps them at 16,382). Measured
 * for orders rows over 64 tables, even with shapes repeating: query 9-10k / 33-34k / 28-34k
 * rows/s at 3 / 40 / 500 rows per statement, execute 8-10k / 23-29k / 14-35k.
 */
export async function run(target: Pick<Pool, 'query'>, statement: SqlStatement): Promise<ResultSetHeader> {
  const [header] = await target.query<ResultSetHeader>(statement.sql, statement.values);
  return header;
}

async function rollback(connection: PoolConnection): Promise<boolean> {
  try {
    await connection.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}

/** The UpsertResult (order-store.ts) of a batch's per-key outcomes. */
export function upsertResultOf(outcomes: ReadonlyMap<string, { id: string; outcome: Outcome }>): {
  inserted: number;
  updated: number;
  unchanged: number;
  ids: Map<string, string>;
  outcomes: Map<string, Outcome>;
} {
  const result = {
    inserted: 0,
    updated: 0,
    unchanged: 0,
    ids: new Map<string, string>(),
    outcomes: new Map<string, Outcome>(),
  };
  for (const [key, { id, outcome }] of outcomes) {
    result[outcome]++;
    result.ids.set(key, id);
    result.outcomes.set(key, outcome);
  }
  return result;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}
