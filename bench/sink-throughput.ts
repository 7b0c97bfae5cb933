/**
 * End-to-end sink throughput, topic -> shards, against the raw insert ceiling measured in the
 * same run (issue 4).
 *
 *   (a) ceiling: plain multi-row INSERTs of the same orders into one unsharded set of tables
 *       (bench/lib/raw-insert-ceiling.ts, batch 10,000, one connection): the server's best.
 *   Orders belong to `--accounts` accounts (default 6, the 3 platforms x 2 accounts of the
 *   end-to-end test), each owned by one user as on a real seller's system, so an account's
 *   orders share a shard.
 *   (b) pipeline: the orders already sit on a fresh 12-partition topic; a KafkaBus consumer group
 *       with the real order sink (createSinkPipeline: decode + validate every envelope, newest
 *       version per key, versioned upsert per shard, offsets committed after the database commit)
 *       stores them into a fresh sharded layout. Timed from the first batch handed to the sink
 *       (the group join is not the pipeline's throughput) until every order is stored.
 *
 *   npx tsx bench/sink-throughput.ts [--orders 20000] [--rounds 3] [--layout 4x64]
 *                                    [--max-batch 2000] [--accounts 6] [--order-stock on|off]
 *                                    [--mapped on|off] [--warmup-orders 5000]
 *
 * With order stock on (the product's default) the sink also writes each line's stock intent
 * with its order and drains it into Redis. --mapped on (default): every account's seller SKUs
 * are mapped to internal SKUs that hold plenty of stock in Redis, so each line is deducted as in
 * production; off: no listing is mapped, so every line takes the unmapped path (an issue row).
 *
 * Before the timed rounds, both contenders run once, untimed, on --warmup-orders orders (fresh
 * databases and topic): the timed rounds then measure warm code, as a long-running worker runs.
 *
 * Every order is checked stored exactly once (the sink's inserted count equals the orders, and a
 * COUNT over the layout agrees). The local broker is librdkafka's mock (DESIGN.md): a partition
 * keeps ~5 MiB, so the topic holds gzip batches of a few MB in all; kafkajs figures, not broker
 * figures. Needs scripts/services.sh up; creates and drops its own databases and topics.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { createMysqlDeadLetterQueue } from '../src/core/bus/dlq.js';
import { createEnvelope } from '../src/core/bus/envelope.js';
import { createKafkaBus } from '../src/core/bus/kafka-bus.js';
import type { BusBatch } from '../src/core/bus/order-bus.js';
import type { Config } from '../src/core/config.js';
import { silentLogger } from '../src/core/logger.js';
import { MysqlPools } from '../src/core/mysql-pools.js';
import type { UnifiedOrder } from '../src/core/order.js';
import { activeLines } from '../src/core/order-stock/intent-rows.js';
import { intentsTable } from '../src/core/order-stock/intent-schema.js';
import { initShards, routerForConfig } from '../src/core/shard-admin.js';
import type { ShardRouter } from '../src/core/shard-router.js';
import { ListingMap } from '../src/core/stock/listing-map.js';
import type { ListingMappingInput } from '../src/core/stock/listing-mapping.js';
import { StockService } from '../src/core/stock/stock-service.js';
import { createSinkPipeline } from '../src/workers/sink-pipeline.js';
import { counterIds, generateOrders } from '../test/helpers/order-generator.js';
import { dropDatabases, testConfig } from '../test/helpers/services.js';
import { type CpuSnapshot, cpuText, ServerCpu } from './lib/process-cpu.js';
import {
  batches,
  type Contender,
  inParallel,
  setUpRawInsertCeiling,
  summary,
} from './lib/raw-insert-ceiling.js';

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    layout: { type: 'string', default: '4x64' },
    'max-batch': { type: 'string', default: '2000' },
    accounts: { type: 'string', default: '6' },
    'order-stock': { type: 'string', default: 'on' },
    mapped: { type: 'string', default: 'on' },
    'warmup-orders': { type: 'string', default: '5000' },
  },
});
const ORDERS = Number(args.orders);
const ROUNDS = Number(args.rounds);
const [DATABASES, TABLES] = args.layout.split('x').map(Number) as [number, number];
const MAX_BATCH = Number(args['max-batch']);
const ACCOUNTS = Number(args.accounts);
const ORDER_STOCK = args['order-stock'] !== 'off';
const MAPPED = ORDER_STOCK && args.mapped !== 'off';
const GOAL = 0.7;
const SERVICES = fileURLToPath(new URL('../scripts/services.sh', import.meta.url));

async function setUpPipeline(orders: readonly UnifiedOrder[]): Promise<Contender> {
  const run = randomBytes(4).toString('hex');
  const config: Config = testConfig({
    shards: { databases: DATABASES, tablesPerDatabase: TABLES },
    orderStock: { enabled: ORDER_STOCK },
    kafka: {
      ordersTopic: `tradectl.bench.${run}.orders`,
      dlqTopic: `tradectl.bench.${run}.dlq`,
      // An empty fetch waits the whole max-wait on the mock broker.
      maxWaitTimeMs: 100,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 1500,
    },
  });
  // The mock broker cannot create topics over the protocol; the services script makes them.
  execFileSync('bash', [SERVICES, 'topic', `${config.kafka.ordersTopic}:12`, `${config.kafka.dlqTopic}:3`], {
    stdio: 'ignore',
  });
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router);
  await initShards({ config, pools, router, concurrency: 8 });
  await inParallel([...router.all()], 8, async (location) => {
    for (const kind of ['orders', 'order_details', 'order_lines'] as const) {
      await pools
        .forDatabase(location.database)
        .query(`SELECT 1 FROM ${router.qualifiedTable(location, kind)} LIMIT 1`);
    }
  });
  const logger = silentLogger();
  const redis = new Redis(config.redis.url);
  if (MAPPED) await mapEveryLine(orders, config, pools, router, redis);
  const dlq = createMysqlDeadLetterQueue({ pools, router });
  const bus = createKafkaBus({ config: config.kafka, dlq, logger });
  await bus.start();
  const fetchedAt = new Date().toISOString();
  // Large publishes, so each partition's stored batches are large: the mock broker serves one
  // stored batch per partition per fetch (DESIGN.md), where a real broker serves up to 1 MiB.
  for (const chunk of batches(orders, 12_000)) {
    await bus.publish(chunk.map((order) => createEnvelope(order, fetchedAt)));
  }
  return {
    async run() {
      const { sink, settle } = createSinkPipeline({
        config,
        logger,
        pools,
        router,
        redis,
        nextId: counterIds(),
      });
      const servers = await ServerCpu.find(pools.meta(), redis);
      let started = 0;
      let cpu: NodeJS.CpuUsage | undefined;
      let serverStart: CpuSnapshot = new Map();
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const consumer = await bus.consume({
        groupId: `bench-sink-${run}`,
        maxBatchMessages: MAX_BATCH,
        handler: async (batch: BusBatch) => {
          if (started === 0) {
            started = performance.now();
            cpu = process.cpuUsage();
            serverStart = servers.snapshot();
          }
          await sink.handler(batch);
          if (sink.totals().inserted + sink.totals().unchanged >= orders.length) finish();
        },
      });
      await done;
      // With order stock on, the last batch's stock drain runs behind its acknowledgement: it is
      // part of the sink's work, so the time includes it (and no drain is left holding a
      // connection when the pools close).
      await settle();
      const ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const serverCpu = servers.since(serverStart);
      await consumer.stop();
      const totals = sink.totals();
      if (totals.inserted !== orders.length || totals.deadLettered !== 0) {
        throw new Error(
          `sink inserted ${totals.inserted} of ${orders.length}, dead-lettered ${totals.deadLettered}`,
        );
      }
      let stored = 0;
      await inParallel([...router.all()], 8, async (location) => {
        const [rows] = await pools
          .forDatabase(location.database)
          .query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${router.qualifiedTable(location, 'orders')}`);
        stored += Number(rows[0]!.n);
      });
      if (stored !== orders.length)
        throw new Error(`layout holds ${stored} orders, expected ${orders.length}`);
      if (ORDER_STOCK) await checkIntents(pools, router, orders);
      return { ms, cpuMs: (used.user + used.system) / 1000, serverCpu };
    },
    async drop() {
      await bus.stop();
      const keys = await redis.keys(`${config.redis.keyPrefix}*`);
      for (const part of batches(keys, 1000)) await redis.del(...part);
      redis.disconnect();
      await pools.close();
      await dropDatabases(config);
    },
  };
}

/**
 * Every sold line's intent was drained within the timed part: none left pending, each applied
 * (mapped) or reported unmapped (not mapped), and as many as the orders have active lines.
 */
async function checkIntents(pools: MysqlPools, router: ShardRouter, orders: readonly UnifiedOrder[]) {
  const byStatus: Record<string, number> = {};
  for (let database = 0; database < router.layout.databases; database++) {
    const [rows] = await pools
      .forDatabase(database)
      .query<RowDataPacket[]>(
        `SELECT status, COUNT(*) AS n FROM ${intentsTable(router, database)} GROUP BY status`,
      );
    for (const row of rows) byStatus[row.status] = (byStatus[row.status] ?? 0) + Number(row.n);
  }
  const expected = orders.reduce((sum, order) => sum + activeLines(order).length, 0);
  const wanted = MAPPED ? 'applied' : 'unmapped';
  if (byStatus[wanted] !== expected || Object.keys(byStatus).length !== 1) {
    throw new Error(`stock intents ${JSON.stringify(byStatus)}, expected ${expected} ${wanted}`);
  }
}

/**
 * Maps every (account, seller SKU) of the orders to an internal SKU of the same name and gives
 * each internal SKU far more stock than the run sells, so every line is a Redis deduct.
 */
async function mapEveryLine(
  orders: readonly UnifiedOrder[],
  config: Config,
  pools: MysqlPools,
  router: ShardRouter,
  redis: Redis,
) {
  const mappings = new Map<string, ListingMappingInput>();
  const skus = new Set<string>();
  for (const order of orders) {
    for (const line of order.lines) {
      if (!line.sku) continue;
      skus.add(line.sku);
      mappings.set(`${order.platform}:${order.account}:${line.sku}`, {
        platform: order.platform,
        account: order.account,
        kind: 'sku',
        channelKey: line.sku,
        sku: line.sku,
      });
    }
  }
  await new ListingMap({ pool: pools.meta(), router }).importMappings([...mappings.values()]);
  const stock = new StockService({ redis, keyPrefix: config.redis.keyPrefix });
  await inParallel([...skus], 32, async (sku) => {
    await stock.set({ operationId: `bench-stock-${sku}`, sku, expectedVersion: 0, available: 1_000_000_000 });
  });
}

/** Both contenders on fresh databases, the ceiling first or second; each dropped afterwards. */
async function runBoth(orders: readonly UnifiedOrder[], rawFirst: boolean) {
  const raw = await setUpRawInsertCeiling(orders, { batch: 10_000, concurrency: 1, maxRows: 2000 });
  const sunk = await setUpPipeline(orders);
  try {
    const first = rawFirst ? await raw.run() : undefined;
    const pipeline = await sunk.run();
    const ceiling = first ?? (await raw.run());
    return { ceiling, pipeline };
  } finally {
    await raw.drop();
    await sunk.drop();
  }
}

async function main(): Promise<void> {
  // As on a real seller's system every order of an account belongs to the account's user, so an
  // account's orders share one shard.
  const orders = generateOrders({ seed: 7, count: ORDERS }).map((order, index) => {
    const account = index % ACCOUNTS;
    const platform = (['shopify', 'amazon', 'ebay'] as const)[account % 3]!;
    return { ...order, platform, account: `acct-${account}`, userId: String(10_000 + account * 7919) };
  });
  const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
  console.log(
    `${ORDERS} orders, layout ${DATABASES}x${TABLES}, sink batches up to ${MAX_BATCH}, ${ROUNDS} rounds; ${load()}`,
  );
  // One untimed pass of both on fresh databases first: the worker is a long-running process, and
  // a first round measured with a cold JIT was 20-30 points below the next ones.
  const warmupOrders = orders.slice(0, Number(args['warmup-orders']));
  if (warmupOrders.length > 0) await runBoth(warmupOrders, true);
  const ceiling: number[] = [];
  const pipeline: number[] = [];
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which goes first, so load from other processes favours neither.
    const { ceiling: c, pipeline: b } = await runBoth(orders, round % 2 === 1);
    ceiling.push((ORDERS / c.ms) * 1000);
    pipeline.push((ORDERS / b.ms) * 1000);
    ratios.push(pipeline.at(-1)! / ceiling.at(-1)!);
    console.log(
      `round ${round}: ceiling ${ceiling.at(-1)!.toFixed(0)} orders/s (${cpuText(c)}), ` +
        `topic -> shards ${pipeline.at(-1)!.toFixed(0)} orders/s (${cpuText(b)}): ` +
        `${(ratios.at(-1)! * 100).toFixed(0)}%`,
    );
  }
  const a = summary(ceiling);
  const b = summary(pipeline);
  const r = summary(ratios);
  const row = (name: string, s: typeof a) =>
    `${name.padEnd(30)}${s.min.toFixed(0).padStart(9)}${s.median.toFixed(0).padStart(9)}${s.max.toFixed(0).padStart(9)}`;
  console.log(`\n${'orders/s'.padEnd(30)}${'min'.padStart(9)}${'median'.padStart(9)}${'max'.padStart(9)}`);
  console.log(row('(a) raw INSERT, unsharded', a));
  console.log(row('(b) topic -> sink -> shards', b));
  console.log(
    `ratio per round: min ${(r.min * 100).toFixed(0)}%  median ${(r.median * 100).toFixed(0)}%  ` +
      `max ${(r.max * 100).toFixed(0)}%; goal >= ${GOAL * 100}%: ${r.median >= GOAL ? 'met' : 'NOT met'}; ${load()}`,
  );
}

await main();
