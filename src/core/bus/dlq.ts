import { createHash } from 'node:crypto';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ValidationError } from '../errors.js';
import { classifyMysqlError } from '../mysql-errors.js';
import type { MysqlPools } from '../mysql-pools.js';
import { isPlatform } from '../platforms.js';
import type { ShardRouter } from '../shard-router.js';
import { fromSqlDateTime, type Instant, toSqlDateTime } from '../time.js';

/**
 * The dead letter queue: messages that can never be stored, kept with the reason and their
 * original bytes until an operator fixes the cause and replays them (`tradectl dlq`).
 *
 * The durable copy is the table `<prefix>_meta.dlq_entries` (both buses); KafkaBus also
 * produces each entry to the dead letter topic so Kafka-native tooling sees it. `put` resolves
 * only once the rows are written, and the bus acknowledges a poison message's offset only after
 * that, so a crash in between redelivers the message and puts it again: entries are
 * deduplicated by their source (topic, partition, offset), or, without one (inline bus), by
 * key and bytes. A repeat refreshes the reason, counts the sighting and re-opens a replayed
 * entry (the replay failed again). A replayed message carries the id of its entry (`replayOf`,
 * a Kafka header), so a replay that fails again lands in that entry whatever offset it had.
 */
export type DeadLetterReason = string;

/** Where a message was read from (Kafka). */
export interface MessageSource {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: a decimal string. */
  offset: string;
}

export interface DeadLetterInput {
  /** The message key as received (null when the message had none). */
  key: string | null;
  reason: DeadLetterReason;
  original: Buffer;
  source: MessageSource | null;
  /** Known when the envelope decoded, or taken from a `platform:account:id` key. */
  platform?: string | null;
  account?: string | null;
  /**
   * The id of the entry this message is a replay of (`tradectl dlq replay`): a replay that fails
   * again updates that entry (seen count, reason, re-opened) instead of adding one for its new
   * source offset.
   */
  replayOf?: string | null | undefined;
}

export interface DeadLetterEntry {
  /** Decimal string (BIGINT). */
  id: string;
  key: string | null;
  reason: DeadLetterReason;
  source: MessageSource | null;
  platform: string | null;
  account: string | null;
  /** Length of the original bytes. */
  size: number;
  createdAt: Instant;
  /** Last time the same message was quarantined (a redelivery, or a replay that failed again). */
  lastSeenAt: Instant;
  seenCount: number;
  replayedAt: Instant | null;
}

export interface DeadLetterEntryWithBytes extends DeadLetterEntry {
  original: Buffer;
}

export interface ListDeadLettersOptions {
  /** Default 50, at most 1000. */
  limit?: number;
  /** Keyset pagination: entries with an id greater than this. */
  after?: string;
  /** `open` (not replayed), `replayed` or `all` (default). */
  state?: 'open' | 'replayed' | 'all';
  /** Only entries of this platform / account (as taken from the envelope or the key). */
  platform?: string | undefined;
  account?: string | undefined;
}

export interface DeadLetterQueue {
  /** Writes every entry durably; all or a retriable error (a retry is deduplicated). */
  put(entries: readonly DeadLetterInput[]): Promise<void>;
  /** Entries by ascending id, without their bytes. */
  list(options?: ListDeadLettersOptions): Promise<DeadLetterEntry[]>;
  get(id: string): Promise<DeadLetterEntryWithBytes | null>;
  /**
   * Records that the entry was published again. False when there is no such entry, or when
   * `ifSeenCount` is given and the entry was quarantined again since it was read (the replay
   * failed already, inline): it stays open.
   */
  markReplayed(id: string, options?: { ifSeenCount?: number }): Promise<boolean>;
}

/** Open (not replayed) entries of one platform account; null identity: not known. */
export interface DeadLetterOpenCount {
  platform: string | null;
  account: string | null;
  open: number;
}

/** The MySQL DLQ also counts, for `tradectl status`. */
export interface DeadLetterStore extends DeadLetterQueue {
  /** Open entries per platform and account (one grouped query). */
  openCounts(): Promise<DeadLetterOpenCount[]>;
}

/** DDL of the DLQ table in the meta database, for `tradectl shards init` to run with the other meta tables. */
export function dlqTablesDdl(router: ShardRouter): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS \`${router.metaDatabaseName}\`.\`dlq_entries\` (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  dedupe_key BINARY(32) NOT NULL,
  message_key VARCHAR(512) NULL,
  platform VARCHAR(16) NULL,
  account VARCHAR(64) NULL,
  reason VARCHAR(2000) NOT NULL,
  original MEDIUMBLOB NOT NULL,
  source_topic VARCHAR(249) NULL,
  source_partition INT NULL,
  source_offset BIGINT NULL,
  created_at DATETIME(3) NOT NULL,
  last_seen_at DATETIME(3) NOT NULL,
  seen_count INT UNSIGNED NOT NULL DEFAULT 1,
  replayed_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_dedupe (dedupe_key),
  KEY idx_platform_account (platform, account, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  ];
}

// One INSERT per chunk keeps each statement well under max_allowed_packet (64 MiB by default).
const MAX_STATEMENT_BYTES = 8 * 1024 * 1024;
const COLUMNS =
  '`dedupe_key`, `message_key`, `platform`, `account`, `reason`, `original`, `source_topic`, ' +
  '`source_partition`, `source_offset`, `created_at`, `last_seen_at`';
const SUMMARY_COLUMNS =
  '`id`, `message_key`, `platform`, `account`, `reason`, LENGTH(`original`) AS `size`, `source_topic`, ' +
  '`source_partition`, `source_offset`, `created_at`, `last_seen_at`, `seen_count`, `replayed_at`';

/** The MySQL dead letter queue (see DeadLetterQueue). */
export function createMysqlDeadLetterQueue(options: {
  pools: MysqlPools;
  router: ShardRouter;
  /** Time stamped on entries. Default: the system clock. */
  clock?: () => Instant;
}): DeadLetterStore {
  const { pools } = options;
  const clock = options.clock ?? (() => new Date().toISOString());
  const table = `\`${options.router.metaDatabaseName}\`.\`dlq_entries\``;

  async function query<T extends RowDataPacket[] | ResultSetHeader>(sql: string, values: unknown[]) {
    try {
      const [result] = await pools.meta().query<T>(sql, values);
      return result;
    } catch (error) {
      throw classifyMysqlError(error, 'dead letter queue');
    }
  }

  return {
    async put(entries) {
      const now = toSqlDateTime(clock());
      const fresh: DeadLetterInput[] = [];
      for (const entry of entries) {
        if (entry.replayOf === undefined || entry.replayOf === null) {
          fresh.push(entry);
          continue;
        }
        // A replay that failed again: its own entry counts the sighting. Gone (deleted by hand):
        // stored as a new entry below, so the message is still not lost.
        const header = await query<ResultSetHeader>(
          `UPDATE ${table} SET \`reason\` = ?, \`last_seen_at\` = ?, \`seen_count\` = \`seen_count\` + 1, ` +
            '`replayed_at` = NULL WHERE `id` = ?',
          [entry.reason.slice(0, 2000), now, entryId(entry.replayOf)],
        );
        if (header.affectedRows === 0) fresh.push(entry);
      }
      for (const chunk of chunksByBytes(fresh)) {
        const values = chunk.flatMap((entry) => rowValues(entry, now));
        await query<ResultSetHeader>(
          `INSERT INTO ${table} (${COLUMNS}) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ` +
            'ON DUPLICATE KEY UPDATE `reason` = VALUES(`reason`), `last_seen_at` = VALUES(`last_seen_at`), ' +
            '`seen_count` = `seen_count` + 1, `replayed_at` = NULL',
          values,
        );
      }
    },

    async list(listOptions = {}) {
      const limit = Math.min(Math.max(Math.trunc(listOptions.limit ?? 50), 1), 1000);
      const conditions = ['`id` > ?'];
      const values: unknown[] = [listOptions.after === undefined ? '0' : entryId(listOptions.after)];
      if (listOptions.state === 'open') conditions.push('`replayed_at` IS NULL');
      if (listOptions.state === 'replayed') conditions.push('`replayed_at` IS NOT NULL');
      if (listOptions.platform !== undefined) {
        conditions.push('`platform` = ?');
        values.push(listOptions.platform);
      }
      if (listOptions.account !== undefined) {
        conditions.push('`account` = ?');
        values.push(listOptions.account);
      }
      const rows = await query<RowDataPacket[]>(
        `SELECT ${SUMMARY_COLUMNS} FROM ${table} WHERE ${conditions.join(' AND ')} ORDER BY \`id\` LIMIT ?`,
        [...values, limit],
      );
      return rows.map(toEntry);
    },

    async get(id) {
      const rows = await query<RowDataPacket[]>(
        `SELECT ${SUMMARY_COLUMNS}, \`original\` FROM ${table} WHERE \`id\` = ?`,
        [entryId(id)],
      );
      const row = rows[0];
      return row === undefined ? null : { ...toEntry(row), original: Buffer.from(row.original as Buffer) };
    },

    async markReplayed(id, markOptions = {}) {
      const seen = markOptions.ifSeenCount;
      const header = await query<ResultSetHeader>(
        `UPDATE ${table} SET \`replayed_at\` = ? WHERE \`id\` = ?${seen === undefined ? '' : ' AND `seen_count` = ?'}`,
        [toSqlDateTime(clock()), entryId(id), ...(seen === undefined ? [] : [seen])],
      );
      return header.affectedRows > 0;
    },

    async openCounts() {
      const rows = await query<RowDataPacket[]>(
        `SELECT \`platform\`, \`account\`, COUNT(*) AS \`open\` FROM ${table} WHERE \`replayed_at\` IS NULL ` +
          'GROUP BY `platform`, `account`',
        [],
      );
      return rows.map((row) => ({
        platform: (row.platform as string | null) ?? null,
        account: (row.account as string | null) ?? null,
        open: Number(row.open),
      }));
    },
  };
}

/** Platform and account from a `platform:account:platformOrderId` key, when it has that shape. */
export function identityFromKey(key: string | null): { platform: string | null; account: string | null } {
  const [platform, account, ...rest] = (key ?? '').split(':');
  if (!isPlatform(platform) || !account || rest.length === 0) return { platform: null, account: null };
  return { platform, account: account.slice(0, 64) };
}

function rowValues(entry: DeadLetterInput, now: string): unknown[] {
  const source = entry.source;
  const identity = identityFromKey(entry.key);
  return [
    dedupeKey(entry),
    entry.key === null ? null : entry.key.slice(0, 512),
    (entry.platform ?? identity.platform)?.slice(0, 16) ?? null,
    (entry.account ?? identity.account)?.slice(0, 64) ?? null,
    entry.reason.slice(0, 2000),
    entry.original,
    source?.topic ?? null,
    source?.partition ?? null,
    source?.offset ?? null,
    now,
    now,
  ];
}

function dedupeKey(entry: DeadLetterInput): Buffer {
  const hash = createHash('sha256');
  if (entry.source) {
    hash.update(`source\0${entry.source.topic}\0${entry.source.partition}\0${entry.source.offset}`);
  } else {
    hash.update(`bytes\0${entry.key ?? ''}\0`).update(entry.original);
  }
  return hash.digest();
}

function* chunksByBytes(entries: readonly DeadLetterInput[]): Generator<DeadLetterInput[]> {
  let chunk: DeadLetterInput[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entry.original.length + entry.reason.length + 1024;
    if (chunk.length > 0 && bytes + size > MAX_STATEMENT_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

function entryId(id: string): string {
  if (!/^\d{1,20}$/.test(id)) {
    throw new ValidationError('invalid dead letter id', [
      { path: 'id', message: 'expected a decimal number' },
    ]);
  }
  return id;
}

function toEntry(row: RowDataPacket): DeadLetterEntry {
  const topic = row.source_topic as string | null;
  return {
    id: String(row.id),
    key: (row.message_key as string | null) ?? null,
    reason: String(row.reason),
    source:
      topic === null
        ? null
        : { topic, partition: Number(row.source_partition), offset: String(row.source_offset) },
    platform: (row.platform as string | null) ?? null,
    account: (row.account as string | null) ?? null,
    size: Number(row.size),
    createdAt: fromSqlDateTime(String(row.created_at)),
    lastSeenAt: fromSqlDateTime(String(row.last_seen_at)),
    seenCount: Number(row.seen_count),
    replayedAt: row.replayed_at === null ? null : fromSqlDateTime(String(row.replayed_at)),
  };
}
