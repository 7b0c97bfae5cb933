import type { Pool, ResultSetHeader } from 'mysql2/promise';
import { classifyMysqlError } from '../mysql-errors.js';
import type { ShardRouter } from '../shard-router.js';

/**
 * The durable side of stock, in the meta database (`<prefix>_meta`):
 *
 * - `inventory`: per tenant and SKU, what the drained ledger adds up to. `on_hand` counts units
 *   not yet sold (available + reserved in Redis), `reserved` those held by reservations;
 *   `version` is the highest Redis version drained.
 * - `stock_ledger`: one row per SKU per applied change, unique by (tenant, operation id, kind,
 *   sku), which is what makes draining idempotent: a change delivered twice inserts once and
 *   moves `inventory` once. `delta` is the change of on_hand, `reserved_delta` of reserved.
 * - `stock_ledger_rejects`: stream entries that could not be read (written by something other
 *   than these scripts); kept with the reason instead of being dropped.
 *
 * Names only come from the router; tables are created, never altered or dropped.
 */

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const STOCK_TABLES = ['inventory', 'stock_ledger', 'stock_ledger_rejects'] as const;
export type StockTable = (typeof STOCK_TABLES)[number];

/** `tradectl_meta`.`inventory`: quoted and qualified. */
export function stockTable(router: ShardRouter, table: StockTable): string {
  return `\`${router.metaDatabaseName}\`.\`${table}\``;
}

/** CREATE TABLE IF NOT EXISTS statements of the stock tables, in creation order. */
export function stockTablesDdl(router: ShardRouter): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${stockTable(router, 'inventory')} (
  tenant VARCHAR(64) NOT NULL,
  sku VARCHAR(128) NOT NULL,
  on_hand BIGINT NOT NULL,
  reserved BIGINT NOT NULL,
  version BIGINT UNSIGNED NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (tenant, sku)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS ${stockTable(router, 'stock_ledger')} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  tenant VARCHAR(64) NOT NULL,
  operation_id VARCHAR(128) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  sku VARCHAR(128) NOT NULL,
  delta BIGINT NOT NULL,
  reserved_delta BIGINT NOT NULL,
  available_after BIGINT NOT NULL,
  reserved_after BIGINT NOT NULL,
  version BIGINT UNSIGNED NOT NULL,
  stream_id VARCHAR(41) NOT NULL,
  occurred_at DATETIME(3) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_stock_ledger_operation (tenant, operation_id, kind, sku),
  KEY ix_stock_ledger_sku (tenant, sku, id)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS ${stockTable(router, 'stock_ledger_rejects')} (
  tenant VARCHAR(64) NOT NULL,
  stream_id VARCHAR(41) NOT NULL,
  reason VARCHAR(500) NOT NULL,
  fields MEDIUMTEXT NOT NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (tenant, stream_id)
) ${TABLE_OPTIONS}`,
  ];
}

export interface InitStockTablesResult {
  tablesCreated: number;
  tablesExisting: number;
}

/**
 * Creates the meta database if needed and every missing stock table (idempotent; safe to run
 * concurrently). `pool` is the meta database's server: `MysqlPools.meta()`.
 */
export async function initStockTables(options: {
  pool: Pool;
  router: ShardRouter;
}): Promise<InitStockTablesResult> {
  const { pool, router } = options;
  const result: InitStockTablesResult = { tablesCreated: 0, tablesExisting: 0 };
  try {
    await pool.query(
      `CREATE DATABASE IF NOT EXISTS \`${router.metaDatabaseName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    );
    for (const sql of stockTablesDdl(router)) {
      const [header] = await pool.query<ResultSetHeader>(sql);
      // IF NOT EXISTS turns an existing table into a warning.
      if (header.warningStatus > 0) result.tablesExisting++;
      else result.tablesCreated++;
    }
  } catch (error) {
    throw classifyMysqlError(error, 'create the stock tables', { database: router.metaDatabaseName });
  }
  return result;
}
