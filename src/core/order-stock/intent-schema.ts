import type { ShardRouter } from '../shard-router.js';

/**
 * Tables of the order stock outbox (docs/stock-orders.md):
 *
 * - `<prefix>_NN.stock_intents`, one per shard DATABASE (not per table): what stock an order
 *   line must take or give back. Written in the same transaction as the order upsert, so an
 *   order version that commits always carries its intents, and nothing else does. Unique per
 *   marketplace line and kind (platform, account, platform order id, line id, kind): a line
 *   deducts at most once and is released at most once, ever, also when its order is deleted and
 *   stored again under a new id. The primary key (order id, line id, kind) is the first id's.
 *   The drainer moves `status` from `pending` to a final state after Redis answered.
 * - `<prefix>_meta.stock_order_issues`: lines that could not be deducted as sold (no listing
 *   mapping, stock ran short, SKU unknown to Redis), one row per line and kind, for operators.
 *
 * Names only come from the router's database names. Tables are created; the one change made to
 * an existing table is `intentTablesUpgrade` (intent-upgrade.ts), run by `tradectl shards init`.
 */

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** `tradectl_03`.`stock_intents` */
export function intentsTable(router: ShardRouter, database: number): string {
  return `\`${router.databaseName(database)}\`.\`stock_intents\``;
}

/** `tradectl_meta`.`stock_order_issues` */
export function issuesTable(router: ShardRouter): string {
  return `\`${router.metaDatabaseName}\`.\`stock_order_issues\``;
}

// What makes an intent unique: the marketplace line, never the id its order was stored under.
const LINE_KEY = 'UNIQUE KEY uk_stock_intents_line (platform, account, platform_order_id, line_id, kind)';

/**
 * The intents table of one shard database. `quantity` is what the line sold; `tenant`/`sku` the
 * internal SKU it was resolved to, persisted before Redis is called (a mapping changed later
 * cannot send a retry to another SKU); `applied_quantity` what Redis took or gave back;
 * `shortfall` what was sold without stock. `next_attempt_at` is when the sweep may pick the
 * row up: a little after it was written (the sink drains it itself first), later after failures.
 * `operation_key` is the base of the line's Redis operation ids (operation-ids.ts), NULL on rows
 * written before it existed. It is the last column, so a created and an upgraded table are alike.
 */
export function intentTablesDdl(router: ShardRouter, database: number): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${intentsTable(router, database)} (
  order_id BIGINT UNSIGNED NOT NULL,
  line_id VARCHAR(64) NOT NULL,
  kind VARCHAR(8) NOT NULL,
  platform VARCHAR(16) NOT NULL,
  account VARCHAR(64) NOT NULL,
  platform_order_id VARCHAR(64) NOT NULL,
  channel_sku VARCHAR(128) NULL,
  listing_id VARCHAR(128) NULL,
  quantity INT UNSIGNED NOT NULL,
  status VARCHAR(12) NOT NULL,
  tenant VARCHAR(64) NULL,
  sku VARCHAR(128) NULL,
  applied_quantity INT UNSIGNED NULL,
  shortfall INT UNSIGNED NULL,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  last_error VARCHAR(500) NULL,
  next_attempt_at DATETIME(3) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  operation_key VARCHAR(128) NULL,
  PRIMARY KEY (order_id, line_id, kind),
  KEY ix_stock_intents_due (status, next_attempt_at),
  ${LINE_KEY}
) ${TABLE_OPTIONS}`,
  ];
}

/**
 * Brings an intents table created before intents were unique per marketplace line to the
 * current shape. Fails with a duplicate key error when some line already has two intents of one
 * kind under two order ids (deducted twice before this change): see intent-upgrade.ts.
 */
export function intentTablesUpgrade(router: ShardRouter, database: number): string {
  return `ALTER TABLE ${intentsTable(router, database)} ADD COLUMN operation_key VARCHAR(128) NULL, ADD ${LINE_KEY}`;
}

/** The issues table in the meta database. */
export function issueTablesDdl(router: ShardRouter): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${issuesTable(router)} (
  order_id BIGINT UNSIGNED NOT NULL,
  line_id VARCHAR(64) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  platform VARCHAR(16) NOT NULL,
  account VARCHAR(64) NOT NULL,
  platform_order_id VARCHAR(64) NOT NULL,
  channel_sku VARCHAR(128) NULL,
  listing_id VARCHAR(128) NULL,
  tenant VARCHAR(64) NULL,
  sku VARCHAR(128) NULL,
  requested INT UNSIGNED NOT NULL,
  deducted INT UNSIGNED NOT NULL,
  shortfall INT UNSIGNED NOT NULL,
  detail VARCHAR(500) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (order_id, line_id, kind),
  KEY ix_stock_order_issues_kind (kind, created_at),
  KEY ix_stock_order_issues_account (platform, account, created_at)
) ${TABLE_OPTIONS}`,
  ];
}
