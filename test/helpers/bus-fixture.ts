import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createMysqlDeadLetterQueue, type DeadLetterQueue, dlqTablesDdl } from '../../src/core/bus/dlq.js';
import { createEnvelope, envelopeKey, type OrderEnvelope } from '../../src/core/bus/envelope.js';
import { createInlineBus } from '../../src/core/bus/inline-bus.js';
import { createKafkaBus } from '../../src/core/bus/kafka-bus.js';
import type { BusMessage, OrderBus } from '../../src/core/bus/order-bus.js';
import type { Config } from '../../src/core/config.js';
import { TradectlError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { routerForConfig } from '../../src/core/shard-admin.js';
import { addMs } from '../../src/core/time.js';
import { generateOrders } from './order-generator.js';
import { dropDatabases, KAFKA_BROKERS, testConfig } from './services.js';

/**
 * What the order bus conformance suite needs from each implementation: a fresh bus (own topics
 * on Kafka) plus transport-level views that do not go through the bus under test.
 */
export interface BusUnderTest {
  bus: OrderBus;
  /** Topic name on Kafka, null inline. */
  topic: string | null;
  /** Partition count of the orders topic on Kafka; null inline. */
  partitions: number | null;
  /**
   * Messages the transport holds durably: on Kafka, the orders topic's high watermarks; inline,
   * the messages whose handler finished (the inline bus's definition of a durable hand-off).
   */
  durableCount(handlerFinished: number): Promise<number>;
  /** Messages acknowledged for the group: committed offsets on Kafka, handled (no longer queued) inline. */
  acknowledged(groupId: string, published: number): Promise<number>;
  /** The messages on the Kafka DLQ topic (read with a fresh group until `count` arrived); null inline. */
  dlqTopicMessages(count: number): Promise<DlqTopicMessage[] | null>;
  close(): Promise<void>;
}

export interface DlqTopicMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export interface BusFactory {
  name: 'kafka' | 'inline';
  create(options: { stopTimeoutMs: number; dlq: DeadLetterQueue }): Promise<BusUnderTest>;
}

export const KAFKA_TEST_SETTINGS = {
  brokers: KAFKA_BROKERS,
  // The mock broker needs >= 3 s; each rebalance takes about sessionTimeout - 1 s.
  sessionTimeoutMs: 4000,
  heartbeatIntervalMs: 1000,
  // An empty fetch waits the whole max-wait on the mock.
  maxWaitTimeMs: 100,
  partitionsConsumedConcurrently: 3,
};

const RETRY = { initialMs: 20, maxMs: 200 };

export const kafkaFactory: BusFactory = {
  name: 'kafka',
  async create({ stopTimeoutMs, dlq }) {
    const run = randomBytes(4).toString('hex');
    const kafkaConfig: Config['kafka'] = {
      ...testConfig({ kafka: KAFKA_TEST_SETTINGS }).kafka,
      ordersTopic: `tradectl.test.${run}.orders`,
      dlqTopic: `tradectl.test.${run}.dlq`,
    };
    const bus = createKafkaBus({
      config: kafkaConfig,
      dlq,
      logger: silentLogger(),
      stopTimeoutMs,
      retry: RETRY,
    });
    await bus.start();
    const admin = new Kafka({
      clientId: 'bus-conformance',
      brokers: KAFKA_BROKERS,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [kafkaConfig.ordersTopic] });
    const sumHigh = async (topic: string) =>
      (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high), 0);
    return {
      bus,
      topic: kafkaConfig.ordersTopic,
      partitions: metadata.topics[0]?.partitions.length ?? 0,
      durableCount: () => sumHigh(kafkaConfig.ordersTopic),
      async acknowledged(groupId) {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [kafkaConfig.ordersTopic] });
        return (offsets?.partitions ?? []).reduce(
          (sum, partition) => sum + Math.max(0, Number(partition.offset)),
          0,
        );
      },
      dlqTopicMessages: (count) => readTopic(kafkaConfig.dlqTopic, count),
      async close() {
        await bus.stop();
        await admin.disconnect();
      },
    };
  },
};

export const inlineFactory: BusFactory = {
  name: 'inline',
  async create({ stopTimeoutMs, dlq }) {
    const bus = createInlineBus({ dlq, logger: silentLogger(), stopTimeoutMs, retry: RETRY, lanes: 4 });
    return {
      bus,
      topic: null,
      partitions: null,
      durableCount: async (handlerFinished) => handlerFinished,
      acknowledged: async (_groupId, published) => published - (bus.stats().lag ?? 0),
      dlqTopicMessages: async () => null,
      close: () => bus.stop(),
    };
  },
};

async function readTopic(topic: string, count: number): Promise<DlqTopicMessage[]> {
  const kafka = new Kafka({
    clientId: 'bus-conformance',
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({
    groupId: `read-${randomBytes(4).toString('hex')}`,
    sessionTimeout: KAFKA_TEST_SETTINGS.sessionTimeoutMs,
    heartbeatInterval: KAFKA_TEST_SETTINGS.heartbeatIntervalMs,
    maxWaitTimeInMs: KAFKA_TEST_SETTINGS.maxWaitTimeMs,
  });
  const messages: DlqTopicMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        );
        messages.push({
          key: message.key?.toString('utf8') ?? null,
          value: message.value ?? Buffer.alloc(0),
          headers,
        });
      },
    });
    await eventually(`${count} messages on ${topic}`, () => messages.length >= count);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** A meta database holding only the DLQ table, with its own prefix. */
export async function createDlqFixture(): Promise<{ dlq: DeadLetterQueue; close(): Promise<void> }> {
  const config = testConfig({ shards: { databases: 1, tablesPerDatabase: 1 } });
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, { connectionLimit: 4 });
  await pools.meta().query(`CREATE DATABASE IF NOT EXISTS \`${router.metaDatabaseName}\``);
  for (const ddl of dlqTablesDdl(router)) await pools.meta().query(ddl);
  return {
    dlq: createMysqlDeadLetterQueue({ pools, router }),
    async close() {
      await pools.close();
      await dropDatabases(config);
    },
  };
}

/**
 * `keys` distinct orders with `versions` versions each, interleaved (k0v0, k1v0, …, k0v1, …):
 * every version of one key has a later updatedAt, so arrival order per key is checkable.
 */
export function versionedEnvelopes(tag: string, keys: number, versions: number): OrderEnvelope[] {
  const base = generateOrders({ seed: 42, count: keys, idPrefix: tag });
  const envelopes: OrderEnvelope[] = [];
  for (let version = 0; version < versions; version++) {
    for (const order of base) {
      envelopes.push(
        createEnvelope(
          { ...order, updatedAt: addMs(order.updatedAt, version * 1000) },
          addMs('2026-03-01T00:00:00.000Z', version),
        ),
      );
    }
  }
  return envelopes;
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Records `updatedAt` per key, in arrival order. */
export function recorder() {
  const seen = new Map<string, string[]>();
  const record = (messages: readonly BusMessage[]) => {
    for (const message of messages) {
      seen.set(message.key, [...(seen.get(message.key) ?? []), message.envelope.order.updatedAt]);
    }
  };
  const total = () => [...seen.values()].reduce((sum, list) => sum + list.length, 0);
  return { seen, record, total };
}

export function expectedByKey(envelopes: readonly OrderEnvelope[]): Map<string, string[]> {
  const expected = new Map<string, string[]>();
  for (const envelope of envelopes) {
    const key = envelopeKey(envelope);
    expected.set(key, [...(expected.get(key) ?? []), envelope.order.updatedAt]);
  }
  return expected;
}

/** The kind of failure a handler meets when the database is briefly away. */
export const transientFailure = () =>
  new TradectlError('TRADECTL_DB_UNAVAILABLE', 'database unavailable (test)', { kind: 'transient' });
