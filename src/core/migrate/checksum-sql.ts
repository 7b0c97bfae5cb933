import { DETAIL_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS } from '../order-rows.js';
import type { SqlStatement } from '../order-store-sql.js';
import type { ShardLocation, ShardRouter } from '../shard-router.js';

/**
 * The statements verify runs, as pure builders (table-tested). Both sides of a layout migration
 * are hashed by the server with the same expression, so equal rows give equal hashes:
 *
 *   row hash  = first 64 bits of MD5(CONCAT_WS(',', QUOTE(col1), QUOTE(col2), ...))
 *   chunk sum = COUNT(*) and BIT_XOR(row hash) over the rows whose key falls in the chunk
 *
 * QUOTE makes the text unambiguous (NULL is the bare word NULL, strings are quoted and
 * escaped); XOR is order-independent, so the sums of one chunk combine over every table of a
 * layout however its rows are spread; the count catches a doubled row, which XOR would cancel.
 * Chunk k of a chunking covers keys lo + k*width .. lo + (k+1)*width - 1. Keys are bound as
 * decimal text and CAST, so BIGINT ids are never compared as doubles.
 */

/** What is compared. `full`: every column of all three tables (stored_at aside: it is when a
 * copy was written). `legacy`: the round-trip columns of legacy-keyspace orders (legacy-mapping.ts). */
export type ChecksumProfile =
  | { kind: 'full' }
  | { kind: 'legacy'; platform: string; account: string; precision: number };

export type RowKind = 'orders' | 'details' | 'lines';

export interface Chunking {
  lo: bigint;
  hi: bigint;
  width: bigint;
}

const hashOf = (expressions: readonly string[]) =>
  `CAST(CONV(LEFT(MD5(CONCAT_WS(',', ${expressions.map((e) => `QUOTE(${e})`).join(', ')})), 16), 16, 10) AS UNSIGNED)`;

const quoted = (columns: readonly string[]) => columns.map((column) => `\`${column}\``);

/** DATETIME(3) text cut to `precision` fractional digits, as timeText() writes it. */
const timeAt = (column: string, precision: number) =>
  `LEFT(DATE_FORMAT(\`${column}\`, '%Y-%m-%d %H:%i:%s.%f'), ${precision > 0 ? 20 + precision : 19})`;

/** The hashed expressions of each table kind under a profile; null when the kind is not compared. */
export function hashedExpressions(profile: ChecksumProfile, kind: RowKind): string[] | null {
  if (profile.kind === 'legacy') {
    if (kind !== 'orders') return null;
    return [
      '`id`',
      '`user_id`',
      '`platform_order_id`',
      '`status`',
      '`currency`',
      '`total_amount`',
      timeAt('created_at', profile.precision),
      timeAt('updated_at', profile.precision),
    ];
  }
  if (kind === 'orders') return quoted(ORDER_COLUMNS.filter((column) => column !== 'stored_at'));
  return quoted(kind === 'details' ? DETAIL_COLUMNS : LINE_COLUMNS);
}

const TABLE_OF: Record<RowKind, 'orders' | 'order_details' | 'order_lines'> = {
  orders: 'orders',
  details: 'order_details',
  lines: 'order_lines',
};

const keyOf = (kind: RowKind) => (kind === 'orders' ? '`id`' : '`order_id`');

/** One letter per kind in the `kind` column, so every UNION ALL part has the same width. */
export const KIND_CODE: Record<RowKind, string> = { orders: 'o', details: 'd', lines: 'l' };

function profileFilter(profile: ChecksumProfile): { sql: string; values: unknown[] } {
  return profile.kind === 'legacy'
    ? { sql: ' AND `platform` = ? AND `account` = ?', values: [profile.platform, profile.account] }
    : { sql: '', values: [] };
}

/**
 * Per chunk and kind, count and XOR of row hashes over `locations` (one sub-select per table
 * and kind, so each table is scanned along its primary key once per kind).
 * Result columns: kind (KIND_CODE), chunk, n, h.
 */
export function chunkSumsSql(
  router: ShardRouter,
  locations: readonly ShardLocation[],
  profile: ChecksumProfile,
  chunking: Chunking,
): SqlStatement {
  const parts: string[] = [];
  const values: unknown[] = [];
  const filter = profileFilter(profile);
  for (const location of locations) {
    for (const kind of ['orders', 'details', 'lines'] as const) {
      const expressions = hashedExpressions(profile, kind);
      if (expressions === null) continue;
      const key = keyOf(kind);
      parts.push(
        `SELECT '${KIND_CODE[kind]}' AS kind, (${key} - CAST(? AS UNSIGNED)) DIV CAST(? AS UNSIGNED) AS chunk, ` +
          `COUNT(*) AS n, BIT_XOR(${hashOf(expressions)}) AS h FROM ${router.qualifiedTable(location, TABLE_OF[kind])} ` +
          `WHERE ${key} BETWEEN CAST(? AS UNSIGNED) AND CAST(? AS UNSIGNED)${filter.sql} GROUP BY chunk`,
      );
      values.push(
        String(chunking.lo),
        String(chunking.width),
        String(chunking.lo),
        String(chunking.hi),
        ...filter.values,
      );
    }
  }
  return {
    sql: `SELECT kind, chunk, SUM(n) AS n, BIT_XOR(h) AS h FROM (${parts.join(' UNION ALL ')}) AS u GROUP BY kind, chunk`,
    values,
  };
}

/**
 * Row by row, for one table and kind: key, owning user (orders only), version and row hash of
 * every row with lo <= key <= hi. Lines are folded per order (count and XOR).
 * Result columns: id, user_id (orders), updated_at (orders), n, h.
 */
export function rowHashesSql(
  router: ShardRouter,
  location: ShardLocation,
  profile: ChecksumProfile,
  kind: RowKind,
  range: { lo: bigint; hi: bigint },
): SqlStatement | null {
  const expressions = hashedExpressions(profile, kind);
  if (expressions === null) return null;
  const filter = profileFilter(profile);
  const table = router.qualifiedTable(location, TABLE_OF[kind]);
  const where = `WHERE ${keyOf(kind)} BETWEEN CAST(? AS UNSIGNED) AND CAST(? AS UNSIGNED)${filter.sql}`;
  const values = [String(range.lo), String(range.hi), ...filter.values];
  if (kind === 'orders') {
    return {
      sql: `SELECT \`id\`, \`user_id\`, \`updated_at\`, 1 AS n, ${hashOf(expressions)} AS h FROM ${table} ${where}`,
      values,
    };
  }
  return {
    sql: `SELECT \`order_id\` AS id, COUNT(*) AS n, BIT_XOR(${hashOf(expressions)}) AS h FROM ${table} ${where} GROUP BY \`order_id\``,
    values,
  };
}

/** Count and id range of one table's rows under a profile, over a group of tables (UNION ALL). */
export function tableStatsSql(
  router: ShardRouter,
  locations: readonly ShardLocation[],
  profile: ChecksumProfile,
): SqlStatement {
  const filter = profileFilter(profile);
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const location of locations) {
    parts.push(
      `SELECT COUNT(*) AS n, MIN(\`id\`) AS lo, MAX(\`id\`) AS hi FROM ${router.qualifiedTable(location, 'orders')} ` +
        `WHERE 1 = 1${filter.sql}`,
    );
    values.push(...filter.values);
  }
  return { sql: parts.join(' UNION ALL '), values };
}
