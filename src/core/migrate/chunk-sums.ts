import { createHash } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import { forEachBounded } from '../bounded-concurrency.js';
import { queryRows } from '../mysql-errors.js';
import type { ShardLocation } from '../shard-router.js';
import { fromSqlDateTime, type Instant } from '../time.js';
import {
  type ChecksumProfile,
  type Chunking,
  chunkSumsSql,
  KIND_CODE,
  type RowKind,
  rowHashesSql,
  tableStatsSql,
} from './checksum-sql.js';
import type { LayoutHandle } from './layouts.js';
import { type IdentifiedOrder, type LegacySource, legacyRowToOrder, legacyTuple } from './legacy-mapping.js';
import { readLegacyRows } from './legacy-table.js';

/**
 * Runs verify's statements against a layout (many tables, hashed by the server) or a legacy
 * table (streamed in keyset batches, mapped and hashed here with the same text the server
 * hashes on the target side).
 */

export interface Sum {
  n: number;
  h: bigint;
}
export type KindSums = Record<RowKind, Sum>;
/** Chunk index -> sums. */
export type ChunkSums = Map<number, KindSums>;

/** Key, owner, version and hashes of one order on one side; `location` is its table on a layout. */
export interface RowHash {
  userId: string | null;
  version: Instant | null;
  location: ShardLocation | null;
  sums: KindSums;
}

const TABLES_PER_STATEMENT = 32;
const STATEMENTS_IN_FLIGHT = 4;
const LEGACY_BATCH = 10_000;

export const emptySums = (): KindSums => ({
  orders: { n: 0, h: 0n },
  details: { n: 0, h: 0n },
  lines: { n: 0, h: 0n },
});

const KIND_BY_CODE = new Map(Object.entries(KIND_CODE).map(([kind, code]) => [code, kind as RowKind]));

/** Tables grouped per database (one pool each), TABLES_PER_STATEMENT per group. */
export function tableGroups(handle: LayoutHandle): ShardLocation[][] {
  const groups: ShardLocation[][] = [];
  let group: ShardLocation[] = [];
  for (const location of handle.router.all()) {
    if (group.length === TABLES_PER_STATEMENT || (group[0] && group[0].database !== location.database)) {
      groups.push(group);
      group = [];
    }
    group.push(location);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export async function layoutStats(
  handle: LayoutHandle,
  profile: ChecksumProfile,
): Promise<{ rows: number; lo: bigint | null; hi: bigint | null }> {
  let rows = 0;
  let lo: bigint | null = null;
  let hi: bigint | null = null;
  await forEachBounded(tableGroups(handle), STATEMENTS_IN_FLIGHT, async (group) => {
    const statement = tableStatsSql(handle.router, group, profile);
    const pool = handle.pools.forDatabase(group[0]!.database);
    for (const row of await queryRows(pool, statement.sql, statement.values, 'count orders')) {
      rows += Number(row.n);
      if (row.lo !== null && (lo === null || BigInt(row.lo) < lo)) lo = BigInt(row.lo);
      if (row.hi !== null && (hi === null || BigInt(row.hi) > hi)) hi = BigInt(row.hi);
    }
  });
  return { rows, lo, hi };
}

export async function layoutChunkSums(
  handle: LayoutHandle,
  profile: ChecksumProfile,
  chunking: Chunking,
): Promise<ChunkSums> {
  const sums: ChunkSums = new Map();
  await forEachBounded(tableGroups(handle), STATEMENTS_IN_FLIGHT, async (group) => {
    const statement = chunkSumsSql(handle.router, group, profile, chunking);
    const pool = handle.pools.forDatabase(group[0]!.database);
    for (const row of await queryRows(pool, statement.sql, statement.values, 'checksum orders')) {
      add(sums, Number(row.chunk), KIND_BY_CODE.get(String(row.kind))!, Number(row.n), BigInt(row.h));
    }
  });
  return sums;
}

function add(sums: ChunkSums, chunk: number, kind: RowKind, n: number, h: bigint): void {
  let entry = sums.get(chunk);
  if (!entry) {
    entry = emptySums();
    sums.set(chunk, entry);
  }
  entry[kind] = { n: entry[kind].n + n, h: entry[kind].h ^ h };
}

/** The first 64 bits of MD5, as the server's CONV(LEFT(MD5(...), 16), 16, 10). */
export function md5Bits(text: string): bigint {
  return BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex').slice(0, 16)}`);
}

/** Legacy rows with lo <= id <= hi, mapped, in keyset batches; `visit` sees each batch. */
export async function forEachLegacyOrder(
  pool: Pool,
  legacy: LegacySource,
  range: { lo: bigint; hi: bigint },
  visit: (items: IdentifiedOrder[]) => void | Promise<void>,
): Promise<void> {
  let afterId: string | null = range.lo > 0n ? String(range.lo - 1n) : null;
  for (;;) {
    const rows = await readLegacyRows(pool, legacy, { afterId, upTo: String(range.hi) }, LEGACY_BATCH);
    if (rows.length === 0) return;
    await visit(rows.map((row) => legacyRowToOrder(row, legacy)));
    if (rows.length < LEGACY_BATCH) return;
    afterId = String(rows.at(-1)!.id);
  }
}

export async function legacyChunkSums(
  pool: Pool,
  legacy: LegacySource,
  chunking: Chunking,
): Promise<ChunkSums> {
  const sums: ChunkSums = new Map();
  await forEachLegacyOrder(pool, legacy, chunking, (items) => {
    for (const item of items) {
      const chunk = Number((BigInt(item.id) - chunking.lo) / chunking.width);
      add(sums, chunk, 'orders', 1, md5Bits(legacyTuple(item, legacy.timePrecision)));
    }
  });
  return sums;
}

/** Per order id in [lo, hi] on a layout: owner, version and hashes of its rows. */
export async function layoutRowHashes(
  handle: LayoutHandle,
  profile: ChecksumProfile,
  range: { lo: bigint; hi: bigint },
): Promise<Map<string, RowHash>> {
  const out = new Map<string, RowHash>();
  const entry = (id: string, location: ShardLocation) => {
    let found = out.get(id);
    if (!found) {
      found = { userId: null, version: null, location, sums: emptySums() };
      out.set(id, found);
    }
    return found;
  };
  await forEachBounded([...handle.router.all()], STATEMENTS_IN_FLIGHT, async (location) => {
    const pool = handle.pools.forDatabase(location.database);
    for (const kind of ['orders', 'details', 'lines'] as const) {
      const statement = rowHashesSql(handle.router, location, profile, kind, range);
      if (statement === null) continue;
      for (const row of await queryRows(pool, statement.sql, statement.values, 'checksum order rows')) {
        const found = entry(String(row.id), location);
        if (kind === 'orders') {
          found.userId = String(row.user_id);
          found.version = fromSqlDateTime(String(row.updated_at));
        }
        found.sums[kind] = { n: Number(row.n), h: BigInt(row.h) };
      }
    }
  });
  return out;
}

/** The legacy side of layoutRowHashes, with the mapped orders (the repair copies them). */
export async function legacyRowHashes(
  pool: Pool,
  legacy: LegacySource,
  range: { lo: bigint; hi: bigint },
): Promise<{ hashes: Map<string, RowHash>; orders: Map<string, IdentifiedOrder> }> {
  const hashes = new Map<string, RowHash>();
  const orders = new Map<string, IdentifiedOrder>();
  await forEachLegacyOrder(pool, legacy, range, (items) => {
    for (const item of items) {
      const sums = emptySums();
      sums.orders = { n: 1, h: md5Bits(legacyTuple(item, legacy.timePrecision)) };
      hashes.set(item.id, { userId: item.order.userId, version: item.order.updatedAt, location: null, sums });
      orders.set(item.id, item);
    }
  });
  return { hashes, orders };
}

export function sameSums(a: KindSums | undefined, b: KindSums | undefined): boolean {
  const x = a ?? emptySums();
  const y = b ?? emptySums();
  return (['orders', 'details', 'lines'] as const).every(
    (kind) => x[kind].n === y[kind].n && x[kind].h === y[kind].h,
  );
}
