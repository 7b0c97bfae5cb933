import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { forEachBounded } from '../bounded-concurrency.js';
import { TradectlError } from '../errors.js';
import { currencyExponent } from '../money.js';
import { classifyMysqlError } from '../mysql-errors.js';
import { DETAIL_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS } from '../order-rows.js';
import type { ShardLocation } from '../shard-router.js';
import type { LayoutHandle } from './layouts.js';
import { type LegacyRow, type LegacySource, legacyRowToOrder, STATUS_MAP } from './legacy-mapping.js';
import { legacyTableName } from './legacy-table.js';

/**
 * The legacy backfill done by the server: a batch never passes through this process.
 *
 *   1. INSERT INTO stage SELECT <mapping> FROM legacy WHERE id > ? AND id <= ? ORDER BY id LIMIT n
 *      (the mapping of legacy-mapping.ts written in SQL; rows it would refuse are looked for
 *      first and, if any, mapped here so the error names the row and field)
 *   2. staged orders the target already holds in the same or a newer version are dropped from the
 *      stage (a live order must not be replaced by the legacy table's lossy copy)
 *   3. per eight target tables, one transaction: for each table the versioned INSERT ... SELECT
 *      ... ON DUPLICATE KEY UPDATE into orders, then details and lines only for orders whose
 *      version applied, then the lines an older stored version had (none, unless the target
 *      held an older version)
 *   4. the order locator, from the stage
 *
 * Used when the legacy table and every target database share one server (mysql.url); the
 * client-side writer (layout-writer.ts) covers everything else. Verify maps every legacy row
 * with legacyRowToOrder, so a difference between the two mappings shows up there.
 */

const quoted = (columns: readonly string[]) => columns.map((column) => `\`${column}\``).join(', ');

export function canCopyOnServer(handle: LayoutHandle, mysqlUrl: string): boolean {
  const servers = handle.pools.servers();
  return servers.length === 1 && servers[0]!.url === mysqlUrl;
}

export interface BulkBatch {
  rows: number;
  lastId: string | null;
  done: boolean;
}

export interface LegacyBulkCopier {
  copy(afterId: string | null, limit: number): Promise<BulkBatch>;
  /** Drops the stage table. */
  dispose(): Promise<void>;
}

export async function createLegacyBulkCopier(input: {
  pool: Pool;
  legacy: LegacySource;
  target: LayoutHandle;
  migrationId: number;
  concurrency: number;
}): Promise<LegacyBulkCopier> {
  const { pool, legacy, target } = input;
  const { router } = target;
  const stage = `\`${router.metaDatabaseName}\`.\`migration_stage_${input.migrationId}\``;
  const legacyTable = legacyTableName(legacy);
  const scale = `1${'0'.repeat(currencyExponent(legacy.currency))}`;
  const { databases, tablesPerDatabase } = router.layout;
  const locations = [...router.all()];
  await run(pool, `DROP TABLE IF EXISTS ${stage}`);
  await run(
    pool,
    `CREATE TABLE ${stage} (
  s_id BIGINT UNSIGNED NOT NULL, s_user_id BIGINT UNSIGNED NOT NULL, shard INT UNSIGNED NOT NULL,
  s_status VARCHAR(20) NOT NULL, s_raw_status VARCHAR(64) NOT NULL, s_unknown TINYINT(1) NOT NULL,
  s_total BIGINT NOT NULL, s_created_at DATETIME(3) NOT NULL, s_updated_at DATETIME(3) NOT NULL,
  s_sku VARCHAR(128) NULL, s_quantity INT UNSIGNED NOT NULL,
  PRIMARY KEY (shard, s_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  );

  // Under REPEATABLE READ, INSERT ... SELECT puts shared next-key locks on every row it reads:
  // a batch of the live legacy table, which the old application may still write, and the stage.
  // READ COMMITTED reads a snapshot without locks; the rows written stay locked until COMMIT,
  // which is all the version checks rely on. SET TRANSACTION covers the next transaction only,
  // so pooled connections keep their default. A server logging statements (binlog_format
  // STATEMENT) refuses such writes under READ COMMITTED, so there the default stays.
  const [logging] = await run(pool, 'SELECT @@log_bin AS log_bin, @@binlog_format AS format');
  const logsStatements =
    Number(logging!.log_bin) === 1 && String(logging!.format).toUpperCase() === 'STATEMENT';
  const readCommitted = logsStatements ? '' : 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED;\n';

  // The mapping of legacyRowToOrder, in SQL. Times are cut (never rounded) to milliseconds: the
  // microseconds past the millisecond are subtracted first, so the cast has nothing to round
  // (MySQL's cast rounds; MariaDB's cuts, so the tests, run on MariaDB, cannot tell).
  const key = "LOWER(TRIM(IFNULL(`status`, '')))";
  const statusCase = `CASE ${Object.entries(STATUS_MAP)
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
  const fill =
    `INSERT INTO ${stage} SELECT \`id\`, \`user_id\`, ` +
    `((\`user_id\` DIV ${tablesPerDatabase}) % ${databases}) * ${tablesPerDatabase} + \`user_id\` % ${tablesPerDatabase}, ` +
    `${statusCase.replace(/CASE /, `CASE ${key} `)}, IFNULL(\`status\`, ''), ${key} NOT IN (${known}), ` +
    `CAST(\`amount\` * ${scale} AS SIGNED), ${time('created_at')}, ${updated}, ` +
    `CAST(\`product_id\` AS CHAR), \`quantity\` FROM ${legacyTable} ` +
    'WHERE `id` > CAST(? AS SIGNED) AND `id` <= CAST(? AS SIGNED)';
  // The batch's end first (an index-only keyset scan), so the checks and the copy share one range.
  const range =
    `SELECT COUNT(*) AS n, MAX(\`id\`) AS hi FROM (SELECT \`id\` FROM ${legacyTable} ` +
    'WHERE `id` > CAST(? AS SIGNED) AND `id` <= CAST(? AS SIGNED) ORDER BY `id` LIMIT ?) AS batch';
  // Rows legacyRowToOrder refuses: any one of them is mapped here to raise its named error.
  const shifted = (column: string) => `(\`${column}\` - INTERVAL ${legacy.utcOffsetMinutes} MINUTE)`;
  const badTime = (column: string) =>
    `${shifted(column)} IS NULL OR ${shifted(column)} < '2000-01-01' OR ${shifted(column)} >= '2200-01-01'`;
  const bad =
    `SELECT * FROM ${legacyTable} WHERE \`id\` > CAST(? AS SIGNED) AND \`id\` <= CAST(? AS SIGNED) AND (` +
    `\`id\` < 0 OR \`user_id\` IS NULL OR \`user_id\` < 0 OR \`quantity\` IS NULL OR \`quantity\` < 1 ` +
    `OR \`amount\` IS NULL OR \`amount\` * ${scale} <> TRUNCATE(\`amount\` * ${scale}, 0) ` +
    `OR CHAR_LENGTH(IFNULL(\`status\`, '')) > 64 OR ${badTime('created_at')}` +
    (legacy.hasUpdatedAt
      ? ` OR (\`updated_at\` IS NOT NULL AND (${badTime('updated_at')} OR \`updated_at\` < \`created_at\`))`
      : '') +
    ') ORDER BY `id` LIMIT 1';

  const orderColumns = ORDER_COLUMNS;
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
  // The versioned assignments of order-store-sql.ts, with the target's columns qualified: the
  // SELECT joins the orders table, whose updated_at would otherwise be ambiguous.
  const versioned = (table: string, columns: readonly string[], keys: readonly string[]) => {
    const col = (column: string) => `${table}.\`${column}\``;
    return [
      ...columns
        .filter((column) => column !== 'updated_at' && !keys.includes(column))
        .map(
          (column) =>
            `${col(column)} = IF(VALUES(\`updated_at\`) >= ${col('updated_at')}, VALUES(\`${column}\`), ${col(column)})`,
        ),
      `${col('updated_at')} = GREATEST(${col('updated_at')}, VALUES(\`updated_at\`))`,
    ].join(', ');
  };
  const shardStatements = (location: ShardLocation, shard: number, stale: boolean) => {
    const orders = router.qualifiedTable(location, 'orders');
    const details = router.qualifiedTable(location, 'order_details');
    const lines = router.qualifiedTable(location, 'order_lines');
    const applied = `FROM ${stage} AS s JOIN ${orders} AS o ON o.\`id\` = s.s_id AND o.\`updated_at\` = s.s_updated_at WHERE s.shard = ${shard}`;
    return [
      `INSERT INTO ${orders} (${quoted(orderColumns)}) SELECT ${orderValues} FROM ${stage} WHERE shard = ${shard} ` +
        `ON DUPLICATE KEY UPDATE ${versioned(orders, orderColumns, ['id', 'platform', 'account', 'platform_order_id'])}`,
      `INSERT INTO ${details} (${quoted(DETAIL_COLUMNS)}) SELECT ${detailValues} ${applied} ON DUPLICATE KEY UPDATE ${versioned(details, DETAIL_COLUMNS, ['order_id'])}`,
      `INSERT INTO ${lines} (${quoted(LINE_COLUMNS)}) SELECT ${lineValues} ${applied} ON DUPLICATE KEY UPDATE ${versioned(lines, LINE_COLUMNS, ['order_id', 'line_id'])}`,
      ...(stale
        ? [
            // The derived table lets MySQL 8 delete from a table the subquery reads.
            `DELETE FROM ${lines} WHERE (\`order_id\`, \`line_id\`) IN (SELECT * FROM (SELECT l.\`order_id\`, l.\`line_id\` ` +
              `FROM ${lines} AS l JOIN ${stage} AS s ON s.s_id = l.\`order_id\` ` +
              `WHERE s.shard = ${shard} AND l.\`updated_at\` < s.s_updated_at) AS stale)`,
          ]
        : []),
    ];
  };

  let batches = 0;
  return {
    async copy(afterId, limit) {
      const from = afterId ?? '-1';
      const [batch] = await run(pool, range, [from, legacy.highKey, limit]);
      const rows = Number(batch!.n);
      if (rows === 0) return { rows, lastId: afterId, done: true };
      const to = String(batch!.hi);
      await run(pool, `TRUNCATE TABLE ${stage}`);
      // Each statement runs on one server core: the refused-row check and the fill's two halves
      // run side by side. A refused row is reported (named) before any error of the fill, which
      // such a row may have caused; the stage is scratch.
      const [check, ...fills] = await Promise.allSettled([
        run(pool, bad, [from, to]),
        ...halves(from, to).map(([low, high]) => run(pool, `${readCommitted}${fill}`, [low, high])),
      ]);
      const badRow = check.status === 'fulfilled' ? check.value[0] : undefined;
      if (badRow) legacyRowToOrder(badRow as unknown as LegacyRow, legacy);
      throwFirstFailure([check, ...fills]);

      // Orders the target already holds: same or newer versions leave the stage; older ones
      // mark their table for the stale-lines delete.
      const shardRows = await run(pool, `SELECT DISTINCT shard FROM ${stage}`);
      // Every other batch walks the tables backwards: a layout with more tables than the
      // server's table cache, walked in one order every time, reopens every table every batch
      // (LRU's worst case); turning around starts each batch on the tables still open.
      const shards = shardRows
        .map((row) => Number(row.shard))
        .sort((a, b) => (batches % 2 === 0 ? a - b : b - a));
      batches++;
      const stale = new Set<number>();
      const drop: [number, string][] = [];
      await forEachBounded(chunk(shards, 64), 4, async (part) => {
        const sql = part
          .map(
            (shard) =>
              `SELECT ${shard} AS shard, s.s_id AS id, o.\`updated_at\` >= s.s_updated_at AS current, ` +
              '(o.`platform` <> ? OR o.`account` <> ? OR o.`platform_order_id` <> CAST(s.s_id AS CHAR)) AS foreign_key ' +
              `FROM ${stage} AS s ` +
              `JOIN ${router.qualifiedTable(locations[shard]!, 'orders')} AS o ON o.\`id\` = s.s_id WHERE s.shard = ${shard}`,
          )
          .join(' UNION ALL ');
        const found = await run(
          pool,
          sql,
          part.flatMap(() => [legacy.platform, legacy.account]),
        );
        for (const row of found) {
          if (Number(row.foreign_key) === 1) {
            // Writing would update another order's row (ON DUPLICATE KEY fires on the id).
            throw new TradectlError(
              'TRADECTL_ID_COLLISION',
              `legacy id ${row.id} is another order's id in the target`,
              {
                kind: 'internal',
                details: { id: String(row.id) },
                hint: 'legacy ids must not overlap the ids tradectl issued; see docs/migrate-shards.md',
              },
            );
          }
          if (Number(row.current) === 1) drop.push([Number(row.shard), String(row.id)]);
          else stale.add(Number(row.shard));
        }
      });
      for (const part of chunk(drop, 1000)) {
        await run(
          pool,
          `DELETE FROM ${stage} WHERE (shard, s_id) IN (${part.map(() => '(?, CAST(? AS UNSIGNED))').join(', ')})`,
          part.flat(),
        );
      }

      const values = [legacy.platform, legacy.account, legacy.currency];
      const written = await Promise.allSettled([
        // Eight tables per round trip and transaction, `concurrency` round trips at once: one
        // COMMIT per eight tables instead of one per table (at 16 x 256 a table gets ~250 rows a
        // batch, so per-statement costs dominate). A live writer's transaction touches one table
        // of these, so the larger transaction adds lock waits, not lock cycles.
        forEachBounded(chunk(shards, 8), input.concurrency, async (part) => {
          const statements = part.flatMap((shard) =>
            shardStatements(locations[shard]!, shard, stale.has(shard)),
          );
          const parameters = part.flatMap(() => values);
          await inTransaction(
            target.pools.forDatabase(locations[part[0]!]!.database),
            `${readCommitted}SET autocommit = 0;\n${statements.join(';\n')};\nCOMMIT;\nSET autocommit = 1`,
            parameters,
          );
        }),
        // The locator alongside: one statement, one core, independent of the order rows.
        run(
          pool,
          `INSERT IGNORE INTO \`${router.metaDatabaseName}\`.\`order_locator\` (order_id, user_id) SELECT s_id, s_user_id FROM ${stage} ORDER BY s_id`,
        ),
      ]);
      throwFirstFailure(written);
      return { rows, lastId: to, done: rows < limit };
    },
    dispose: async () => {
      await run(pool, `DROP TABLE IF EXISTS ${stage}`);
    },
  };
}

async function run(pool: Pool, sql: string, values: unknown[] = []): Promise<RowDataPacket[]> {
  try {
    const [rows] = await pool.query<RowDataPacket[]>(sql, values);
    return rows;
  } catch (error) {
    throw classifyMysqlError(error, 'copy legacy rows on the server');
  }
}

/**
 * One multi-statement round trip holding a whole transaction (`SET autocommit = 0; ...; COMMIT;
 * SET autocommit = 1`). On failure the open transaction is rolled back, or the connection dropped.
 */
async function inTransaction(pool: Pool, sql: string, values: unknown[]): Promise<void> {
  let connection: PoolConnection | undefined;
  try {
    connection = await pool.getConnection();
    await connection.query(sql, values);
    connection.release();
  } catch (error) {
    if (connection) {
      const held = connection;
      await held
        .query('ROLLBACK; SET autocommit = 1')
        .then(() => held.release())
        .catch(() => held.destroy());
    }
    throw classifyMysqlError(error, 'copy legacy rows on the server');
  }
}

/** The id range (from, to] in two halves by value (keyset bounds, BIGINT-safe). */
function halves(from: string, to: string): [string, string][] {
  const low = BigInt(from);
  const middle = low + (BigInt(to) - low) / 2n;
  return [
    [from, String(middle)],
    [String(middle), to],
  ];
}

/** Waits for every promise (none is left running), then rethrows the first failure. */
function throwFirstFailure(settled: readonly PromiseSettledResult<unknown>[]): void {
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size));
  return out;
}
