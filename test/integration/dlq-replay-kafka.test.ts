import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { createOrderBus } from '../../src/core/bus/create-order-bus.js';
import { createMysqlDeadLetterQueue, type DeadLetterStore, dlqTablesDdl } from '../../src/core/bus/dlq.js';
import { createEnvelope, encodeEnvelope, envelopeKey } from '../../src/core/bus/envelope.js';
import type { BusConsumer, OrderBus } from '../../src/core/bus/order-bus.js';
import { type Config, parseConfig } from '../../src/core/config.js';
import { createIdGenerator, type IdGeneratorHandle } from '../../src/core/id-generator.js';
import { silentLogger } from '../../src/core/logger.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { createOrderStore } from '../../src/core/order-store.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import { createSinkPipeline } from '../../src/workers/sink-pipeline.js';
import { KAFKA_TEST_SETTINGS } from '../helpers/bus-fixture.js';
import { Collector } from '../helpers/collector.js';
import { dropDatabases, KAFKA_BROKERS, MYSQL_URL, REDIS_URL, uniqueName } from '../helpers/services.js';
import { accountOrders } from '../helpers/sync-fakes.js';

// `tradectl dlq replay` with Kafka: the command only produces; a sink consumer group (here in
// the test, in production the workers) stores or re-quarantines. The replayed message carries
// its entry id in a header, so a failed replay lands in the same entry although it has a new
// offset. Own topics, group and prefixes; 2 x 4 layout.
const PREFIX = uniqueName('dk');
const ENV = {
  TRADECTL_MYSQL_URL: MYSQL_URL,
  TRADECTL_REDIS_URL: REDIS_URL,
  TRADECTL_KAFKA_BROKERS: KAFKA_BROKERS.join(','),
};
const RAW = {
  mysql: { databasePrefix: PREFIX },
  redis: { keyPrefix: `${PREFIX}:` },
  shards: { databases: 2, tablesPerDatabase: 4 },
  kafka: {
    ordersTopic: `${PREFIX}.orders`,
    dlqTopic: `${PREFIX}.dlq`,
    sinkGroupId: `${PREFIX}-sink`,
    sessionTimeoutMs: KAFKA_TEST_SETTINGS.sessionTimeoutMs,
    heartbeatIntervalMs: KAFKA_TEST_SETTINGS.heartbeatIntervalMs,
    maxWaitTimeMs: KAFKA_TEST_SETTINGS.maxWaitTimeMs,
  },
};

let dir: string;
let file: string;
let config: Config;
let pools: MysqlPools;
let redis: Redis;
let ids: IdGeneratorHandle;
let dlq: DeadLetterStore;
let bus: OrderBus;
let consumer: BusConsumer;
const [fixed, broken] = accountOrders('DLK', 2, 'ebay');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tradectl-dlqk-'));
  file = join(dir, 'dlq.json');
  await writeFile(file, JSON.stringify(RAW));
  config = parseConfig(RAW, ENV);
  const router = routerForConfig(config);
  pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  for (const ddl of dlqTablesDdl(router)) await pools.meta().query(ddl);
  dlq = createMysqlDeadLetterQueue({ pools, router });
  redis = new Redis(config.redis.url);
  ids = await createIdGenerator({ config, logger: silentLogger(), redis });
  const generator = ids.generator;
  const { sink } = createSinkPipeline({
    config,
    logger: silentLogger(),
    pools,
    router,
    redis,
    nextId: () => generator.next(),
  });
  bus = createOrderBus({ config, dlq, logger: silentLogger(), retry: { initialMs: 20, maxMs: 200 } });
  consumer = await bus.consume({ groupId: config.kafka.sinkGroupId, handler: sink.handler });
});

afterAll(async () => {
  await consumer?.stop();
  await bus?.stop();
  await ids?.close();
  redis?.disconnect();
  await pools?.close();
  if (config) await dropDatabases(config);
  await rm(dir, { recursive: true, force: true });
});

async function readDlqTopic(
  count: number,
): Promise<{ key: string | null; headers: Record<string, string> }[]> {
  const kafka = new Kafka({
    clientId: 'dlq-replay-test',
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const reader = kafka.consumer({
    groupId: `${PREFIX}-read`,
    sessionTimeout: KAFKA_TEST_SETTINGS.sessionTimeoutMs,
    heartbeatInterval: KAFKA_TEST_SETTINGS.heartbeatIntervalMs,
    maxWaitTimeInMs: KAFKA_TEST_SETTINGS.maxWaitTimeMs,
  });
  const messages: { key: string | null; headers: Record<string, string> }[] = [];
  await reader.connect();
  try {
    await reader.subscribe({ topics: [config.kafka.dlqTopic], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        messages.push({
          key: message.key?.toString() ?? null,
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
          ),
        });
      },
    });
    const deadline = Date.now() + 30_000;
    while (messages.length < count && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await reader.disconnect();
  }
  return messages;
}

describe('tradectl dlq replay through Kafka', () => {
  it('stores the entry that validates now and puts the still invalid one back into its own entry', async () => {
    const envelope = (order: typeof fixed) => createEnvelope(order!, '2026-03-01T00:00:00.000Z');
    const bad = envelope({ ...broken!, currency: 'ZZZ' });
    await dlq.put([
      {
        key: envelopeKey(envelope(fixed)),
        reason: 'store refused the order: (a bug since fixed)',
        original: encodeEnvelope(envelope(fixed)),
        source: { topic: config.kafka.ordersTopic, partition: 1, offset: '7' },
      },
      {
        key: envelopeKey(bad),
        reason: 'order.currency: expected an ISO-4217 currency code',
        original: encodeEnvelope(bad),
        source: { topic: config.kafka.ordersTopic, partition: 0, offset: '3' },
      },
    ]);
    const [fixedId, brokenId] = (await dlq.list({ limit: 10 })).map((entry) => entry.id);

    const io = { stdout: new Collector(), stderr: new Collector(), env: ENV } satisfies CliIo;
    const code = await runCli(
      ['dlq', 'replay', fixedId!, brokenId!, '--wait', '--json', '--config', file],
      io,
    );
    expect(io.stderr.text).toContain('replayed via kafka: 1 replayed, 1 failed again');
    expect(code).toBe(EXIT.partial);
    expect(JSON.parse(io.stdout.text)).toMatchObject({
      via: 'kafka',
      items: [
        { id: fixedId, outcome: 'replayed' },
        {
          id: brokenId,
          outcome: 'failed-again',
          seenCount: 2,
          reason: expect.stringContaining('order.currency'),
        },
      ],
    });

    const store = createOrderStore({ pools, router: routerForConfig(config), nextId: () => '1' });
    expect(await store.getByPlatformKey(fixed!)).toMatchObject({ platformOrderId: fixed!.platformOrderId });
    expect(await store.getByPlatformKey(broken!)).toBeNull();
    // Still two entries: the failed replay (a new offset) went to its own entry, not a new one.
    const entries = await dlq.list({ limit: 10, state: 'all' });
    expect(entries.map((entry) => [entry.id, entry.seenCount, entry.replayedAt === null])).toEqual([
      [fixedId, 1, false],
      [brokenId, 2, true],
    ]);
    expect(entries[1]!.source).toEqual({ topic: config.kafka.ordersTopic, partition: 0, offset: '3' });
    const [topicEntry] = await readDlqTopic(1);
    expect(topicEntry).toMatchObject({ key: envelopeKey(bad), headers: { 'tradectl-replay-of': brokenId } });
  });
});
