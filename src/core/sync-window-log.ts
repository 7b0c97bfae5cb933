import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlPools } from './mysql-pools.js';
import type { ShardRouter } from './shard-router.js';
import { fromSqlDateTime, type Instant, toSqlDateTime } from './time.js';

/**
 * The audit trail of incremental sync: one row per finished window chunk in
 * `<prefix>_meta.sync_windows` (when, which range, how many orders, under which fencing token),
 * read by `tradectl status` for lag and last-run figures. Written after the chunk's checkpoint
 * write, so a row always describes a chunk that was durably handed off.
 */

/** DDL of the sync tables in the meta database; `initShards` runs it with the other meta tables. */
export function syncTablesDdl(router: ShardRouter): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS \`${router.metaDatabaseName}\`.\`sync_windows\` (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  platform VARCHAR(16) NOT NULL,
  account VARCHAR(64) NOT NULL,
  window_from DATETIME(3) NOT NULL,
  window_to DATETIME(3) NOT NULL,
  orders INT UNSIGNED NOT NULL,
  rejected INT UNSIGNED NOT NULL,
  pages INT UNSIGNED NOT NULL,
  requests INT UNSIGNED NOT NULL,
  last_updated_at DATETIME(3) NULL,
  last_order_id VARCHAR(64) NULL,
  checkpoint_moved TINYINT(1) NOT NULL,
  fencing_token BIGINT UNSIGNED NOT NULL,
  via VARCHAR(8) NOT NULL,
  started_at DATETIME(3) NOT NULL,
  finished_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  KEY idx_account_finished (platform, account, finished_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  ];
}

export interface SyncWindowRecord {
  platform: string;
  account: string;
  from: Instant;
  to: Instant;
  /** Orders handed off (after the adapter mapped them). */
  orders: number;
  /** Records the adapter could not map (sent to the DLQ). */
  rejected: number;
  pages: number;
  /** HTTP requests the chunk took (retries and token refreshes included). */
  requests: number;
  /** The highest (update time, platform id) seen in the chunk; null for an empty chunk. */
  lastUpdatedAt: Instant | null;
  lastOrderId: string | null;
  /** False when the chunk re-read a range the checkpoint had already passed. */
  checkpointMoved: boolean;
  fencingToken: number;
  via: 'kafka' | 'inline';
  startedAt: Instant;
  finishedAt: Instant;
}

export interface SyncWindowEntry extends SyncWindowRecord {
  id: string;
}

export interface SyncWindowLog {
  record(entry: SyncWindowRecord): Promise<void>;
  /** Newest first; optionally of one account. Default limit 50, at most 1000. */
  list(options?: { platform?: string; account?: string; limit?: number }): Promise<SyncWindowEntry[]>;
  /** The account's most recently finished window (an index lookup, for `tradectl status`). */
  latest(platform: string, account: string): Promise<SyncWindowEntry | null>;
}

const COLUMNS = [
  'platform',
  'account',
  'window_from',
  'window_to',
  'orders',
  'rejected',
  'pages',
  'requests',
  'last_updated_at',
  'last_order_id',
  'checkpoint_moved',
  'fencing_token',
  'via',
  'started_at',
  'finished_at',
] as const;

export function createSyncWindowLog(options: { pools: MysqlPools; router: ShardRouter }): SyncWindowLog {
  const table = `\`${options.router.metaDatabaseName}\`.\`sync_windows\``;
  const query = async <T extends RowDataPacket[] | ResultSetHeader>(sql: string, values: unknown[]) => {
    try {
      const [result] = await options.pools.meta().query<T>(sql, values);
      return result;
    } catch (error) {
      throw classifyMysqlError(error, 'sync window log');
    }
  };
  const sqlTime = (instant: Instant | null) => (instant === null ? null : toSqlDateTime(instant));

  return {
    async record(entry) {
      await query<ResultSetHeader>(
        `INSERT INTO ${table} (${COLUMNS.map((column) => `\`${column}\``).join(', ')}) ` +
          `VALUES (${COLUMNS.map(() => '?').join(', ')})`,
        [
          entry.platform,
          entry.account,
          toSqlDateTime(entry.from),
          toSqlDateTime(entry.to),
          entry.orders,
          entry.rejected,
          entry.pages,
          entry.requests,
          sqlTime(entry.lastUpdatedAt),
          entry.lastOrderId?.slice(0, 64) ?? null,
          entry.checkpointMoved ? 1 : 0,
          entry.fencingToken,
          entry.via,
          toSqlDateTime(entry.startedAt),
          toSqlDateTime(entry.finishedAt),
        ],
      );
    },

    async list(listOptions = {}) {
      const conditions: string[] = [];
      const values: unknown[] = [];
      if (listOptions.platform !== undefined) {
        conditions.push('`platform` = ?');
        values.push(listOptions.platform);
      }
      if (listOptions.account !== undefined) {
        conditions.push('`account` = ?');
        values.push(listOptions.account);
      }
      const limit = Math.min(Math.max(Math.trunc(listOptions.limit ?? 50), 1), 1000);
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')} ` : '';
      const rows = await query<RowDataPacket[]>(
        `SELECT \`id\`, ${COLUMNS.map((column) => `\`${column}\``).join(', ')} FROM ${table} ${where}` +
          'ORDER BY `id` DESC LIMIT ?',
        [...values, limit],
      );
      return rows.map(toEntry);
    },

    async latest(platform, account) {
      // By finished_at, the index's own order: `list` sorts an account's whole history by id.
      const rows = await query<RowDataPacket[]>(
        `SELECT \`id\`, ${COLUMNS.map((column) => `\`${column}\``).join(', ')} FROM ${table} ` +
          'WHERE `platform` = ? AND `account` = ? ORDER BY `finished_at` DESC, `id` DESC LIMIT 1',
        [platform, account],
      );
      return rows[0] === undefined ? null : toEntry(rows[0]);
    },
  };
}

function toEntry(row: RowDataPacket): SyncWindowEntry {
  const time = (value: unknown) => (value === null ? null : fromSqlDateTime(String(value)));
  return {
    id: String(row.id),
    platform: String(row.platform),
    account: String(row.account),
    from: fromSqlDateTime(String(row.window_from)),
    to: fromSqlDateTime(String(row.window_to)),
    orders: Number(row.orders),
    rejected: Number(row.rejected),
    pages: Number(row.pages),
    requests: Number(row.requests),
    lastUpdatedAt: time(row.last_updated_at),
    lastOrderId: (row.last_order_id as string | null) ?? null,
    checkpointMoved: Number(row.checkpoint_moved) === 1,
    fencingToken: Number(row.fencing_token),
    via: row.via === 'kafka' ? 'kafka' : 'inline',
    startedAt: fromSqlDateTime(String(row.started_at)),
    finishedAt: fromSqlDateTime(String(row.finished_at)),
  };
}
