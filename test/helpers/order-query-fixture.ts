import type { RowDataPacket } from 'mysql2/promise';
import type { Config } from '../../src/core/config.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import type { OrderQuery, OrderSummary } from '../../src/core/order-query.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { toSqlDateTime } from '../../src/core/time.js';
import {
  createOrderTables,
  insertOrders,
  type OrderRow,
  randomOrders,
  referenceRouter,
  seededRandom,
} from './order-fixtures.js';
import { dropDatabases, testConfig } from './services.js';

/**
 * A sharded layout and an unsharded reference table holding the same random orders: every
 * cross-shard answer is checked against a plain query of the reference.
 */
export interface Fixture {
  config: Config;
  router: ShardRouter;
  pools: MysqlPools;
  refPools: MysqlPools;
  refTable: string;
  rows: OrderRow[];
  byId: Map<string, OrderRow>;
}

export async function setUpOrderFixture(
  seed: number,
  layout: {
    databases: number;
    tablesPerDatabase: number;
    count: number;
  },
): Promise<Fixture> {
  const config = testConfig({
    shards: { databases: layout.databases, tablesPerDatabase: layout.tablesPerDatabase },
  });
  const router = new ShardRouter({
    databases: layout.databases,
    tablesPerDatabase: layout.tablesPerDatabase,
    databasePrefix: config.mysql.databasePrefix,
  });
  const pools = new MysqlPools(config, router);
  const ref = referenceRouter(config.mysql.databasePrefix);
  const refPools = new MysqlPools(config, ref);
  const rows = randomOrders(seededRandom(seed), { count: layout.count, users: 400, instants: 60 });
  await createOrderTables(pools, router);
  await createOrderTables(refPools, ref);
  await insertOrders(pools, router, rows);
  await insertOrders(refPools, ref, rows);
  const refTable = ref.qualifiedTable(ref.location(0, 0), 'orders');
  return { config, router, pools, refPools, refTable, rows, byId: new Map(rows.map((row) => [row.id, row])) };
}

export async function tearDownOrderFixture(fixture: Fixture | undefined): Promise<void> {
  if (!fixture) return;
  await fixture.pools.close();
  await fixture.refPools.close();
  await dropDatabases(fixture.config);
}

/** The answer of one unsharded table, written independently of the code under test. */
export async function referenceIds(
  fixture: Fixture,
  query: Omit<OrderQuery, 'limit' | 'after'>,
): Promise<string[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, ...values: unknown[]) => {
    where.push(condition);
    params.push(...values);
  };
  if (query.from) add('created_at >= ?', toSqlDateTime(query.from));
  if (query.to) add('created_at < ?', toSqlDateTime(query.to));
  if (query.statuses) add(`status IN (${query.statuses.map(() => '?').join(', ')})`, ...query.statuses);
  if (query.platforms) add(`platform IN (${query.platforms.map(() => '?').join(', ')})`, ...query.platforms);
  if (query.userId) add('user_id = CAST(? AS UNSIGNED)', query.userId);
  const direction = query.order === 'asc' ? 'ASC' : 'DESC';
  const [rows] = await fixture.refPools
    .forDatabase(0)
    .query<RowDataPacket[]>(
      `SELECT id FROM ${fixture.refTable}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}` +
        ` ORDER BY created_at ${direction}, id ${direction}`,
      params,
    );
  return rows.map((row) => String(row.id));
}

export function expectedSummary(row: OrderRow): OrderSummary {
  return {
    ...row,
    rawStatus: row.status.toUpperCase(),
    statusUnknown: false,
    refundState: 'none',
  };
}
