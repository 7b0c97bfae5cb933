import type { Pool, RowDataPacket } from 'mysql2/promise';
import { TradectlError } from '../errors.js';
import { classifyMysqlError } from '../mysql-errors.js';
import { run } from '../order-shard-write.js';
import { multiRowInsert, versionedUpsert } from '../order-store-sql.js';
import {
  type IdentifiedOrder,
  LEGACY_COLUMNS,
  type LegacyRow,
  type LegacySource,
  orderToLegacyRow,
} from './legacy-mapping.js';

/**
 * The I/O side of a legacy single `orders` table: checking its shape, reading it in keyset
 * batches (by `id`, never OFFSET), and the dual write's mirror into it. It lives on the server
 * of `mysql.url` (the meta database's).
 */

const IDENTIFIER = /^[A-Za-z0-9_$]{1,64}$/;

/** `db.table` -> its parts; null when either part is not a plain identifier. */
export function parseTableName(text: string): { schema: string; table: string } | null {
  const [schema, table, ...rest] = text.split('.');
  if (rest.length > 0 || !schema || !table || !IDENTIFIER.test(schema) || !IDENTIFIER.test(table))
    return null;
  return { schema, table };
}

export function legacyTableName(source: Pick<LegacySource, 'schema' | 'table'>): string {
  if (!IDENTIFIER.test(source.schema) || !IDENTIFIER.test(source.table)) {
    throw new RangeError(`invalid legacy table name ${source.schema}.${source.table}`);
  }
  return `\`${source.schema}\`.\`${source.table}\``;
}

/** What the shape of the table decides about the mapping. */
export interface LegacyShape {
  hasUpdatedAt: boolean;
  timePrecision: number;
  amountScale: number;
}

/**
 * Reads the table's columns and checks that the backfill can read it and the mirror can write
 * it: every seed column present, `id` its primary key, and every other column nullable or
 * defaulted (the mirror writes only the seed columns). Problems are listed in one error.
 */
export async function inspectLegacyTable(pool: Pool, schema: string, table: string): Promise<LegacyShape> {
  let rows: RowDataPacket[];
  try {
    [rows] = await pool.query<RowDataPacket[]>(
      'SELECT COLUMN_NAME AS name, COLUMN_KEY AS `key`, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS `default`, ' +
        'EXTRA AS extra, DATETIME_PRECISION AS `precision`, NUMERIC_SCALE AS scale, DATA_TYPE AS type ' +
        'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [schema, table],
    );
  } catch (error) {
    throw classifyMysqlError(error, 'inspect the legacy table');
  }
  const where = `${schema}.${table}`;
  if (rows.length === 0) {
    throw sourceInvalid(`legacy table ${where} does not exist`, ['check --from-legacy <database.table>']);
  }
  const columns = new Map(rows.map((row) => [String(row.name).toLowerCase(), row]));
  const problems: string[] = [];
  for (const name of LEGACY_COLUMNS) if (!columns.has(name)) problems.push(`column ${name} is missing`);
  if (columns.get('id') && String(columns.get('id')!.key) !== 'PRI')
    problems.push('id is not the primary key');
  const known = new Set<string>([...LEGACY_COLUMNS, 'updated_at']);
  for (const [name, column] of columns) {
    const required =
      column.nullable === 'NO' &&
      column.default === null &&
      !/auto_increment|generated/i.test(String(column.extra));
    if (!known.has(name) && required) {
      problems.push(`column ${name} is NOT NULL without a default, so the dual write cannot insert rows`);
    }
  }
  if (problems.length > 0) throw sourceInvalid(`legacy table ${where} cannot be migrated`, problems);
  const created = columns.get('created_at')!;
  const updated = columns.get('updated_at');
  const precision = Math.min(
    Number(created.precision ?? 0),
    updated ? Number(updated.precision ?? 0) : Number.POSITIVE_INFINITY,
    3,
  );
  return {
    hasUpdatedAt: updated !== undefined,
    timePrecision: precision,
    amountScale: Number(columns.get('amount')!.scale ?? 0),
  };
}

function sourceInvalid(message: string, problems: string[]): TradectlError {
  return new TradectlError('TRADECTL_MIGRATION_SOURCE_INVALID', `${message}: ${problems.join('; ')}`, {
    kind: 'config',
    details: { problems },
    hint: 'the legacy table needs id (primary key), user_id, product_id, quantity, amount, status, created_at',
  });
}

const selectColumns = (source: LegacySource) =>
  [...LEGACY_COLUMNS, ...(source.hasUpdatedAt ? ['updated_at'] : [])]
    .map((column) => `\`${column}\``)
    .join(', ');

/** Count and id range of the rows with id <= upTo (all rows without a bound). */
export async function legacyStats(
  pool: Pool,
  source: LegacySource,
  upTo: string | null,
): Promise<{ rows: number; minId: string | null; maxId: string | null }> {
  try {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM ${legacyTableName(source)}` +
        (upTo === null ? '' : ' WHERE id <= CAST(? AS UNSIGNED)'),
      upTo === null ? [] : [upTo],
    );
    const row = rows[0]!;
    return {
      rows: Number(row.n),
      minId: row.lo === null ? null : String(row.lo),
      maxId: row.hi === null ? null : String(row.hi),
    };
  } catch (error) {
    throw classifyMysqlError(error, 'count the legacy table');
  }
}

/** The next `limit` rows with afterId < id <= upTo, in id order (keyset: never OFFSET). */
export async function readLegacyRows(
  pool: Pool,
  source: LegacySource,
  range: { afterId: string | null; upTo: string },
  limit: number,
): Promise<LegacyRow[]> {
  // CAST keeps the comparisons integer: a string compared with BIGINT is compared as a double.
  const conditions = ['id <= CAST(? AS UNSIGNED)'];
  const values: unknown[] = [range.upTo];
  if (range.afterId !== null) {
    conditions.unshift('id > CAST(? AS UNSIGNED)');
    values.unshift(range.afterId);
  }
  try {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT ${selectColumns(source)} FROM ${legacyTableName(source)} WHERE ${conditions.join(' AND ')} ` +
        'ORDER BY id LIMIT ?',
      [...values, limit],
    );
    return rows as unknown as LegacyRow[];
  } catch (error) {
    throw classifyMysqlError(error, 'read the legacy table');
  }
}

/**
 * The dual write's second write in legacy mode: each order as one legacy row, under the id the
 * layout assigned. Versioned on updated_at when the table has it (an older replay changes
 * nothing); without it the last write wins.
 */
export function createLegacyMirror(
  pool: Pool,
  source: LegacySource,
): (items: readonly IdentifiedOrder[]) => Promise<void> {
  const table = legacyTableName(source);
  const columns = [...LEGACY_COLUMNS, ...(source.hasUpdatedAt ? ['updated_at'] : [])];
  return async (items) => {
    if (items.length === 0) return;
    // Id order: concurrent mirrors lock rows in one order.
    const rows = [...items]
      .sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((item) => orderToLegacyRow(item, source));
    const statement = source.hasUpdatedAt
      ? versionedUpsert(table, columns, ['id'], rows)
      : {
          ...multiRowInsert(table, columns, rows),
          sql: `${multiRowInsert(table, columns, rows).sql} ON DUPLICATE KEY UPDATE ${columns
            .filter((column) => column !== 'id')
            .map((column) => `\`${column}\` = VALUES(\`${column}\`)`)
            .join(', ')}`,
        };
    try {
      await run(pool, statement);
    } catch (error) {
      throw classifyMysqlError(error, 'mirror orders into the legacy table', { orders: rows.length });
    }
  };
}
