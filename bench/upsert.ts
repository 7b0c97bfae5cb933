/**
 * Throughput of OrderStore#upsertBatch against a raw ceiling measured in the same run.
 *
 *   (a) ceiling: plain multi-row INSERTs of the same rows (orders + details + lines, same
 *       columns, same batch size) into ONE unsharded set of tables with the same schema: no
 *       versioning, no read-back, no locator, no sharding, one connection.
 *   (b) store: upsertBatch of the same orders into a fresh sharded layout (random users, so
 *       every batch spreads over every shard: the worst case for per-shard statement size).
 *
 * Each round creates fresh tables for both, opens them once (a running worker has its tables
 * in the table cache), then times (a) and (b) in alternating order, so load from other
 * processes hits both alike. Prints orders/s min/median/max, client CPU, and the ratio.
 *
 *   npx tsx bench/upsert.ts [--orders 80000] [--batch 10000] [--rounds 5] [--layout 4x64]
 *                           [--concurrency 4] [--ceiling-concurrency 1] [--max-rows 2000]
 *                           [--stock-intents]
 *
 * `--stock-intents` measures the store as the sink runs it with `orderStock.enabled`: each shard
 * transaction also writes the order lines' stock intents (docs/stock-orders.md).
 *
 * The default layout is 4 x 64 (256 shards), not 16 x 256: what decides the ratio is the
 * orders per shard statement (batch / shards), and 4 x 64 with batch 10,000 has the same 39
 * per statement as 16 x 256 with batch 160,000, in a fraction of the setup time. Also, on the
 * local MariaDB table_open_cache is 9,480 (capped by the file descriptor limit), fewer than
 * the 12,288 tables of 16 x 256: there every shard statement reopens its table, which measures
 * that server setting rather than the store (size table_open_cache above the shard tables of a
 * server in production).
 *
 * Measured on the 2-core machine, quiet, 5 rounds each (median of per-round ratios):
 *   4x64,  batch  5,000 (19.5/shard): store  8.7k vs ceiling 15.6k orders/s: 57%
 *   4x64,  batch 10,000 (39/shard):   store  9.4k vs ceiling 11.9k orders/s: 76% (min 71%)
 *   4x64,  batch 20,000 (78/shard):   store 11.4k vs ceiling 14.7k orders/s: 85% (min 75%)
 *   16x256, batch 160,000, concurrency 8, 1 round: 7.3k vs 13.0k orders/s: 56% (table cache)
 * Store concurrency at batch 10,000: 2 -> 7.9k, 4 -> 9.4k, 8 -> 10.8k orders/s.
 *
 * Needs scripts/services.sh up; creates and drops its own databases.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../src/core/config.js';
import { MysqlPools } from '../src/core/mysql-pools.js';
import type { UnifiedOrder } from '../src/core/order.js';
import { createOrderStore } from '../src/core/order-store.js';
import { initShards, routerForConfig } from '../src/core/shard-admin.js';
import { counterIds, generateOrders } from '../test/helpers/order-generator.js';
import { dropDatabases, testConfig } from '../test/helpers/services.js';
import { cpuText, ServerCpu } from './lib/process-cpu.js';
import {
  batches,
  type Contender,
  cpuMs,
  inParallel,
  setUpRawInsertCeiling,
  summary,
} from './lib/raw-insert-ceiling.js';

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '80000' },
    batch: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
    layout: { type: 'string', default: '4x64' },
    concurrency: { type: 'string', default: '4' },
    'ceiling-concurrency': { type: 'string', default: '1' },
    'max-rows': { type: 'string', default: '2000' },
    // The store as the sink runs it with orderStock on: stock intents in each shard transaction.
    'stock-intents': { type: 'boolean', default: false },
  },
});
const ORDERS = Number(args.orders);
const BATCH = Number(args.batch);
const ROUNDS = Number(args.rounds);
const [DATABASES, TABLES] = args.layout.split('x').map(Number) as [number, number];
const CONCURRENCY = Number(args.concurrency);
const CEILING_CONCURRENCY = Number(args['ceiling-concurrency']);
const MAX_ROWS = Number(args['max-rows']);
const STOCK_INTENTS = args['stock-intents'] ? { sweepAfterMs: 30_000 } : undefined;

/** (b) The store into a fresh sharded layout. */
async function setUpStore(orders: UnifiedOrder[]): Promise<Contender> {
  const config: Config = testConfig({ shards: { databases: DATABASES, tablesPerDatabase: TABLES } });
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, { connectionLimit: Math.max(CONCURRENCY, 8) });
  await initShards({ config, pools, router, concurrency: 8 });
  // A running worker has its tables open (table cache); a fresh layout has not. Open each once
  // before timing so the round measures writing, not the first open of 3 x 4096 files.
  await inParallel([...router.all()], 8, async (location) => {
    for (const kind of ['orders', 'order_details', 'order_lines'] as const) {
      await pools
        .forDatabase(location.database)
        .query(`SELECT 1 FROM ${router.qualifiedTable(location, kind)} LIMIT 1`);
    }
  });
  const servers = await ServerCpu.find(pools.meta());
  return {
    async run() {
      const store = createOrderStore({
        pools,
        router,
        nextId: counterIds(),
        concurrency: CONCURRENCY,
        maxRowsPerStatement: MAX_ROWS,
        stockIntents: STOCK_INTENTS,
      });
      let inserted = 0;
      const started = performance.now();
      const cpu = process.cpuUsage();
      const serverStart = servers.snapshot();
      for (const batch of batches(orders, BATCH)) inserted += (await store.upsertBatch(batch)).inserted;
      const result = {
        ms: performance.now() - started,
        cpuMs: cpuMs(cpu),
        serverCpu: servers.since(serverStart),
      };
      if (inserted !== orders.length) throw new Error(`store inserted ${inserted} of ${orders.length}`);
      return result;
    },
    async drop() {
      await pools.close();
      await dropDatabases(config);
    },
  };
}

async function main(): Promise<void> {
  const orders = generateOrders({ seed: 42, count: ORDERS, users: 200_000 });
  const lines = orders.reduce((sum, order) => sum + order.lines.length, 0);
  const shards = DATABASES * TABLES;
  console.log(
    `${ORDERS} orders (${lines} lines), batch ${BATCH}, layout ${DATABASES}x${TABLES} = ${shards} shards ` +
      `(~${(BATCH / shards).toFixed(1)} orders per shard statement), store concurrency ${CONCURRENCY}, ` +
      `ceiling concurrency ${CEILING_CONCURRENCY}, ${ROUNDS} rounds${STOCK_INTENTS ? ', with stock intents' : ''}`,
  );
  const ceiling: number[] = [];
  const store: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Both sets of tables exist before either is timed, and the order alternates per round, so
    // table creation and load from other processes do not favour one side.
    const raw = await setUpRawInsertCeiling(orders, {
      batch: BATCH,
      concurrency: CEILING_CONCURRENCY,
      maxRows: MAX_ROWS,
    });
    const sharded = await setUpStore(orders);
    try {
      const first = round % 2 === 1 ? raw : sharded;
      const second = first === raw ? sharded : raw;
      const firstResult = await first.run();
      const secondResult = await second.run();
      const [a, b] = first === raw ? [firstResult, secondResult] : [secondResult, firstResult];
      ceiling.push((ORDERS / a.ms) * 1000);
      store.push((ORDERS / b.ms) * 1000);
      console.log(
        `round ${round}: ceiling ${ceiling.at(-1)!.toFixed(0)} orders/s (${cpuText(a)}), ` +
          `store ${store.at(-1)!.toFixed(0)} orders/s (${cpuText(b)}): ` +
          `${((store.at(-1)! / ceiling.at(-1)!) * 100).toFixed(0)}%`,
      );
    } finally {
      await raw.drop();
      await sharded.drop();
    }
  }
  const a = summary(ceiling);
  const b = summary(store);
  const row = (name: string, s: typeof a) =>
    `${name.padEnd(28)}${s.min.toFixed(0).padStart(9)}${s.median.toFixed(0).padStart(9)}${s.max.toFixed(0).padStart(9)}`;
  console.log(`\n${'orders/s'.padEnd(28)}${'min'.padStart(9)}${'median'.padStart(9)}${'max'.padStart(9)}`);
  console.log(row('(a) raw INSERT, unsharded', a));
  console.log(row('(b) store upsert, sharded', b));
  const ratios = ceiling.map((rate, index) => store[index]! / rate).sort((x, y) => x - y);
  const median = ratios[Math.floor(ratios.length / 2)]!;
  console.log(
    `ratio store/ceiling: ${((b.median / a.median) * 100).toFixed(0)}% of medians, ` +
      `${(median * 100).toFixed(0)}% median of rounds (min ${(ratios[0]! * 100).toFixed(0)}%, ` +
      `max ${(ratios.at(-1)! * 100).toFixed(0)}%); goal >= 60%`,
  );
}

await main();
