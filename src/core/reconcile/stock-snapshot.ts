import type { Redis } from 'ioredis';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { TradectlError } from '../errors.js';
import { classifyMysqlError } from '../mysql-errors.js';
import type { ShardRouter } from '../shard-router.js';
import type { TenantKeys } from '../stock/keys.js';
import { type LedgerEntry, parseStreamEntry } from '../stock/ledger-entry.js';
import { stockTable } from '../stock/ledger-schema.js';
import { compareStreamIds, nextStreamId } from '../stock/ledger-stream.js';
import { redisFailure } from '../stock/stock-runtime.js';
import { expectedLevels, type InventoryLevel, type RedisLevel, type SkuTruth } from './stock-truth.js';

/**
 * One consistent view of some SKUs of a tenant, Redis and MySQL, while both keep changing.
 *
 *   R1  MULTI (atomic): the SKUs' hashes, the stream's last id L1, the drain group's last
 *       delivered id and oldest pending id.
 *   T   the stream from the oldest entry the drain had not acknowledged at R1, up to L1. An entry
 *       not applied to MySQL was not acknowledged (the drain acknowledges after its commit), so
 *       every entry up to L1 that MySQL lacks is here; entries acknowledged and trimmed since
 *       are applied, and applied ones are already counted by MySQL.
 *   M   START TRANSACTION WITH CONSISTENT SNAPSHOT: MySQL's read view.
 *   R2  the stream after L1: every entry MySQL can have applied after R1 was written before M,
 *       so it is here, unless the drain trimmed it meanwhile (then `max-deleted-entry-id` has
 *       passed L1 and the attempt starts over).
 *   Q   in M: the inventory rows, and which entries of T and R2 the ledger holds (applied).
 *
 * stock-truth.ts turns that into what Redis should have held at R1. Nothing is locked and no
 * writer waits: R1 to R2 takes a few round trips.
 */

export interface SnapshotInput {
  /** A client without the ioredis keyPrefix option. */
  redis: Redis;
  /** The meta database's pool (`MysqlPools.meta()`). */
  pool: Pool;
  router: ShardRouter;
  keys: TenantKeys;
  /** The ledger drain's consumer group. */
  group: string;
  skus: readonly string[];
  /** Stream entries per XRANGE. Default 1000. */
  pageSize?: number;
}

const ATTEMPTS = 5;
// Operation ids per ledger query: far below max_allowed_packet, and one index range each.
const IDS_PER_QUERY = 500;

export async function snapshotSkus(input: SnapshotInput): Promise<SkuTruth[]> {
  if (input.skus.length === 0) return [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const truths = await attemptSnapshot(input);
    if (truths !== null) return truths;
  }
  throw new TradectlError(
    'TRADECTL_RECONCILE_UNSTABLE',
    `stock of tenant ${input.keys.tenant}: the change stream was trimmed past the snapshot ${ATTEMPTS} times`,
    {
      kind: 'transient',
      hint: 'run reconcile again; if it keeps failing, check how often the ledger drain trims',
    },
  );
}

interface RedisHead {
  levels: Map<string, RedisLevel>;
  /** Last id the stream generated at R1 ('0-0' when it does not exist). */
  last: string;
  /** First id the drain had not acknowledged at R1; '-' when the group does not exist. */
  unacknowledgedFrom: string;
}

async function attemptSnapshot(input: SnapshotInput): Promise<SkuTruth[] | null> {
  const { redis, keys } = input;
  const head = await readHead(input);
  const wanted = new Set(input.skus);
  const before = await readRange(input, head.unacknowledgedFrom, head.last, wanted);
  let connection: PoolConnection;
  try {
    connection = await input.pool.getConnection();
  } catch (error) {
    throw classifyMysqlError(error, 'connect for stock reconciliation');
  }
  let healthy = true;
  try {
    await connection.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const after = await readRange(input, `(${head.last}`, '+', wanted);
    const info = await redisCall('read the stock stream', () => redis.xinfo('STREAM', keys.stream)).catch(
      (error: unknown) => (noSuchKey(error) ? null : Promise.reject(error)),
    );
    // Redis 7 reports the highest id ever deleted; older servers do not (then trimming past L1
    // within these few milliseconds goes unnoticed: docs/reconcile.md).
    const maxDeleted = info === null ? undefined : fieldMap(info as unknown[]).get('max-deleted-entry-id');
    const deleted = maxDeleted === undefined ? '0-0' : String(maxDeleted);
    if (compareStreamIds(deleted, head.last) > 0) {
      await connection.query('COMMIT');
      return null;
    }
    const inventory = await readInventoryRows(connection, input);
    const applied = await readApplied(connection, input, [...before, ...after]);
    await connection.query('COMMIT');
    return expectedLevels({
      skus: input.skus,
      redis: head.levels,
      inventory,
      before,
      after,
      applied: (entry, sku) => applied.has(ledgerKey(entry.operationId, entry.kind, sku)),
      snapshotId: head.last,
    });
  } catch (error) {
    healthy = await connection.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    if (error instanceof TradectlError) throw error;
    throw classifyMysqlError(error, 'read stock for reconciliation', { tenant: keys.tenant });
  } finally {
    if (healthy) connection.release();
    else connection.destroy();
  }
}

async function readHead(input: SnapshotInput): Promise<RedisHead> {
  const { redis, keys, skus, group } = input;
  const transaction = redis.multi();
  for (const sku of skus) transaction.hmget(keys.stock(sku), 'available', 'reserved', 'version');
  transaction.xinfo('STREAM', keys.stream);
  transaction.xinfo('GROUPS', keys.stream);
  transaction.xpending(keys.stream, group);
  const replies = await redisCall('read stock and its stream', () => transaction.exec());
  if (replies === null) throw redisFailure('read stock and its stream', new Error('MULTI was discarded'));
  const levels = new Map<string, RedisLevel>();
  skus.forEach((sku, index) => {
    const [error, value] = replies[index]!;
    if (error) throw redisFailure('read stock', error);
    const [available, reserved, version] = value as (string | null)[];
    if (available !== null && available !== undefined) {
      levels.set(sku, {
        available: Number(available),
        reserved: Number(reserved ?? 0),
        version: Number(version ?? 0),
      });
    }
  });
  const [streamError, stream] = replies[skus.length]!;
  if (streamError) {
    // No stream: nothing was ever changed through the scripts, so nothing is in flight.
    if (noSuchKey(streamError)) return { levels, last: '0-0', unacknowledgedFrom: '-' };
    throw redisFailure('read the stock stream', streamError);
  }
  const last = String(fieldMap(stream as unknown[]).get('last-generated-id'));
  const [groupsError, groups] = replies[skus.length + 1]!;
  if (groupsError) throw redisFailure('read the stock stream groups', groupsError);
  const drain = (groups as unknown[][]).map(fieldMap).find((info) => String(info.get('name')) === group);
  // No group yet: no drain has read anything, so every entry is still to be applied.
  if (drain === undefined) return { levels, last, unacknowledgedFrom: '-' };
  const [pendingError, pending] = replies[skus.length + 2]!;
  if (pendingError) throw redisFailure('read the stock stream pending entries', pendingError);
  const [count, oldest] = pending as [number, string | null];
  const unacknowledgedFrom =
    Number(count) > 0 && oldest !== null ? oldest : nextStreamId(String(drain.get('last-delivered-id')));
  return { levels, last, unacknowledgedFrom };
}

/**
 * SKUs named by stream entries the drain has not acknowledged: a SKU that Redis lost and MySQL
 * never saw is known only there, and must be compared too.
 */
export async function skusInFlight(
  input: Omit<SnapshotInput, 'skus' | 'pool' | 'router'>,
): Promise<Set<string>> {
  const { redis, keys, group } = input;
  const transaction = redis.multi().xinfo('GROUPS', keys.stream).xpending(keys.stream, group);
  const replies = await redisCall('read the stock stream groups', () => transaction.exec());
  const [groupsError, groups] = replies?.[0] ?? [null, []];
  if (groupsError) {
    if (noSuchKey(groupsError)) return new Set();
    throw redisFailure('read the stock stream groups', groupsError);
  }
  const drain = (groups as unknown[][]).map(fieldMap).find((info) => String(info.get('name')) === group);
  let start = '-';
  if (drain !== undefined) {
    const [pendingError, pending] = replies?.[1] ?? [null, [0, null]];
    if (pendingError) throw redisFailure('read the stock stream pending entries', pendingError);
    const [count, oldest] = pending as [number, string | null];
    start =
      Number(count) > 0 && oldest !== null ? oldest : nextStreamId(String(drain.get('last-delivered-id')));
  }
  const skus = new Set<string>();
  const count = input.pageSize ?? 1000;
  for (let from = start; ; ) {
    const page = (await redisCall('read the stock stream', () =>
      redis.xrange(keys.stream, from, '+', 'COUNT', count),
    )) as [string, string[]][];
    for (const [id, fields] of page) {
      const parsed = parseStreamEntry(id, fields);
      if (parsed.ok) for (const line of parsed.entry.lines) skus.add(line.sku);
    }
    if (page.length < count) return skus;
    from = `(${page[page.length - 1]![0]}`;
  }
}

/** The parsed entries in [start, end] that touch one of `wanted`. */
async function readRange(
  input: SnapshotInput,
  start: string,
  end: string,
  wanted: ReadonlySet<string>,
): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  const count = input.pageSize ?? 1000;
  let from = start;
  for (;;) {
    const page = (await redisCall('read the stock stream', () =>
      input.redis.xrange(input.keys.stream, from, end, 'COUNT', count),
    )) as [string, string[]][];
    for (const [id, fields] of page) {
      const parsed = parseStreamEntry(id, fields);
      // An unreadable entry changes nothing in MySQL (the drain keeps it as a reject) and was
      // not written by the scripts, so it moved nothing in Redis either.
      if (parsed.ok && parsed.entry.lines.some((line) => wanted.has(line.sku))) entries.push(parsed.entry);
    }
    if (page.length < count) return entries;
    from = `(${page[page.length - 1]![0]}`;
  }
}

async function readInventoryRows(
  connection: PoolConnection,
  input: SnapshotInput,
): Promise<Map<string, InventoryLevel>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT sku, on_hand, reserved, version FROM ${stockTable(input.router, 'inventory')} ` +
      'WHERE tenant = ? AND sku IN (?)',
    [input.keys.tenant, input.skus],
  );
  return new Map(
    rows.map((row) => [
      String(row.sku),
      { onHand: Number(row.on_hand), reserved: Number(row.reserved), version: Number(row.version) },
    ]),
  );
}

async function readApplied(
  connection: PoolConnection,
  input: SnapshotInput,
  entries: readonly LedgerEntry[],
): Promise<Set<string>> {
  const applied = new Set<string>();
  const ids = [...new Set(entries.map((entry) => entry.operationId))];
  for (let at = 0; at < ids.length; at += IDS_PER_QUERY) {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT operation_id, kind, sku FROM ${stockTable(input.router, 'stock_ledger')} ` +
        'WHERE tenant = ? AND operation_id IN (?)',
      [input.keys.tenant, ids.slice(at, at + IDS_PER_QUERY)],
    );
    for (const row of rows)
      applied.add(ledgerKey(String(row.operation_id), String(row.kind), String(row.sku)));
  }
  return applied;
}

function ledgerKey(operationId: string, kind: string, sku: string): string {
  return `${operationId}\u0000${kind}\u0000${sku}`;
}

function fieldMap(flat: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}

function noSuchKey(error: unknown): boolean {
  return /no such key/i.test(String((error as Error | null)?.message ?? ''));
}

async function redisCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (noSuchKey(error)) throw error;
    throw redisFailure(operation, error);
  }
}
