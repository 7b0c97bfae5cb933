import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { forEachBounded } from './bounded-concurrency.js';
import { dlqTablesDdl } from './bus/dlq.js';
import type { Config } from './config.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlPools } from './mysql-pools.js';
import { metaTablesDdl, orderTablesDdl } from './order-schema.js';
import { intentTablesDdl, issueTablesDdl } from './order-stock/intent-schema.js';
import { upgradeIntentTables } from './order-stock/intent-upgrade.js';
import { redactUrl } from './secret.js';
import { ORDER_TABLES, type OrderTable, ShardRouter } from './shard-router.js';
import { stockTablesDdl } from './stock/ledger-schema.js';
import { listingTablesDdl } from './stock/listing-schema.js';
import { syncTablesDdl } from './sync-window-log.js';

/**
 * Shows and creates the shard layout. Creation is idempotent and only ever adds: databases and
 * tables that exist are left as they are (never dropped), except the one upgrade a table needs:
 * stock intents unique per marketplace line (order-stock/intent-upgrade.ts).
 */

/** The router of a config's layout: the one way every command derives it. */
export function routerForConfig(config: Pick<Config, 'mysql' | 'shards'>): ShardRouter {
  return new ShardRouter({
    databases: config.shards.databases,
    tablesPerDatabase: config.shards.tablesPerDatabase,
    databasePrefix: config.mysql.databasePrefix,
  });
}

export interface LayoutPlan {
  databasePrefix: string;
  databases: number;
  tablesPerDatabase: number;
  /** Tables of each kind across all databases (databases x tablesPerDatabase). */
  totalTables: Record<OrderTable, number>;
  /** Shard databases, then the meta database; `server` is the DSN with its password redacted. */
  schemas: { name: string; server: string; tables: number; kind: 'shard' | 'meta' }[];
  /** Where a few user ids land, to check the routing rule by eye. */
  exampleRoutes: { userId: string; database: string; table: string }[];
}

export function planLayout(config: Pick<Config, 'mysql' | 'shards'>): LayoutPlan {
  const router = routerForConfig(config);
  const { databases, tablesPerDatabase } = router.layout;
  const server = (index: number) => redactUrl(config.shards.dsns[String(index)] ?? config.mysql.url);
  const exampleIds = [
    0,
    1,
    tablesPerDatabase - 1,
    tablesPerDatabase,
    router.shardCount - 1,
    router.shardCount,
    1_234_567_890,
  ];
  return {
    databasePrefix: config.mysql.databasePrefix,
    databases,
    tablesPerDatabase,
    totalTables: Object.fromEntries(ORDER_TABLES.map((kind) => [kind, router.shardCount])) as Record<
      OrderTable,
      number
    >,
    schemas: [
      ...Array.from({ length: databases }, (_, index) => ({
        name: router.databaseName(index),
        server: server(index),
        tables: tablesPerDatabase * ORDER_TABLES.length + intentTablesDdl(router, index).length,
        kind: 'shard' as const,
      })),
      {
        name: router.metaDatabaseName,
        server: redactUrl(config.mysql.url),
        tables: metaSchemaDdl(router).length,
        kind: 'meta' as const,
      },
    ],
    exampleRoutes: [...new Set(exampleIds)].map((userId) => {
      const location = router.route(userId);
      return {
        userId: String(userId),
        database: location.databaseName,
        table: `orders_${location.tableSuffix}`,
      };
    }),
  };
}

export interface InitProgress {
  /** Tables handled so far (created or found created by a concurrent init). */
  done: number;
  /** Tables that were missing when the run started. */
  total: number;
}

export interface InitResult {
  databasesCreated: number;
  databasesExisting: number;
  tablesCreated: number;
  tablesExisting: number;
  /**
   * Existing tables brought to the current shape (on a dry run: that would be), qualified:
   * `stock_intents` tables from before intents were unique per marketplace line.
   */
  tablesUpgraded: string[];
  dryRun: boolean;
  /** Per schema: whether it was missing, and the tables that were missing (created unless a dry run). */
  schemas: { name: string; databaseMissing: boolean; missingTables: string[]; existingTables: number }[];
}

export interface InitShardsOptions {
  config: Pick<Config, 'mysql' | 'shards'>;
  pools: MysqlPools;
  router: ShardRouter;
  onProgress?: (progress: InitProgress) => void;
  /**
   * CREATE TABLE statements in flight per server. Creating a table is file and data-dictionary
   * work; several in parallel overlap it. Measured on MariaDB 10.11, 2 cores (4 x 256 x 3 tables):
   * 1 -> 50-140 tables/s, 4 -> ~220/s, 8 -> ~240/s, 16 -> ~280/s, noisy. Default 8.
   */
  concurrency?: number;
  /** Only report what is missing. */
  dryRun?: boolean;
}

interface SchemaWork {
  name: string;
  pool: Pool;
  tables: { name: string; sql: string }[];
}

const CREATE_TABLE = /^CREATE TABLE IF NOT EXISTS `([^`]+)`\.`([^`]+)`/;

/** Every schema with its tables' DDL, each statement paired with the table it creates. */
function schemaWork(pools: MysqlPools, router: ShardRouter): SchemaWork[] {
  const work = new Map<string, SchemaWork>();
  const add = (pool: Pool, sql: string) => {
    const match = CREATE_TABLE.exec(sql);
    if (!match) throw new Error(`unexpected DDL: ${sql.slice(0, 60)}`);
    const [, database, table] = match as unknown as [string, string, string];
    let schema = work.get(database);
    if (!schema) {
      schema = { name: database, pool, tables: [] };
      work.set(database, schema);
    }
    schema.tables.push({ name: table, sql });
  };
  for (const location of router.all()) {
    for (const sql of orderTablesDdl(router, location)) add(pools.forDatabase(location.database), sql);
  }
  // One stock outbox per shard database: written in the same transaction as its orders.
  for (let database = 0; database < router.layout.databases; database++) {
    for (const sql of intentTablesDdl(router, database)) add(pools.forDatabase(database), sql);
  }
  for (const sql of metaSchemaDdl(router)) add(pools.meta(), sql);
  return [...work.values()];
}

/**
 * Everything that is not sharded by user lives in the meta database: the order locator and
 * checkpoints, the sync audit, stock (inventory, ledger), the channel listing map and the DLQ.
 * One list, so `plan` counts exactly what `init` creates.
 */
export function metaSchemaDdl(router: ShardRouter): string[] {
  return [
    ...metaTablesDdl(router),
    ...syncTablesDdl(router),
    ...stockTablesDdl(router),
    ...listingTablesDdl(router),
    ...issueTablesDdl(router),
    ...dlqTablesDdl(router),
  ];
}

/**
 * Creates every missing shard database, the meta database, and every missing table; counts
 * what it created and what existed. Existence is read from information_schema first (one query
 * per database), so a run over a complete layout only reads.
 */
export async function initShards(options: InitShardsOptions): Promise<InitResult> {
  const { pools, router } = options;
  const concurrency = options.concurrency ?? 8;
  const work = schemaWork(pools, router);
  const result: InitResult = {
    databasesCreated: 0,
    databasesExisting: 0,
    tablesCreated: 0,
    tablesExisting: 0,
    tablesUpgraded: [],
    dryRun: options.dryRun === true,
    schemas: [],
  };
  const missing: { schema: SchemaWork; table: { name: string; sql: string } }[] = [];
  try {
    await forEachBounded(work, concurrency, async (schema) => {
      // One query per database: no row means no database, a NULL name an empty one. Only names
      // are selected, so the server reads the data dictionary and opens no table.
      const [found] = await schema.pool.query<RowDataPacket[]>(
        'SELECT t.`TABLE_NAME` AS `name` FROM information_schema.`SCHEMATA` AS s ' +
          'LEFT JOIN information_schema.`TABLES` AS t ON t.`TABLE_SCHEMA` = s.`SCHEMA_NAME` ' +
          'WHERE s.`SCHEMA_NAME` = ?',
        [schema.name],
      );
      const databaseExists = found.length > 0;
      const existing = new Set(found.filter((row) => row.name !== null).map((row) => String(row.name)));
      const missingTables = schema.tables.filter((table) => !existing.has(table.name));
      result.tablesExisting += schema.tables.length - missingTables.length;
      result.schemas.push({
        name: schema.name,
        databaseMissing: !databaseExists,
        missingTables: missingTables.map((table) => table.name),
        existingTables: schema.tables.length - missingTables.length,
      });
      for (const table of missingTables) missing.push({ schema, table });
      if (databaseExists) result.databasesExisting++;
      else if (!result.dryRun) {
        const [created] = await schema.pool.query<ResultSetHeader>(
          `CREATE DATABASE IF NOT EXISTS \`${schema.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
        );
        // A concurrent init may have won the race: then it is a warning, not a creation.
        if (created.affectedRows > 0) result.databasesCreated++;
        else result.databasesExisting++;
      }
    });
    result.schemas.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (result.dryRun) {
      result.tablesUpgraded = await upgradeIntentTables({ pools, router, dryRun: true, concurrency });
      return result;
    }
    const total = missing.length;
    let done = 0;
    options.onProgress?.({ done, total });
    // Each server creates its own tables, `concurrency` at a time.
    const byPool = new Map<Pool, typeof missing>();
    for (const item of missing) {
      const items = byPool.get(item.schema.pool) ?? [];
      items.push(item);
      byPool.set(item.schema.pool, items);
    }
    await Promise.all(
      [...byPool.values()].map((items) =>
        forEachBounded(items, concurrency, async ({ schema, table }) => {
          const [header] = await schema.pool.query<ResultSetHeader>(table.sql);
          // IF NOT EXISTS turns a table created meanwhile (a concurrent init) into a warning.
          if (header.warningStatus > 0) result.tablesExisting++;
          else result.tablesCreated++;
          done++;
          options.onProgress?.({ done, total });
        }),
      ),
    );
    result.tablesUpgraded = await upgradeIntentTables({ pools, router, dryRun: false, concurrency });
  } catch (error) {
    throw classifyMysqlError(error, 'create shard layout');
  }
  return result;
}
