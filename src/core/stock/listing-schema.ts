import type { Pool, ResultSetHeader } from 'mysql2/promise';
import { classifyMysqlError } from '../mysql-errors.js';
import type { ShardRouter } from '../shard-router.js';

/**
 * `<prefix>_meta.listings`: which internal SKU (and stock tenant) a channel listing sells. A
 * listing is named on its channel by the seller's SKU there (`key_kind = 'sku'`) or by the
 * channel's listing id (`'listing'`: ASIN, eBay item id, Shopify variant id), unique per platform
 * and account. `ix_listings_internal` serves the other direction: the listings of one internal
 * SKU, to push its quantity to every channel. utf8mb4_bin: channel SKUs are case-sensitive.
 */

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** `tradectl_meta`.`listings`: quoted and qualified. */
export function listingsTable(router: ShardRouter): string {
  return `\`${router.metaDatabaseName}\`.\`listings\``;
}

/** CREATE TABLE IF NOT EXISTS of the listings table (`tradectl shards init` runs it). */
export function listingTablesDdl(router: ShardRouter): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${listingsTable(router)} (
  platform VARCHAR(16) NOT NULL,
  account VARCHAR(64) NOT NULL,
  key_kind VARCHAR(8) NOT NULL,
  channel_key VARCHAR(128) NOT NULL,
  tenant VARCHAR(64) NOT NULL,
  sku VARCHAR(128) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (platform, account, key_kind, channel_key),
  KEY ix_listings_internal (tenant, sku)
) ${TABLE_OPTIONS}`,
  ];
}

/**
 * Creates the meta database if needed and the listings table (idempotent). For tests and tools
 * that do not run the whole `initShards`; `pool` is `MysqlPools.meta()`.
 */
export async function initListingTables(options: { pool: Pool; router: ShardRouter }): Promise<void> {
  const { pool, router } = options;
  try {
    await pool.query(
      `CREATE DATABASE IF NOT EXISTS \`${router.metaDatabaseName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    );
    for (const sql of listingTablesDdl(router)) await pool.query<ResultSetHeader>(sql);
  } catch (error) {
    throw classifyMysqlError(error, 'create the listings table', { database: router.metaDatabaseName });
  }
}
