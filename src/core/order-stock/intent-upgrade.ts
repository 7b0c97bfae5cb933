import type { RowDataPacket } from 'mysql2/promise';
import { forEachBounded } from '../bounded-concurrency.js';
import { TradectlError } from '../errors.js';
import { mysqlErrno } from '../mysql-errors.js';
import type { MysqlPools } from '../mysql-pools.js';
import type { ShardRouter } from '../shard-router.js';
import { intentsTable, intentTablesUpgrade } from './intent-schema.js';

/**
 * Brings `stock_intents` tables created before intents were unique per marketplace line to the
 * current shape (docs/stock-orders.md, "Upgrading"): the `operation_key` column and the unique
 * key on the line. Run by `tradectl shards init`; idempotent, and safe next to a concurrent init.
 *
 * Existing rows keep their order-id operation ids (`operation_key` NULL), so a release of a
 * deduction made before the upgrade restores exactly the operation that took the stock.
 */

const ER_DUP_FIELDNAME = 1060;
const ER_DUP_KEYNAME = 1061;
const ER_DUP_ENTRY = 1062;
// Lines named in the error when some were deducted twice; the query in the docs lists them all.
const SHOWN_DUPLICATES = 20;

export interface IntentUpgradeOptions {
  pools: MysqlPools;
  router: ShardRouter;
  /** Only report which tables need it. */
  dryRun: boolean;
  /** Databases handled at once. */
  concurrency: number;
}

/** The intents tables upgraded (or, on a dry run, that would be), qualified, in database order. */
export async function upgradeIntentTables(options: IntentUpgradeOptions): Promise<string[]> {
  const { pools, router } = options;
  const databases = Array.from({ length: router.layout.databases }, (_, index) => index);
  const upgraded: number[] = [];
  await forEachBounded(databases, options.concurrency, async (database) => {
    const pool = pools.forDatabase(database);
    const [columns] = await pool.query<RowDataPacket[]>(
      'SELECT `COLUMN_NAME` AS `name` FROM information_schema.`COLUMNS` ' +
        "WHERE `TABLE_SCHEMA` = ? AND `TABLE_NAME` = 'stock_intents' AND `COLUMN_NAME` IN ('order_id', 'operation_key')",
      [router.databaseName(database)],
    );
    const names = new Set(columns.map((row) => String(row.name)));
    // No table: a dry run, or a database that init could not create; it is created current.
    if (!names.has('order_id') || names.has('operation_key')) return;
    if (options.dryRun) {
      upgraded.push(database);
      return;
    }
    try {
      await pool.query(intentTablesUpgrade(router, database));
      upgraded.push(database);
    } catch (error) {
      const errno = mysqlErrno(error);
      // A concurrent init upgraded it first: ALTER TABLE is atomic, so all of it is there.
      if (errno === ER_DUP_FIELDNAME || errno === ER_DUP_KEYNAME) return;
      if (errno === ER_DUP_ENTRY) throw await duplicatedLines(options, database, error);
      throw error;
    }
  });
  return upgraded.sort((a, b) => a - b).map((database) => intentsTable(router, database));
}

/** The error for a table where some line has two intents of one kind under two order ids. */
async function duplicatedLines(
  { pools, router }: IntentUpgradeOptions,
  database: number,
  cause: unknown,
): Promise<TradectlError> {
  const table = intentsTable(router, database);
  const [rows] = await pools
    .forDatabase(database)
    .query<RowDataPacket[]>(
      'SELECT `platform`, `account`, `platform_order_id`, `line_id`, `kind`, ' +
        'GROUP_CONCAT(`order_id` ORDER BY `order_id`) AS `order_ids` ' +
        `FROM ${table} GROUP BY \`platform\`, \`account\`, \`platform_order_id\`, \`line_id\`, \`kind\` ` +
        'HAVING COUNT(*) > 1 ORDER BY `platform`, `account`, `platform_order_id`, `line_id`, `kind` LIMIT ?',
      [SHOWN_DUPLICATES],
    );
  const lines = rows.map((row) => ({
    platform: String(row.platform),
    account: String(row.account),
    platformOrderId: String(row.platform_order_id),
    lineId: String(row.line_id),
    kind: String(row.kind),
    orderIds: String(row.order_ids).split(','),
  }));
  const example = lines[0];
  const shown = example
    ? `, e.g. ${example.platform}:${example.account}:${example.platformOrderId} line ${example.lineId} ${example.kind} under order ids ${example.orderIds.join(' and ')}`
    : '';
  return new TradectlError(
    'TRADECTL_STOCK_INTENTS_DUPLICATED',
    `cannot make ${table} unique per marketplace line: some lines have intents under two order ids (re-stored orders deducted twice)${shown}`,
    {
      kind: 'data',
      cause,
      details: { table, lines },
      hint: 'resolve each line as docs/stock-orders.md ("Upgrading") describes, then run tradectl shards init again',
    },
  );
}
