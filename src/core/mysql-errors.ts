import type { Pool, RowDataPacket } from 'mysql2/promise';
import { TradectlError } from './errors.js';
import { NOT_SENT_CODES } from './network-codes.js';

/**
 * Maps a mysql2 error to the TradectlError the rest of the system acts on, by a table of server
 * error numbers and client error codes. What may succeed when tried again (deadlock, lock wait
 * timeout, a lost or refused connection) is `transient` and retriable: the caller's retry policy
 * decides. Missing shard tables are a `config` problem with the command that fixes it.
 * Anything else is not retriable: the same statement would fail the same way.
 */
const TRANSIENT_ERRNOS: Readonly<Record<number, string>> = {
  1205: 'TRADECTL_DB_LOCK_TIMEOUT',
  1213: 'TRADECTL_DB_DEADLOCK',
  1040: 'TRADECTL_DB_UNAVAILABLE', // too many connections
  1053: 'TRADECTL_DB_UNAVAILABLE', // server shutdown in progress
  1927: 'TRADECTL_DB_UNAVAILABLE', // MariaDB: connection killed
  2006: 'TRADECTL_DB_UNAVAILABLE', // server has gone away
  2013: 'TRADECTL_DB_UNAVAILABLE', // lost connection during query
  4031: 'TRADECTL_DB_UNAVAILABLE', // MySQL 8: disconnected by the server (inactivity)
};

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_CLOSED',
]);

// Unknown column: a table created by an older version that `shards init` has not upgraded yet.
const MISSING_SCHEMA_ERRNOS = new Set([
  1049 /* unknown database */, 1146 /* no such table */, 1054 /* unknown column */,
]);

/** Server error number of a mysql2 error, if it has one. */
export function mysqlErrno(error: unknown): number | undefined {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? errno : undefined;
}

export function isDeadlock(error: unknown): boolean {
  return mysqlErrno(error) === 1213;
}

/**
 * Wraps `error` (from mysql2, during `operation`) in a TradectlError; TradectlErrors pass through.
 * `details` is context for logs (database, table count); it must never carry values or DSNs.
 */
export function classifyMysqlError(
  error: unknown,
  operation: string,
  details: Record<string, unknown> = {},
): TradectlError {
  if (error instanceof TradectlError) return error;
  const errno = mysqlErrno(error);
  const code = (error as { code?: unknown } | null)?.code;
  const message = `${operation}: ${(error as Error | null)?.message ?? String(error)}`;
  const context = { ...details, errno, mysqlCode: typeof code === 'string' ? code : undefined };
  const transientCode = errno === undefined ? undefined : TRANSIENT_ERRNOS[errno];
  if (transientCode) {
    return new TradectlError(transientCode, message, { kind: 'transient', cause: error, details: context });
  }
  if (
    (typeof code === 'string' && CONNECTION_CODES.has(code)) ||
    (error as { fatal?: unknown } | null)?.fatal === true
  ) {
    return new TradectlError('TRADECTL_DB_UNAVAILABLE', message, {
      kind: 'transient',
      cause: error,
      details: context,
      ...(typeof code === 'string' && NOT_SENT_CODES.has(code)
        ? { hint: 'nothing answered: is MySQL up, and is mysql.url (TRADECTL_MYSQL_URL) right?' }
        : {}),
    });
  }
  if (errno !== undefined && MISSING_SCHEMA_ERRNOS.has(errno)) {
    return new TradectlError('TRADECTL_SHARDS_MISSING', message, {
      kind: 'config',
      cause: error,
      details: context,
      hint: 'create (or upgrade) the shard databases and tables with: tradectl shards init',
    });
  }
  return new TradectlError('TRADECTL_DB_ERROR', message, {
    kind: 'internal',
    cause: error,
    details: context,
  });
}

/** Runs one statement on `pool` and returns its rows; a failure is classified as `operation`. */
export async function queryRows(
  pool: Pool,
  sql: string,
  values: unknown[],
  operation: string,
): Promise<RowDataPacket[]> {
  try {
    const [rows] = await pool.query<RowDataPacket[]>(sql, values);
    return rows;
  } catch (error) {
    throw classifyMysqlError(error, operation);
  }
}
