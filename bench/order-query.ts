/**
 * Latency of one operations-query page (limit 100) over the default 16 x 256 layout (4096 orders
 * tables, most empty, a few hundred holding rows), for several statement batch sizes, with and
 * without the pruning bound. The ceiling, measured in the same run, is the same page read from
 * one unsharded table holding every row: what the query would cost without sharding.
 *
 *   npx tsx bench/order-query.ts            (needs scripts/services.sh up; creates and drops its databases)
 */
import { MysqlPools } from '../src/core/mysql-pools.js';
import { type OrderPage, type OrderQuery, queryOrders } from '../src/core/order-query.js';
import { buildShardStatement } from '../src/core/order-query-sql.js';
import { ShardRouter } from '../src/core/shard-router.js';
import {
  createOrderTables,
  insertOrders,
  randomOrders,
  referenceRouter,
  seededRandom,
} from '../test/helpers/order-fixtures.js';
import { dropDatabases, testConfig } from '../test/helpers/services.js';

const RUNS = Number(process.env.RUNS ?? 7);
const config = testConfig({ shards: { databases: 16, tablesPerDatabase: 256 } });
const router = new ShardRouter({
  databases: 16,
  tablesPerDatabase: 256,
  databasePrefix: config.mysql.databasePrefix,
});
const ref = referenceRouter(config.mysql.databasePrefix);
const pools = new MysqlPools(config, router);
const refPools = new MysqlPools(config, ref);

interface Timing {
  min: number;
  median: number;
  max: number;
}

async function time(fn: () => Promise<unknown>): Promise<Timing> {
  await fn(); // warm-up: connections, table cache
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { min: samples[0]!, median: samples[Math.floor(samples.length / 2)]!, max: samples.at(-1)! };
}

const fmt = (ms: number) => ms.toFixed(1).padStart(7);

async function main(): Promise<void> {
  const setupStart = performance.now();
  await createOrderTables(pools, router, 6);
  await createOrderTables(refPools, ref);
  const rows = randomOrders(seededRandom(42), { count: 20_000, users: 600, instants: 2000 });
  await insertOrders(pools, router, rows);
  await insertOrders(refPools, ref, rows);
  const filled = new Set(rows.map((row) => ShardRouter.key(router.route(row.userId)))).size;
  console.log(
    `layout 16 x 256 = ${router.shardCount} tables, ${rows.length} orders in ${filled} of them; ` +
      `setup ${((performance.now() - setupStart) / 1000).toFixed(1)} s; ${RUNS} runs per line (ms)\n`,
  );

  const queries: [string, OrderQuery][] = [
    ['newest 100, no filter', { limit: 100, order: 'desc' }],
    ['oldest 100, 2 statuses', { limit: 100, order: 'asc', statuses: ['paid', 'shipped'] }],
  ];
  const pool = pools.forDatabase(0);
  const roundTrip = await time(async () => {
    for (let index = 0; index < 100; index++) await pool.query('SELECT 1');
  });
  console.log(`round trip (SELECT 1, sequential): ${(roundTrip.median / 100).toFixed(3)} ms median`);
  // One statement's cost by the number of (empty) tables it reads, run one at a time.
  const filledKeys = new Set(rows.map((row) => ShardRouter.key(router.route(row.userId))));
  const empty = [...router.all()].filter(
    (shard) => shard.database === 0 && !filledKeys.has(ShardRouter.key(shard)),
  );
  for (const tables of [1, 8, 32, 128]) {
    const statement = buildShardStatement({
      router,
      shards: empty.slice(0, tables),
      filters: {},
      order: 'desc',
      limit: 101,
    });
    const timing = await time(async () => {
      for (let index = 0; index < 20; index++) await pool.query(statement.sql, statement.params);
    });
    console.log(
      `one statement over ${String(tables).padStart(3)} empty table(s): ${(timing.median / 20).toFixed(2)} ms` +
        ` (${(timing.median / 20 / tables).toFixed(3)} ms per table)`,
    );
  }
  console.log('');

  for (const [name, query] of queries) {
    const ceiling = await time(() => queryOrders({ pools: refPools, router: ref }, query));
    console.log(`${name}`);
    console.log(`  ${'variant'.padEnd(40)}    min  median     max  x ceiling  statements  rows read`);
    console.log(
      `  ${'one unsharded table (ceiling)'.padEnd(40)}${fmt(ceiling.min)} ${fmt(ceiling.median)} ${fmt(ceiling.max)}`,
    );
    const variants: [string, { subqueriesPerStatement: number; prune: boolean; concurrency?: number }][] = [
      ['1 table per statement, no pruning', { subqueriesPerStatement: 1, prune: false }],
      ['1 table per statement, pruning', { subqueriesPerStatement: 1, prune: true }],
      ['8 sub-selects per statement, pruning', { subqueriesPerStatement: 8, prune: true }],
      ['32 sub-selects, no pruning', { subqueriesPerStatement: 32, prune: false }],
      ['32 sub-selects, pruning (default)', { subqueriesPerStatement: 32, prune: true }],
      ['32 sub-selects, pruning, concurrency 4', { subqueriesPerStatement: 32, prune: true, concurrency: 4 }],
      [
        '32 sub-selects, pruning, concurrency 16',
        { subqueriesPerStatement: 32, prune: true, concurrency: 16 },
      ],
      ['128 sub-selects per statement, pruning', { subqueriesPerStatement: 128, prune: true }],
    ];
    let expected: string | undefined;
    for (const [label, tuning] of variants) {
      let page: OrderPage | undefined;
      const timing = await time(async () => {
        page = await queryOrders({ pools, router, ...tuning }, query);
      });
      const ids = JSON.stringify(page!.rows.map((row) => row.id));
      expected ??= ids;
      if (ids !== expected) throw new Error(`${label}: a different page than the other variants`);
      console.log(
        `  ${label.padEnd(40)}${fmt(timing.min)} ${fmt(timing.median)} ${fmt(timing.max)}` +
          `  ${(timing.median / ceiling.median).toFixed(1).padStart(8)}x  ${String(page!.stats.statements).padStart(10)}` +
          `  ${String(page!.stats.rowsRead).padStart(9)}`,
      );
    }
    console.log('');
  }
}

try {
  await main();
} finally {
  await pools.close();
  await refPools.close();
  await dropDatabases(config);
}
