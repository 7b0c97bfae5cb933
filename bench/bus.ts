/**
 * KafkaBus throughput, produce + consume, against a raw kafkajs ceiling measured in the same run.
 *
 *   (a) ceiling: kafkajs alone with the same producer settings (idempotent, acks -1, one request
 *       in flight, the same request sizes and concurrent publishers) sending pre-encoded bytes of
 *       the same size, and a consumer that only counts (eachBatch, auto-resolve, auto-commit).
 *   (b) KafkaBus: publish() of envelopes (JSON encoding) and consume() with a handler that
 *       counts; every message is decoded and validated (zod) and each chunk committed manually.
 *   (c) kafkajs as in (a), plus the per-message work the bus cannot skip, done inline: encode
 *       each envelope when sending, decodeEnvelope (JSON + validation) each one when consuming.
 *       (b)/(c) is the cost of the bus's own machinery; (b)/(a) includes validating every order.
 *
 * Both with and without GZIP. A run times from the first publish until the consumer has seen all
 * messages (the consumer has already joined its group); "produce" is the time until every publish
 * resolved. Each run gets its own 12-partition topic (`scripts/services.sh topic`), so the
 * backlog per partition stays far below the local mock broker's ~5 MiB (20,000 envelopes of
 * ~1.2 KB are ~2 MB per partition even if nothing were consumed). Variants alternate within a
 * round so machine noise hits all alike.
 *
 *   npx tsx bench/bus.ts [--messages 20000] [--rounds 3] [--publishers 4] [--batch 500]
 *
 * The local broker is librdkafka's mock: these are kafkajs client figures (one process for
 * producer, consumer and broker on this machine), not broker figures.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import type { DeadLetterQueue } from '../src/core/bus/dlq.js';
import {
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  envelopeKey,
  type OrderEnvelope,
} from '../src/core/bus/envelope.js';
import { createKafkaBus } from '../src/core/bus/kafka-bus.js';
import type { RawMessage } from '../src/core/bus/order-bus.js';
import { parseConfig } from '../src/core/config.js';
import { silentLogger } from '../src/core/logger.js';
import { generateOrders } from '../test/helpers/order-generator.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    publishers: { type: 'string', default: '4' },
    batch: { type: 'string', default: '500' },
  },
});
const N = Number(args.messages);
const ROUNDS = Number(args.rounds);
const PUBLISHERS = Number(args.publishers);
const BATCH = Number(args.batch);
const BROKERS = (process.env.TRADECTL_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const PARTITIONS = 12;
const SERVICES = fileURLToPath(new URL('../scripts/services.sh', import.meta.url));
const run = randomBytes(3).toString('hex');
const KAFKA_SETTINGS = {
  brokers: BROKERS,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 1000,
  maxWaitTimeMs: 100,
  partitionsConsumedConcurrently: 4,
};

type Variant = { name: string; compression: 'gzip' | 'none'; kind: 'ceiling' | 'bus' | 'codec' };
const VARIANTS: Variant[] = (['none', 'gzip'] as const).flatMap((compression) => [
  { name: `(a) kafkajs ceiling, ${compression}`, compression, kind: 'ceiling' as const },
  { name: `(b) KafkaBus, ${compression}`, compression, kind: 'bus' as const },
  { name: `(c) kafkajs + codec, ${compression}`, compression, kind: 'codec' as const },
]);

interface RunResult {
  endToEnd: number;
  produce: number;
}

const unusedDlq: DeadLetterQueue = {
  put: () => Promise.reject(new Error('the benchmark publishes no poison messages')),
  list: () => Promise.reject(new Error('unused')),
  get: () => Promise.reject(new Error('unused')),
  markReplayed: () => Promise.reject(new Error('unused')),
};

const topicName = (round: number, variant: number) => `tradectl.bench.${run}.r${round}v${variant}`;

function createTopics(): void {
  const specs = Array.from({ length: ROUNDS }, (_, round) =>
    VARIANTS.map((_variant, index) => `${topicName(round, index)}:${PARTITIONS}`),
  ).flat();
  try {
    execFileSync('bash', [SERVICES, 'topic', ...specs, `tradectl.bench.${run}.dlq:1`], { stdio: 'pipe' });
  } catch (error) {
    console.warn(
      `could not pre-create topics (${(error as Error).message.split('\n')[0]}); auto-created topics have 4 partitions`,
    );
  }
}

/** Splits the envelopes among PUBLISHERS, each publishing BATCH at a time, one after another. */
async function publishAll<T>(items: readonly T[], publish: (batch: T[]) => Promise<void>): Promise<void> {
  const share = Math.ceil(items.length / PUBLISHERS);
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async (_, publisher) => {
      const mine = items.slice(publisher * share, (publisher + 1) * share);
      for (let index = 0; index < mine.length; index += BATCH)
        await publish(mine.slice(index, index + BATCH));
    }),
  );
}

function waitFor(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

async function runBus(topic: string, variant: Variant, envelopes: OrderEnvelope[], warmUp: OrderEnvelope) {
  const base = parseConfig({ kafka: { ...KAFKA_SETTINGS, compression: variant.compression } }).kafka;
  const bus = createKafkaBus({
    config: { ...base, ordersTopic: topic, dlqTopic: `tradectl.bench.${run}.dlq` },
    dlq: unusedDlq,
    logger: silentLogger(),
  });
  let seen = 0;
  await bus.consume({
    groupId: `bench-${topic}`,
    handler: async (batch) => {
      seen += batch.messages.length;
    },
  });
  await bus.publish([warmUp]);
  await waitFor(() => seen >= 1, 'the consumer to join');
  seen = 0;
  const start = performance.now();
  await publishAll(envelopes, (batch) => bus.publish(batch));
  const produced = performance.now();
  await waitFor(() => seen >= envelopes.length, `${envelopes.length} messages`);
  const end = performance.now();
  await bus.stop();
  if (seen !== envelopes.length) throw new Error(`bus delivered ${seen}, expected ${envelopes.length}`);
  return {
    endToEnd: (envelopes.length / (end - start)) * 1000,
    produce: (envelopes.length / (produced - start)) * 1000,
  };
}

async function runCeiling(
  topic: string,
  variant: Variant,
  envelopes: OrderEnvelope[],
  encoded: RawMessage[],
) {
  const codec = variant.kind === 'codec';
  const kafka = new Kafka({ clientId: 'bench-ceiling', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  const consumer = kafka.consumer({
    groupId: `bench-${topic}`,
    sessionTimeout: KAFKA_SETTINGS.sessionTimeoutMs,
    heartbeatInterval: KAFKA_SETTINGS.heartbeatIntervalMs,
    maxWaitTimeInMs: KAFKA_SETTINGS.maxWaitTimeMs,
  });
  const compression = variant.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const send = (batch: RawMessage[]) =>
    producer.send({ topic, acks: -1, compression, messages: batch }).then(() => undefined);
  const sendEnvelopes = (batch: OrderEnvelope[]) =>
    send(batch.map((envelope) => ({ key: envelopeKey(envelope), value: encodeEnvelope(envelope) })));
  await Promise.all([producer.connect(), consumer.connect()]);
  let seen = 0;
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: KAFKA_SETTINGS.partitionsConsumedConcurrently,
    eachBatch: async ({ batch }) => {
      if (codec) {
        for (const message of batch.messages) {
          if (!decodeEnvelope(message.value).ok)
            throw new Error('the benchmark publishes no poison messages');
        }
      }
      seen += batch.messages.length;
    },
  });
  await send([encoded[0]!]);
  await waitFor(() => seen >= 1, 'the consumer to join');
  seen = 0;
  const start = performance.now();
  if (codec) await publishAll(envelopes, sendEnvelopes);
  else await publishAll(encoded, send);
  const produced = performance.now();
  await waitFor(() => seen >= encoded.length, `${encoded.length} messages`);
  const end = performance.now();
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return {
    endToEnd: (encoded.length / (end - start)) * 1000,
    produce: (encoded.length / (produced - start)) * 1000,
  };
}

function summary(rates: number[]) {
  const sorted = [...rates].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}

async function main(): Promise<void> {
  const orders = generateOrders({ seed: 3, count: N + 1, idPrefix: `B${run}` });
  const envelopes = orders.map((order) => createEnvelope(order, '2026-03-01T00:00:00.000Z'));
  const warmUp = envelopes.pop()!;
  const encoded = envelopes.map((envelope) => ({
    key: envelopeKey(envelope),
    value: encodeEnvelope(envelope),
  }));
  const bytes = encoded.reduce((sum, message) => sum + message.value.length, 0);
  console.log(
    `${N} envelopes (${(bytes / N).toFixed(0)} B each, ${(bytes / 2 ** 20).toFixed(1)} MiB), ${PUBLISHERS} publishers x ` +
      `${BATCH} per publish, ${PARTITIONS} partitions, ${ROUNDS} rounds, brokers ${BROKERS.join(',')}`,
  );
  createTopics();
  const results = new Map<string, RunResult[]>(VARIANTS.map((variant) => [variant.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, variant] of VARIANTS.entries()) {
      const topic = topicName(round, index);
      const result =
        variant.kind === 'bus'
          ? await runBus(topic, variant, envelopes, warmUp)
          : await runCeiling(topic, variant, envelopes, encoded);
      results.get(variant.name)!.push(result);
      console.log(
        `round ${round + 1} ${variant.name.padEnd(28)} end-to-end ${result.endToEnd.toFixed(0).padStart(6)} msg/s, ` +
          `produce ${result.produce.toFixed(0).padStart(6)} msg/s`,
      );
    }
  }
  const header = `${'msg/s (end-to-end)'.padEnd(30)}${'min'.padStart(8)}${'median'.padStart(8)}${'max'.padStart(8)}${'produce med'.padStart(13)}`;
  console.log(`\n${header}`);
  const medians = new Map<string, number>();
  for (const variant of VARIANTS) {
    const runs = results.get(variant.name)!;
    const e2e = summary(runs.map((result) => result.endToEnd));
    const produce = summary(runs.map((result) => result.produce));
    medians.set(variant.name, e2e.median);
    console.log(
      `${variant.name.padEnd(30)}${e2e.min.toFixed(0).padStart(8)}${e2e.median.toFixed(0).padStart(8)}` +
        `${e2e.max.toFixed(0).padStart(8)}${produce.median.toFixed(0).padStart(13)}`,
    );
  }
  const percent = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
  for (const compression of ['none', 'gzip']) {
    const ours = medians.get(`(b) KafkaBus, ${compression}`)!;
    const ceiling = medians.get(`(a) kafkajs ceiling, ${compression}`)!;
    const codec = medians.get(`(c) kafkajs + codec, ${compression}`)!;
    console.log(
      `${compression}: KafkaBus/raw ceiling ${percent(ours, ceiling)}, KafkaBus/(kafkajs + codec) ${percent(ours, codec)} (medians)`,
    );
  }
}

await main();
