import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { TradectlError, ValidationError } from './errors.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlPools } from './mysql-pools.js';
import type { ShardRouter } from './shard-router.js';
import { assertInstant, fromSqlDateTime, type Instant, toSqlDateTime } from './time.js';

/**
 * Where each account's incremental sync stands, in `<prefix>_meta.sync_checkpoints`.
 *
 * Writes are fenced: the sync lease (Redis) hands its holder a token that grows with every new
 * lease, and a checkpoint only moves for a token at least as new as the one that wrote it last.
 * A replica that lost its lease while paused (GC, network) and wakes up with an old token can
 * therefore never move the cursor: it gets TRADECTL_FENCED and must stop.
 */
export interface Checkpoint {
  /** Orders updated up to this time (exclusive or inclusive is the adapter's contract). */
  cursorTime: Instant;
  /** Platform cursor within cursorTime (page token, last order id); '' when not needed. */
  cursorId: string;
  fencingToken: number;
}

export interface CheckpointKey {
  platform: string;
  account: string;
}

export interface CheckpointRecord extends Checkpoint, CheckpointKey {
  /** When the checkpoint was last written (store clock). */
  updatedAt: Instant;
}

export interface CheckpointStore {
  get(platform: string, account: string): Promise<Checkpoint | null>;
  /**
   * Moves the checkpoint when `fencingToken` >= the stored token (in one SQL statement).
   * Resolves `{ applied: true }`; a stale token throws TradectlError TRADECTL_FENCED (not retriable).
   */
  advance(input: CheckpointKey & Checkpoint): Promise<{ applied: true }>;
  /** Every checkpoint, by platform and account, for `tradectl status`. */
  list(): Promise<CheckpointRecord[]>;
}

export function createCheckpointStore(options: {
  pools: MysqlPools;
  router: ShardRouter;
  /** The time stamped into `updated_at`. Default: the system clock. */
  clock?: () => Instant;
}): CheckpointStore {
  const { pools } = options;
  const clock = options.clock ?? (() => new Date().toISOString());
  const table = `\`${options.router.metaDatabaseName}\`.\`sync_checkpoints\``;

  async function get(platform: string, account: string): Promise<Checkpoint | null> {
    const [rows] = await query<RowDataPacket[]>(
      pools,
      `SELECT \`cursor_time\`, \`cursor_id\`, \`fencing_token\` FROM ${table} WHERE \`platform\` = ? AND \`account\` = ?`,
      [platform, account],
    );
    const row = rows[0];
    return row === undefined ? null : toCheckpoint(row);
  }

  return {
    get,

    async advance(input) {
      const cursorTime = assertInstant(input.cursorTime, 'cursorTime');
      if (!Number.isSafeInteger(input.fencingToken) || input.fencingToken < 0) {
        throw new ValidationError('invalid checkpoint', [
          { path: 'fencingToken', message: 'expected a non-negative integer' },
        ]);
      }
      const newer = 'VALUES(`fencing_token`) >= `fencing_token`';
      const [header] = await query<ResultSetHeader>(
        pools,
        `INSERT INTO ${table} (\`platform\`, \`account\`, \`cursor_time\`, \`cursor_id\`, \`fencing_token\`, \`updated_at\`) ` +
          'VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE ' +
          `\`cursor_time\` = IF(${newer}, VALUES(\`cursor_time\`), \`cursor_time\`), ` +
          `\`cursor_id\` = IF(${newer}, VALUES(\`cursor_id\`), \`cursor_id\`), ` +
          `\`updated_at\` = IF(${newer}, VALUES(\`updated_at\`), \`updated_at\`), ` +
          // Last, so the conditions above read the stored token.
          '`fencing_token` = GREATEST(`fencing_token`, VALUES(`fencing_token`))',
        [
          input.platform,
          input.account,
          toSqlDateTime(cursorTime),
          input.cursorId,
          input.fencingToken,
          toSqlDateTime(clock()),
        ],
      );
      // 2 = an existing row changed: only an applied write changes anything. 1 = inserted, or
      // found and left as it was (the pools report found rows), which is either an idempotent
      // repeat or a fenced write: the stored token tells which.
      if (header.affectedRows === 2) return { applied: true };
      const stored = await get(input.platform, input.account);
      if (stored !== null && stored.fencingToken > input.fencingToken) {
        throw new TradectlError(
          'TRADECTL_FENCED',
          `checkpoint ${input.platform}:${input.account} is held by fencing token ${stored.fencingToken}, ` +
            `not ${input.fencingToken}: another replica took over this account`,
          {
            // Not retriable and not a breaker failure: the write can never succeed with this token.
            kind: 'data',
            details: {
              platform: input.platform,
              account: input.account,
              token: input.fencingToken,
              storedToken: stored.fencingToken,
            },
            hint: 'this replica lost the sync lease; it stops syncing the account',
          },
        );
      }
      return { applied: true };
    },

    async list() {
      const [rows] = await query<RowDataPacket[]>(
        pools,
        `SELECT \`platform\`, \`account\`, \`cursor_time\`, \`cursor_id\`, \`fencing_token\`, \`updated_at\` FROM ${table} ` +
          'ORDER BY `platform`, `account`',
        [],
      );
      return rows.map((row) => ({
        platform: String(row.platform),
        account: String(row.account),
        ...toCheckpoint(row),
        updatedAt: fromSqlDateTime(String(row.updated_at)),
      }));
    },
  };
}

function toCheckpoint(row: RowDataPacket): Checkpoint {
  return {
    cursorTime: fromSqlDateTime(String(row.cursor_time)),
    cursorId: String(row.cursor_id),
    fencingToken: Number(row.fencing_token),
  };
}

async function query<T extends RowDataPacket[] | ResultSetHeader>(
  pools: MysqlPools,
  sql: string,
  values: unknown[],
): Promise<[T, unknown]> {
  try {
    return await pools.meta().query<T>(sql, values);
  } catch (error) {
    throw classifyMysqlError(error, 'sync checkpoint');
  }
}
