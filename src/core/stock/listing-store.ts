import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { TradectlError } from '../errors.js';
import { classifyMysqlError } from '../mysql-errors.js';
import type { Platform } from '../platforms.js';
import type { ShardRouter } from '../shard-router.js';
import { fromSqlDateTime, type Instant } from '../time.js';
import { type ListingKeyKind, type ListingMapping, listingKey } from './listing-mapping.js';
import { listingsTable } from './listing-schema.js';

/**
 * The SQL behind ListingMap: reads by channel key and by internal SKU, keyset-paged listing,
 * and the writes (add, remove, import), each in one transaction. Values are bound parameters;
 * the table name comes from the router. Internal to src/core/stock.
 */

export interface StoredListing extends ListingMapping {
  createdAt: Instant;
  updatedAt: Instant;
}

/** Where a listing page ends: pass it back as `after` for the next page. */
export interface ListingCursor {
  platform: string;
  account: string;
  kind: ListingKeyKind;
  channelKey: string;
}

export interface ListingFilter {
  platform?: string;
  account?: string;
  tenant?: string;
  sku?: string;
  /** Rows per page, 1-1000. Default 100. */
  limit?: number;
  after?: ListingCursor;
}

export interface ImportResult {
  created: number;
  updated: number;
  unchanged: number;
  dryRun: boolean;
}

export type AddOutcome =
  | { outcome: 'created' | 'unchanged' }
  | { outcome: 'updated'; previous: { tenant: string; sku: string } };

const COLUMNS = 'platform, account, key_kind, channel_key, tenant, sku, created_at, updated_at';
const CHUNK = 500;

export async function selectTargets(
  pool: Pool,
  router: ShardRouter,
  platform: string,
  account: string,
  keys: { kind: ListingKeyKind; channelKey: string }[],
): Promise<Map<string, { tenant: string; sku: string }>> {
  const bySku = keys.filter((key) => key.kind === 'sku').map((key) => key.channelKey);
  const byListing = keys.filter((key) => key.kind === 'listing').map((key) => key.channelKey);
  const parts: string[] = [];
  const values: string[] = [platform, account];
  for (const [kind, list] of [
    ['sku', bySku],
    ['listing', byListing],
  ] as const) {
    if (list.length === 0) continue;
    parts.push(`(key_kind = ? AND channel_key IN (${list.map(() => '?').join(', ')}))`);
    values.push(kind, ...list);
  }
  const found = new Map<string, { tenant: string; sku: string }>();
  if (parts.length === 0) return found;
  const [rows] = await run('resolve listings', () =>
    pool.query<RowDataPacket[]>(
      `SELECT key_kind, channel_key, tenant, sku FROM ${listingsTable(router)} WHERE platform = ? AND account = ? AND (${parts.join(' OR ')})`,
      values,
    ),
  );
  for (const row of rows) {
    const key = listingKey(platform, account, row.key_kind as ListingKeyKind, String(row.channel_key));
    found.set(key, { tenant: String(row.tenant), sku: String(row.sku) });
  }
  return found;
}

export async function selectListings(
  pool: Pool,
  router: ShardRouter,
  filter: ListingFilter,
): Promise<StoredListing[]> {
  const where: string[] = [];
  const values: (string | number)[] = [];
  for (const [column, value] of [
    ['platform', filter.platform],
    ['account', filter.account],
    ['tenant', filter.tenant],
    ['sku', filter.sku],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    values.push(value);
  }
  if (filter.after) {
    const { platform, account, kind, channelKey } = filter.after;
    where.push('(platform, account, key_kind, channel_key) > (?, ?, ?, ?)');
    values.push(platform, account, kind, channelKey);
  }
  values.push(filter.limit ?? 100);
  const [rows] = await run('list listings', () =>
    pool.query<RowDataPacket[]>(
      `SELECT ${COLUMNS} FROM ${listingsTable(router)}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ` +
        'ORDER BY platform, account, key_kind, channel_key LIMIT ?',
      values,
    ),
  );
  return rows.map(toListing);
}

export async function insertListing(
  pool: Pool,
  router: ShardRouter,
  mapping: ListingMapping,
  now: string,
  replace: boolean,
): Promise<AddOutcome> {
  return transaction(pool, 'add a listing', async (connection) => {
    const [existing] = await connection.query<RowDataPacket[]>(
      `SELECT tenant, sku FROM ${listingsTable(router)} WHERE platform = ? AND account = ? AND key_kind = ? AND channel_key = ? FOR UPDATE`,
      [mapping.platform, mapping.account, mapping.kind, mapping.channelKey],
    );
    const row = existing[0];
    if (row === undefined) {
      await connection.query(
        `INSERT INTO ${listingsTable(router)} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [...mappingValues(mapping), now, now],
      );
      return { outcome: 'created' };
    }
    const previous = { tenant: String(row.tenant), sku: String(row.sku) };
    if (previous.tenant === mapping.tenant && previous.sku === mapping.sku) return { outcome: 'unchanged' };
    if (!replace) {
      throw new TradectlError(
        'TRADECTL_LISTING_EXISTS',
        `${mapping.platform}/${mapping.account} ${mapping.kind} ${JSON.stringify(mapping.channelKey)} is already mapped to ${previous.tenant}/${previous.sku}`,
        { kind: 'data', details: { ...previous }, hint: 'pass --replace to map it to the new SKU' },
      );
    }
    await connection.query(
      `UPDATE ${listingsTable(router)} SET tenant = ?, sku = ?, updated_at = ? WHERE platform = ? AND account = ? AND key_kind = ? AND channel_key = ?`,
      [mapping.tenant, mapping.sku, now, mapping.platform, mapping.account, mapping.kind, mapping.channelKey],
    );
    return { outcome: 'updated', previous };
  });
}

export async function deleteListing(pool: Pool, router: ShardRouter, key: ListingCursor): Promise<boolean> {
  const [result] = await run('remove a listing', () =>
    pool.query<ResultSetHeader>(
      `DELETE FROM ${listingsTable(router)} WHERE platform = ? AND account = ? AND key_kind = ? AND channel_key = ?`,
      [key.platform, key.account, key.kind, key.channelKey],
    ),
  );
  return result.affectedRows > 0;
}

/**
 * Upserts every mapping in one transaction (all or nothing), counting what it creates, changes
 * and finds as it is. Mappings not in the import are left alone. A dry run only counts.
 */
export async function upsertListings(
  pool: Pool,
  router: ShardRouter,
  mappings: readonly ListingMapping[],
  now: string,
  dryRun: boolean,
): Promise<ImportResult> {
  const result: ImportResult = { created: 0, updated: 0, unchanged: 0, dryRun };
  await transaction(pool, 'import listings', async (connection) => {
    for (let start = 0; start < mappings.length; start += CHUNK) {
      const chunk = mappings.slice(start, start + CHUNK);
      const tuples = chunk.map(() => '(?, ?, ?, ?)').join(', ');
      const [rows] = await connection.query<RowDataPacket[]>(
        `SELECT platform, account, key_kind, channel_key, tenant, sku FROM ${listingsTable(router)} ` +
          `WHERE (platform, account, key_kind, channel_key) IN (${tuples})${dryRun ? '' : ' FOR UPDATE'}`,
        chunk.flatMap((m) => [m.platform, m.account, m.kind, m.channelKey]),
      );
      const existing = new Map(
        rows.map((row) => [
          listingKey(
            String(row.platform),
            String(row.account),
            row.key_kind as ListingKeyKind,
            String(row.channel_key),
          ),
          `${row.tenant}\u0000${row.sku}`,
        ]),
      );
      const changed = chunk.filter((m) => {
        const before = existing.get(listingKey(m.platform, m.account, m.kind, m.channelKey));
        if (before === undefined) result.created++;
        else if (before === `${m.tenant}\u0000${m.sku}`) {
          result.unchanged++;
          return false;
        } else result.updated++;
        return true;
      });
      if (dryRun || changed.length === 0) continue;
      await connection.query(
        `INSERT INTO ${listingsTable(router)} (${COLUMNS}) VALUES ${changed.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ` +
          'ON DUPLICATE KEY UPDATE tenant = VALUES(tenant), sku = VALUES(sku), updated_at = VALUES(updated_at)',
        changed.flatMap((m) => [...mappingValues(m), now, now]),
      );
    }
  });
  return result;
}

function mappingValues(mapping: ListingMapping): string[] {
  return [mapping.platform, mapping.account, mapping.kind, mapping.channelKey, mapping.tenant, mapping.sku];
}

function toListing(row: RowDataPacket): StoredListing {
  return {
    platform: String(row.platform) as Platform,
    account: String(row.account),
    kind: row.key_kind as ListingKeyKind,
    channelKey: String(row.channel_key),
    tenant: String(row.tenant),
    sku: String(row.sku),
    createdAt: fromSqlDateTime(String(row.created_at)),
    updatedAt: fromSqlDateTime(String(row.updated_at)),
  };
}

async function run<T>(operation: string, query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw classifyMysqlError(error, operation);
  }
}

async function transaction<T>(
  pool: Pool,
  operation: string,
  work: (connection: PoolConnection) => Promise<T>,
): Promise<T> {
  let connection: PoolConnection | undefined;
  try {
    connection = await pool.getConnection();
    await connection.beginTransaction();
    const result = await work(connection);
    await connection.commit();
    return result;
  } catch (error) {
    await connection?.rollback().catch(() => undefined);
    throw classifyMysqlError(error, operation);
  } finally {
    connection?.release();
  }
}
