import type { RowDataPacket } from 'mysql2/promise';
import type { MessageSource } from '../bus/dlq.js';
import { classifyMysqlError } from '../mysql-errors.js';
import type { MysqlPools } from '../mysql-pools.js';
import { orderKey } from '../order.js';
import type { Platform } from '../platforms.js';
import type { ShardRouter } from '../shard-router.js';
import { fromSqlDateTime, type Instant, toSqlDateTime } from '../time.js';

/**
 * The database side of `tradectl trace`: the sync windows that covered an update time, the dead
 * letter entries of one order, and the verdict that ties them to the stored row and the
 * platform's answer. The windows log (`sync_windows`) keeps counts per window, not order ids,
 * so "fetched" means: a window that covered the order's update time finished (and moved the
 * checkpoint) without losing any order it listed.
 */

export interface CoveringWindow {
  id: string;
  from: Instant;
  to: Instant;
  orders: number;
  rejected: number;
  checkpointMoved: boolean;
  via: string;
  finishedAt: Instant;
}

/** Windows of the account whose range holds `at`, newest first (at most `limit`), and how many there are. */
export async function windowsCovering(input: {
  pools: MysqlPools;
  router: ShardRouter;
  platform: string;
  account: string;
  at: Instant;
  /** Default 20. */
  limit?: number;
}): Promise<{ total: number; windows: CoveringWindow[] }> {
  const table = `\`${input.router.metaDatabaseName}\`.\`sync_windows\``;
  const where = 'WHERE `platform` = ? AND `account` = ? AND `window_from` <= ? AND `window_to` >= ?';
  const at = toSqlDateTime(input.at);
  const values = [input.platform, input.account, at, at];
  try {
    const [[count]] = await input.pools
      .meta()
      .query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table} ${where}`, values);
    const [rows] = await input.pools
      .meta()
      .query<RowDataPacket[]>(
        'SELECT `id`, `window_from`, `window_to`, `orders`, `rejected`, `checkpoint_moved`, `via`, ' +
          `\`finished_at\` FROM ${table} ${where} ORDER BY \`id\` DESC LIMIT ?`,
        [...values, input.limit ?? 20],
      );
    return {
      total: Number(count?.n ?? 0),
      windows: rows.map((row) => ({
        id: String(row.id),
        from: fromSqlDateTime(String(row.window_from)),
        to: fromSqlDateTime(String(row.window_to)),
        orders: Number(row.orders),
        rejected: Number(row.rejected),
        checkpointMoved: Number(row.checkpoint_moved) === 1,
        via: String(row.via),
        finishedAt: fromSqlDateTime(String(row.finished_at)),
      })),
    };
  } catch (error) {
    throw classifyMysqlError(error, 'read the sync windows');
  }
}

export interface TracedDeadLetter {
  id: string;
  reason: string;
  /** Where the message was read from (Kafka: its offset); null for the inline bus or the adapter. */
  source: MessageSource | null;
  createdAt: Instant;
  lastSeenAt: Instant;
  seenCount: number;
  replayedAt: Instant | null;
}

/** Dead letter entries whose message key is this order's (`platform:account:platformOrderId`). */
export async function deadLettersOf(input: {
  pools: MysqlPools;
  router: ShardRouter;
  platform: Platform;
  account: string;
  platformOrderId: string;
  /** Default 20. */
  limit?: number;
}): Promise<TracedDeadLetter[]> {
  const table = `\`${input.router.metaDatabaseName}\`.\`dlq_entries\``;
  try {
    const [rows] = await input.pools
      .meta()
      .query<RowDataPacket[]>(
        'SELECT `id`, `reason`, `source_topic`, `source_partition`, `source_offset`, `created_at`, ' +
          `\`last_seen_at\`, \`seen_count\`, \`replayed_at\` FROM ${table} ` +
          'WHERE `platform` = ? AND `account` = ? AND `message_key` = ? ORDER BY `id` DESC LIMIT ?',
        [input.platform, input.account, orderKey(input), input.limit ?? 20],
      );
    return rows.map((row) => ({
      id: String(row.id),
      reason: String(row.reason),
      source:
        row.source_topic === null
          ? null
          : {
              topic: String(row.source_topic),
              partition: Number(row.source_partition),
              offset: String(row.source_offset),
            },
      createdAt: fromSqlDateTime(String(row.created_at)),
      lastSeenAt: fromSqlDateTime(String(row.last_seen_at)),
      seenCount: Number(row.seen_count),
      replayedAt: row.replayed_at === null ? null : fromSqlDateTime(String(row.replayed_at)),
    }));
  } catch (error) {
    throw classifyMysqlError(error, 'read the dead letter queue');
  }
}

export type TraceVerdict =
  /** Stored with the platform's latest version. */
  | 'current'
  /** Stored; the platform was not asked (offline) or could not answer. */
  | 'stored'
  /** Stored, but the platform no longer returns it. */
  | 'stored-not-on-platform'
  | 'stale'
  | 'missing'
  /** The platform's version is in the dead letter queue. */
  | 'quarantined'
  /** Its update time is after the checkpoint: the next sync fetches it. */
  | 'not-synced-yet'
  /** Neither side knows it. */
  | 'unknown';

export interface VerdictInput {
  stored: { updatedAt: Instant } | null;
  /** The platform's answer: its version, null (no such order), or undefined (not asked / failed). */
  platform: { updatedAt: Instant } | null | undefined;
  checkpoint: Instant | null;
  /** Windows that covered the platform's update time. */
  windows: number;
  lastWindowFinishedAt: Instant | null;
  /** Dead letter entries not replayed yet. */
  openDeadLetters: readonly { reason: string }[];
}

/** The verdict and one sentence an operator can act on. Pure. */
export function traceVerdict(input: VerdictInput): { verdict: TraceVerdict; explanation: string } {
  const { stored, platform } = input;
  if (stored !== null) {
    if (platform === undefined) {
      return {
        verdict: 'stored',
        explanation: `stored at version ${stored.updatedAt}; the platform was not asked`,
      };
    }
    if (platform === null) {
      return {
        verdict: 'stored-not-on-platform',
        explanation: 'stored, but the platform does not return it (deleted or archived there)',
      };
    }
    if (stored.updatedAt >= platform.updatedAt) {
      return {
        verdict: 'current',
        explanation: `stored with the platform's latest version (${platform.updatedAt})`,
      };
    }
  }
  if (platform === null)
    return { verdict: 'unknown', explanation: 'neither the database nor the platform has it' };
  if (platform === undefined) {
    return {
      verdict: 'missing',
      explanation: 'not in the database; ask the platform (without --offline) to learn why',
    };
  }
  const what =
    stored === null ? 'not in the database' : `the database has an older version (${stored.updatedAt})`;
  const dead = input.openDeadLetters[0];
  if (dead !== undefined) {
    return { verdict: 'quarantined', explanation: `${what}: the dead letter queue holds it: ${dead.reason}` };
  }
  if (input.checkpoint === null || platform.updatedAt > input.checkpoint) {
    return {
      verdict: 'not-synced-yet',
      explanation:
        `${what}: its update time ${platform.updatedAt} is after the checkpoint ` +
        `(${input.checkpoint ?? 'none yet'}); the next sync fetches it`,
    };
  }
  const verdict = stored === null ? 'missing' : 'stale';
  if (input.windows === 0) {
    return {
      verdict,
      explanation:
        `${what}, and no recorded sync window covered its update time ${platform.updatedAt} ` +
        '(synced before the window log, or a late-visible update the next lookback catches); ' +
        'tradectl reconcile orders --fix re-syncs it',
    };
  }
  return {
    verdict,
    explanation:
      `${what}, although ${input.windows} sync window(s) covered its update time ${platform.updatedAt} ` +
      `(last finished ${input.lastWindowFinishedAt}): deleted or overwritten since, or it became ` +
      'visible on the platform late; tradectl reconcile orders --fix re-syncs it',
  };
}
