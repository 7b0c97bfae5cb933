import { currencyExponent } from '../money.js';
import { DETAIL_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS } from '../order-rows.js';
import { columnList, versionedAssignments } from '../order-store-sql.js';
import type { ShardLocation, ShardRouter } from '../shard-router.js';
import { type LegacySource, STATUS_MAP } from './legacy-mapping.js';
import { legacyTableName } from './legacy-table.js';

/**
 * The SQL of the server-side legacy copy (legacy-bulk.ts runs it): the mapping of
 * legacyRowToOrder written in SQL, into a stage table keyed by (target table, id), and from the
 * stage into each target table with the store's versioned upsert. Text only; values the caller
 * binds are marked `?` and named on each statement.
 */
export interface LegacyBulkSql {
  stage: string;
  createStage: string;
  /** [from, highKey, limit] -> n, hi: the batch's row count and last id (a keyset scan). */
  range: string;
  /** [from, to] -> the first row legacyRowToOrder refuses, if any (all columns). */
  refusedRow: string;
  /** [from, to] -> the batch mapped into the stage. */
  fill: string;
  /** The target table the stage's `shard` column numbers (the fill computes it from user_id). */
  locationOf(shard: number): ShardLocation;
  /** [platform, account] per table -> staged orders the tables already hold (shard, id, current, foreign_key). */
  existing(shards: readonly number[]): string;
  /** [shard, id] per order. */
  dropStaged(count: number): string;
  /** [platform, account, currency] -> one table's versioned upserts (and its stale lines' delete). */
  tableStatements(shard: number, stale: boolean): string[];
  locator: string;
}

export function legacyBulkSql(input: {
  legacy: LegacySource;
  router: ShardRouter;
  migrationId: number;
}): LegacyBulkSql {
  const { legacy, router } = input;
  const stage = `\`${router.metaDatabaseName}\`.\`migration_stage_${input.migrationId}\``;
  const legacyTable = legacyTableName(legacy);
  const scale = `1${'0'.repeat(currencyExponent(legacy.currency))}`;
  const { databases, tablesPerDatabase } = router.layout;
  const locations: ShardLocation[] = [...router.all()];
  const inBatch = 'WHERE `id` > CAST(? AS SIGNED) AND `id` <= CAST(? AS SIGNED)';

  // Times are cut (never rounded) to milliseconds: the microseconds past the millisecond are
  // subtracted first, so the cast has nothing to round (MySQL's cast rounds; MariaDB's cuts, so
  // the tests, run on MariaDB, cannot tell).
  const key = "LOWER(TRIM(IFNULL(`status`, '')))";
  const statusCase = `CASE ${key} ${Object.entries(STATUS_MAP)
    .map(([word, status]) => `WHEN '${word}' THEN '${status}'`)
    .join(' ')} ELSE 'pending' END`;
  const known = Object.keys(STATUS_MAP)
    .map((word) => `'${word}'`)
    .join(', ');
  const time = (column: string) =>
    `CAST(\`${column}\` - INTERVAL ${legacy.utcOffsetMinutes} MINUTE - INTERVAL MICROSECOND(\`${column}\`) % 1000 MICROSECOND AS DATETIME(3))`;
  // A NULL updated_at is the created_at version, as in legacyRowToOrder.
  const updated = legacy.hasUpdatedAt
    ? `IFNULL(${time('updated_at')}, ${time('created_at')})`
    : time('created_at');
  const shifted = (column: string) => `(\`${column}\` - INTERVAL ${legacy.utcOffsetMinutes} MINUTE)`;
  const badTime = (column: string) =>
    `${shifted(column)} IS NULL OR ${shifted(column)} < '2000-01-01' OR ${shifted(column)} >= '2200-01-01'`;

  const orderValues =
    `s_id, s_user_id, ?, ?, CAST(s_id AS CHAR), s_status, s_raw_status, s_unknown, ` +
    `IF(s_status = 'refunded', 'full', 'none'), ?, s_total, 1, s_created_at, s_updated_at, UTC_TIMESTAMP(3)`;
  const detailValues = DETAIL_COLUMNS.map((column) =>
    column === 'order_id'
      ? 's.s_id'
      : column === 'updated_at'
        ? 's.s_updated_at'
        : column === 'subtotal_amount'
          ? 's.s_total'
          : column.endsWith('_amount')
            ? '0'
            : 'NULL',
  ).join(', ');
  const lineValues =
    "s.s_id, '1', s.s_updated_at, 0, s.s_sku, NULL, '', s.s_quantity, " +
    "IF(s.s_status IN ('shipped', 'delivered'), s.s_quantity, 0), s.s_total DIV s.s_quantity, s.s_total, 0, s.s_status = 'cancelled'";
  // The target's columns qualified: the SELECT joins the orders table, whose updated_at would
  // otherwise be ambiguous.
  const versioned = (table: string, columns: readonly string[], keys: readonly string[]) =>
    versionedAssignments(columns, keys, (column) => `${table}.\`${column}\``).join(', ');
  const locationOf = (shard: number) => locations[shard]!;
  const table = (shard: number, kind: 'orders' | 'order_details' | 'order_lines') =>
    router.qualifiedTable(locationOf(shard), kind);

  return {
    stage,
    locationOf,
    createStage: `CREATE TABLE ${stage} (
  s_id BIGINT UNSIGNED NOT NULL, s_user_id BIGINT UNSIGNED NOT NULL, shard INT UNSIGNED NOT NULL,
  s_status VARCHAR(20) NOT NULL, s_raw_status VARCHAR(64) NOT NULL, s_unknown TINYINT(1) NOT NULL,
  s_total BIGINT NOT NULL, s_created_at DATETIME(3) NOT NULL, s_updated_at DATETIME(3) NOT NULL,
  s_sku VARCHAR(128) NULL, s_quantity INT UNSIGNED NOT NULL,
  PRIMARY KEY (shard, s_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    range:
      `SELECT COUNT(*) AS n, MAX(\`id\`) AS hi FROM (SELECT \`id\` FROM ${legacyTable} ` +
      `${inBatch} ORDER BY \`id\` LIMIT ?) AS batch`,
    refusedRow:
      `SELECT * FROM ${legacyTable} ${inBatch} AND (` +
      `\`id\` < 0 OR \`user_id\` IS NULL OR \`user_id\` < 0 OR \`quantity\` IS NULL OR \`quantity\` < 1 ` +
      `OR \`amount\` IS NULL OR \`amount\` * ${scale} <> TRUNCATE(\`amount\` * ${scale}, 0) ` +
      `OR CHAR_LENGTH(IFNULL(\`status\`, '')) > 64 OR ${badTime('created_at')}` +
      (legacy.hasUpdatedAt
        ? ` OR (\`updated_at\` IS NOT NULL AND (${badTime('updated_at')} OR \`updated_at\` < \`created_at\`))`
        : '') +
      ') ORDER BY `id` LIMIT 1',
    fill:
      `INSERT INTO ${stage} SELECT \`id\`, \`user_id\`, ` +
      `((\`user_id\` DIV ${tablesPerDatabase}) % ${databases}) * ${tablesPerDatabase} + \`user_id\` % ${tablesPerDatabase}, ` +
      `${statusCase}, IFNULL(\`status\`, ''), ${key} NOT IN (${known}), ` +
      `CAST(\`amount\` * ${scale} AS SIGNED), ${time('created_at')}, ${updated}, ` +
      `CAST(\`product_id\` AS CHAR), \`quantity\` FROM ${legacyTable} ${inBatch}`,
    existing: (shards) =>
      shards
        .map(
          (shard) =>
            `SELECT ${shard} AS shard, s.s_id AS id, o.\`updated_at\` >= s.s_updated_at AS current, ` +
            '(o.`platform` <> ? OR o.`account` <> ? OR o.`platform_order_id` <> CAST(s.s_id AS CHAR)) AS foreign_key ' +
            `FROM ${stage} AS s JOIN ${table(shard, 'orders')} AS o ON o.\`id\` = s.s_id WHERE s.shard = ${shard}`,
        )
        .join(' UNION ALL '),
    dropStaged: (count) =>
      `DELETE FROM ${stage} WHERE (shard, s_id) IN (${Array.from({ length: count }, () => '(?, CAST(? AS UNSIGNED))').join(', ')})`,
    tableStatements(shard, stale) {
      const orders = table(shard, 'orders');
      const details = table(shard, 'order_details');
      const lines = table(shard, 'order_lines');
      const applied = `FROM ${stage} AS s JOIN ${orders} AS o ON o.\`id\` = s.s_id AND o.\`updated_at\` = s.s_updated_at WHERE s.shard = ${shard}`;
      return [
        `INSERT INTO ${orders} (${columnList(ORDER_COLUMNS)}) SELECT ${orderValues} FROM ${stage} WHERE shard = ${shard} ` +
          `ON DUPLICATE KEY UPDATE ${versioned(orders, ORDER_COLUMNS, ['id', 'platform', 'account', 'platform_order_id'])}`,
        `INSERT INTO ${details} (${columnList(DETAIL_COLUMNS)}) SELECT ${detailValues} ${applied} ON DUPLICATE KEY UPDATE ${versioned(details, DETAIL_COLUMNS, ['order_id'])}`,
        `INSERT INTO ${lines} (${columnList(LINE_COLUMNS)}) SELECT ${lineValues} ${applied} ON DUPLICATE KEY UPDATE ${versioned(lines, LINE_COLUMNS, ['order_id', 'line_id'])}`,
        ...(stale
          ? [
              // The derived table lets MySQL 8 delete from a table the subquery reads.
              `DELETE FROM ${lines} WHERE (\`order_id\`, \`line_id\`) IN (SELECT * FROM (SELECT l.\`order_id\`, l.\`line_id\` ` +
                `FROM ${lines} AS l JOIN ${stage} AS s ON s.s_id = l.\`order_id\` ` +
                `WHERE s.shard = ${shard} AND l.\`updated_at\` < s.s_updated_at) AS stale)`,
            ]
          : []),
      ];
    },
    locator: `INSERT IGNORE INTO \`${router.metaDatabaseName}\`.\`order_locator\` (order_id, user_id) SELECT s_id, s_user_id FROM ${stage} ORDER BY s_id`,
  };
}
