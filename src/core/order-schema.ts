import type { ShardLocation, ShardRouter } from './shard-router.js';

/**
 * DDL of the sharded order store, vertically split as in the seed: `orders_N` keeps the columns
 * every list and filter reads; `order_details_N` (buyer, address, money breakdown) and
 * `order_lines_N` are read only when one order is opened. Each table of a shard has the same
 * suffix and lives in the same database, so one order's rows are written in one transaction.
 * `order_lines_N.line_no` keeps the platform's line order, which the key (order_id, line_id) loses.
 *
 * Runs on MySQL 8 and MariaDB 10.11. utf8mb4_bin: platform ids are case-sensitive, and the
 * cross-shard merge compares strings byte-wise exactly as the database sorts them.
 * `updated_at` is the platform's update time: the version every upsert compares.
 */
const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export function orderTablesDdl(router: ShardRouter, location: ShardLocation): string[] {
  const orders = router.qualifiedTable(location, 'orders');
  const details = router.qualifiedTable(location, 'order_details');
  const lines = router.qualifiedTable(location, 'order_lines');
  return [
    `CREATE TABLE IF NOT EXISTS ${orders} (
  id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  platform VARCHAR(16) NOT NULL,
  account VARCHAR(64) NOT NULL,
  platform_order_id VARCHAR(64) NOT NULL,
  status VARCHAR(20) NOT NULL,
  raw_status VARCHAR(64) NOT NULL,
  status_unknown TINYINT(1) NOT NULL DEFAULT 0,
  refund_state VARCHAR(8) NOT NULL DEFAULT 'none',
  currency CHAR(3) NOT NULL,
  total_amount BIGINT NOT NULL,
  line_count SMALLINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  stored_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_platform_order (platform, account, platform_order_id),
  KEY idx_created (created_at, id),
  KEY idx_status_created (status, created_at, id),
  KEY idx_platform_created (platform, created_at, id),
  KEY idx_user_created (user_id, created_at, id),
  KEY idx_updated (updated_at, id)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS ${details} (
  order_id BIGINT UNSIGNED NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  marketplace VARCHAR(64) NULL,
  buyer_id VARCHAR(128) NULL,
  buyer_name VARCHAR(255) NULL,
  buyer_email VARCHAR(255) NULL,
  ship_name VARCHAR(255) NULL,
  ship_line1 VARCHAR(255) NULL,
  ship_line2 VARCHAR(255) NULL,
  ship_city VARCHAR(128) NULL,
  ship_region VARCHAR(128) NULL,
  ship_postal_code VARCHAR(32) NULL,
  ship_country CHAR(2) NULL,
  ship_phone VARCHAR(64) NULL,
  subtotal_amount BIGINT NOT NULL,
  shipping_amount BIGINT NOT NULL,
  tax_amount BIGINT NOT NULL,
  discount_amount BIGINT NOT NULL,
  refunded_amount BIGINT NOT NULL,
  paid_at DATETIME(3) NULL,
  shipped_at DATETIME(3) NULL,
  cancelled_at DATETIME(3) NULL,
  PRIMARY KEY (order_id)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS ${lines} (
  order_id BIGINT UNSIGNED NOT NULL,
  line_id VARCHAR(64) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  line_no SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  sku VARCHAR(128) NULL,
  listing_id VARCHAR(128) NULL,
  title VARCHAR(512) NOT NULL,
  quantity INT UNSIGNED NOT NULL,
  quantity_shipped INT UNSIGNED NOT NULL,
  unit_price_amount BIGINT NOT NULL,
  total_amount BIGINT NOT NULL,
  tax_amount BIGINT NOT NULL,
  cancelled TINYINT(1) NOT NULL,
  PRIMARY KEY (order_id, line_id),
  KEY idx_sku (sku)
) ${TABLE_OPTIONS}`,
  ];
}

/**
 * The meta database: what is not sharded by user. `order_locator` answers "which shard holds
 * order id X" without scanning (Snowflake ids keep their 41/10/12 layout, so the shard is not in
 * the id); `sync_checkpoints` is per (platform, account).
 */
export function metaTablesDdl(router: ShardRouter): string[] {
  const meta = `\`${router.metaDatabaseName}\``;
  return [
    `CREATE TABLE IF NOT EXISTS ${meta}.\`order_locator\` (
  order_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (order_id)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS ${meta}.\`sync_checkpoints\` (
  platform VARCHAR(16) NOT NULL,
  account VARCHAR(64) NOT NULL,
  cursor_time DATETIME(3) NOT NULL,
  cursor_id VARCHAR(64) NOT NULL DEFAULT '',
  fencing_token BIGINT UNSIGNED NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (platform, account)
) ${TABLE_OPTIONS}`,
  ];
}
