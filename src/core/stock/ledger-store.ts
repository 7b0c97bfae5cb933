import type { Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { classifyMysqlError, isDeadlock } from '../mysql-errors.js';
import type { ShardRouter } from '../shard-router.js';
import { fromEpochMs, type Instant, toSqlDateTime } from '../time.js';
import {
  inventoryChanges,
  type LedgerEntry,
  type LedgerRow,
  ledgerRows,
  type ParsedEntry,
} from './ledger-entry.js';
import { stockTable } from './ledger-schema.js';

/**
 * Writes one drained batch of a tenant's stream to MySQL in one transaction: the ledger rows,
 * the inventory they move, and the rejects. Idempotent: a row whose (tenant, operation id, kind,
 * sku) is already in the ledger is skipped, and only rows inserted by this transaction move
 * inventory, so a batch applied twice (a crash between the commit and the XACK) counts once.
 */

export type RejectedEntry = Extract<ParsedEntry, { ok: false }>;

export interface LedgerApplyResult {
  /** Ledger rows inserted (changes applied to inventory now). */
  inserted: number;
  /** Rows already in the ledger (a redelivery): skipped. */
  duplicates: number;
  rejected: number;
}

// Rows per INSERT statement: keeps statements far below max_allowed_packet.
const ROWS_PER_STATEMENT = 1000;

export async function applyLedgerBatch(input: {
  pool: Pool;
  router: ShardRouter;
  tenant: string;
  entries: readonly LedgerEntry[];
  rejects: readonly RejectedEntry[];
  /** Stamped into created_at. */
  now: Instant;
}): Promise<LedgerApplyResult> {
  const rows = ledgerRows(input.entries);
  if (rows.length === 0 && input.rejects.length === 0) return { inserted: 0, duplicates: 0, rejected: 0 };
  let connection: PoolConnection;
  try {
    connection = await input.pool.getConnection();
  } catch (error) {
    throw classifyMysqlError(error, 'connect for the stock ledger');
  }
  let healthy = true;
  try {
    // One retry for a deadlock (two drains applying overlapping redeliveries): the victim was
    // rolled back, and the retry finds the other transaction committed.
    for (let attempt = 1; ; attempt++) {
      try {
        return await transaction(connection, input, rows);
      } catch (error) {
        healthy = await rollback(connection);
        if (attempt === 1 && healthy && isDeadlock(error)) continue;
        throw classifyMysqlError(error, 'apply the stock ledger', {
          tenant: input.tenant,
          rows: rows.length,
        });
      }
    }
  } finally {
    // A connection whose rollback failed may still hold a transaction: never reuse it.
    if (healthy) connection.release();
    else connection.destroy();
  }
}

async function transaction(
  connection: PoolConnection,
  input: Parameters<typeof applyLedgerBatch>[0],
  rows: readonly LedgerRow[],
): Promise<LedgerApplyResult> {
  const ledger = stockTable(input.router, 'stock_ledger');
  const createdAt = toSqlDateTime(input.now);
  const values = (row: LedgerRow) => [
    input.tenant,
    row.operationId,
    row.kind,
    row.sku,
    row.delta,
    row.reservedDelta,
    row.availableAfter,
    row.reservedAfter,
    row.version,
    row.streamId,
    toSqlDateTime(fromEpochMs(row.occurredAtMs)),
    createdAt,
  ];
  const insert =
    `INSERT IGNORE INTO ${ledger} (tenant, operation_id, kind, sku, delta, reserved_delta, available_after, ` +
    'reserved_after, version, stream_id, occurred_at, created_at) VALUES ?';

  await connection.query('START TRANSACTION');
  // Fast path: one multi-row INSERT IGNORE. If every row went in, all are new. Otherwise some
  // were there already and the statement cannot say which: roll back and insert row by row.
  let fresh: readonly LedgerRow[] = rows;
  let inserted = 0;
  for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(at, at + ROWS_PER_STATEMENT);
    const [header] = await connection.query<ResultSetHeader>(insert, [chunk.map(values)]);
    inserted += header.affectedRows;
  }
  if (inserted !== rows.length) {
    await connection.query('ROLLBACK');
    await connection.query('START TRANSACTION');
    const kept: LedgerRow[] = [];
    for (const row of rows) {
      const [header] = await connection.query<ResultSetHeader>(insert, [[values(row)]]);
      if (header.affectedRows === 1) kept.push(row);
    }
    fresh = kept;
  }

  const changes = inventoryChanges(fresh);
  if (changes.length > 0) {
    await connection.query(
      `INSERT INTO ${stockTable(input.router, 'inventory')} (tenant, sku, on_hand, reserved, version, updated_at) ` +
        'VALUES ? ON DUPLICATE KEY UPDATE on_hand = on_hand + VALUES(on_hand), ' +
        'reserved = reserved + VALUES(reserved), version = GREATEST(version, VALUES(version)), ' +
        'updated_at = GREATEST(updated_at, VALUES(updated_at))',
      [
        changes.map((change) => [
          input.tenant,
          change.sku,
          change.onHandDelta,
          change.reservedDelta,
          change.version,
          toSqlDateTime(fromEpochMs(change.lastOccurredAtMs)),
        ]),
      ],
    );
  }
  if (input.rejects.length > 0) {
    await connection.query(
      `INSERT IGNORE INTO ${stockTable(input.router, 'stock_ledger_rejects')} (tenant, stream_id, reason, fields, created_at) VALUES ?`,
      [
        input.rejects.map((reject) => [
          input.tenant,
          reject.streamId,
          reject.reason.slice(0, 500),
          JSON.stringify(reject.fields),
          createdAt,
        ]),
      ],
    );
  }
  await connection.query('COMMIT');
  return { inserted: fresh.length, duplicates: rows.length - fresh.length, rejected: input.rejects.length };
}

async function rollback(connection: PoolConnection): Promise<boolean> {
  try {
    await connection.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
