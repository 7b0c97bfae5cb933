import { CompressionTypes, Kafka, type Message, type Producer } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { type BusCounters, newCounters, type RetryBackoff, resolveBackoff } from './batch-delivery.js';
import { busStopped, busUnavailable } from './bus-errors.js';
import type { DeadLetterInput, DeadLetterQueue } from './dlq.js';
import { encodeEnvelope, envelopeKey } from './envelope.js';
import { REPLAY_OF_HEADER, startKafkaConsumer } from './kafka-consumer.js';
import { kafkaLogCreator, kafkaLogLevel } from './kafka-logger.js';
import { partitionOfKey } from './kafka-partitions.js';
import { ensureTopics } from './kafka-topics.js';
import type { BusConsumer, BusStats, OrderBus, RawMessage } from './order-bus.js';

/**
 * The OrderBus on Kafka (kafkajs). The producer is idempotent with one request in flight, so a
 * retried produce never duplicates or reorders; `publish` resolves when every message is
 * acknowledged by all in-sync replicas (acks -1). Topics are created at start-up when missing.
 *
 * Poison messages are written to the DLQ table and produced to `kafka.dlqTopic` (value: the
 * original bytes; headers: reason and source topic/partition/offset), both before the offset is
 * committed. A crash between the two may produce a topic entry twice: the table deduplicates.
 */
export interface KafkaBusOptions {
  /** The `kafka` config section (brokers, topics, group timings, compression). */
  config: Config['kafka'];
  dlq: DeadLetterQueue;
  logger: Logger;
  /** How long stop() lets running batches finish before abandoning them. Default 10,000 ms. */
  stopTimeoutMs?: number;
  /** Backoff between attempts of a failing handler. */
  retry?: RetryBackoff;
  /**
   * Largest record batch of one partition in a produce request, in messages and in bytes before
   * compression, so it stays below Kafka's default 1 MiB record batch limit (`message.max.bytes`)
   * whatever the compression achieves. A request carries one batch per partition, so it holds up
   * to partitions x these. Fewer, larger requests matter: the idempotent producer sends one
   * request at a time, and the local mock broker serves one stored batch per partition per fetch.
   * Defaults 1000 messages and 900 KiB.
   */
  maxMessagesPerRequest?: number;
  maxBytesPerRequest?: number;
}

export function createKafkaBus(options: KafkaBusOptions): OrderBus {
  const { config, dlq } = options;
  const logger = options.logger.child({ component: 'kafka-bus' });
  const backoff = resolveBackoff(options.retry);
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const maxMessages = options.maxMessagesPerRequest ?? 1000;
  const maxBytes = options.maxBytesPerRequest ?? 900 * 1024;
  const compression = config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const counters: BusCounters = newCounters();
  const lagByPartition = new Map<string, number>();
  const consumers = new Set<BusConsumer>();
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: kafkaLogLevel(options.logger),
    logCreator: kafkaLogCreator(options.logger),
  });
  // Idempotence needs one request in flight; kafkajs's own retries then never reorder.
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  // Partition count of the orders topic, known after start (0: unknown, chunk per request).
  let ordersPartitions = 0;
  let started: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let stopped = false;

  function start(): Promise<void> {
    if (stopped) return Promise.reject(busStopped());
    started ??= (async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const partitions = await ensureTopics(
          admin,
          [
            { topic: config.ordersTopic, numPartitions: config.partitions },
            { topic: config.dlqTopic, numPartitions: config.dlqPartitions },
          ],
          logger,
        );
        ordersPartitions = partitions.get(config.ordersTopic) ?? 0;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      try {
        await producer.connect();
      } catch (error) {
        throw busUnavailable('connecting the kafka producer', error);
      }
    })().catch((error: unknown) => {
      started = undefined;
      throw error;
    });
    return started;
  }

  async function send(topic: string, messages: Message[]): Promise<void> {
    try {
      await producer.send({ topic, messages, acks: -1, compression });
    } catch (error) {
      if (stopped) throw busStopped();
      throw busUnavailable(`producing to ${topic}`, error);
    }
  }

  async function publishRaw(messages: readonly RawMessage[]): Promise<void> {
    await start();
    // Requests go one after another: one publish's messages keep their order per key.
    const partitionOf = partitionOfKey(ordersPartitions);
    for (const chunk of chunks(messages, { maxMessages, maxBytes, partitionOf })) {
      await send(
        config.ordersTopic,
        chunk.map((message) => ({
          key: message.key,
          value: message.value,
          ...(message.replayOf && { headers: { [REPLAY_OF_HEADER]: message.replayOf } }),
        })),
      );
      counters.published += chunk.length;
    }
  }

  async function deadLetter(entries: DeadLetterInput[]): Promise<void> {
    await dlq.put(entries);
    await send(
      config.dlqTopic,
      entries.map((entry) => ({
        key: entry.key,
        value: entry.original,
        headers: {
          'tradectl-reason': entry.reason,
          ...(entry.source && {
            'tradectl-source-topic': entry.source.topic,
            'tradectl-source-partition': String(entry.source.partition),
            'tradectl-source-offset': entry.source.offset,
          }),
          ...(entry.replayOf && { [REPLAY_OF_HEADER]: entry.replayOf }),
        },
      })),
    );
  }

  return {
    kind: 'kafka',
    start,
    publish(envelopes) {
      return publishRaw(
        envelopes.map((envelope) => ({ key: envelopeKey(envelope), value: encodeEnvelope(envelope) })),
      );
    },
    publishRaw,
    async consume(consumeOptions) {
      await start();
      const consumer = await startKafkaConsumer({
        kafka,
        config,
        options: consumeOptions,
        deadLetter,
        counters,
        lag: lagByPartition,
        backoff,
        stopTimeoutMs,
        logger,
      }).catch((error: unknown) => {
        throw busUnavailable(`starting consumer group ${consumeOptions.groupId}`, error);
      });
      const handle: BusConsumer = {
        groupId: consumer.groupId,
        stop: async () => {
          await consumer.stop();
          consumers.delete(handle);
        },
      };
      consumers.add(handle);
      return handle;
    },
    stats(): BusStats {
      const { retryingBatches, ...rest } = counters;
      const lag =
        lagByPartition.size === 0
          ? null
          : [...lagByPartition.values()].reduce((sum, value) => sum + value, 0);
      return { kind: 'kafka', ...rest, lag, retrying: retryingBatches > 0 };
    },
    stop() {
      stopping ??= (async () => {
        // Consumers first: a batch finishing during the drain may still need the producer (DLQ topic).
        await Promise.all([...consumers].map((consumer) => consumer.stop()));
        stopped = true;
        await producer.disconnect().catch((error: unknown) => {
          logger.warn({ err: error }, 'kafka producer did not disconnect cleanly');
        });
      })();
      return stopping;
    },
  };
}

/**
 * Cuts messages into produce requests, in order, so that no partition's part of a request
 * exceeds `maxMessages` or `maxBytes` (uncompressed key + value).
 */
export function* chunks(
  messages: readonly RawMessage[],
  limits: { maxMessages: number; maxBytes: number; partitionOf: (key: string) => number },
): Generator<RawMessage[]> {
  let chunk: RawMessage[] = [];
  const perPartition = new Map<number, { messages: number; bytes: number }>();
  for (const message of messages) {
    const size = message.value.length + message.key.length;
    const partition = limits.partitionOf(message.key);
    let load = perPartition.get(partition);
    if (load && (load.messages >= limits.maxMessages || load.bytes + size > limits.maxBytes)) {
      yield chunk;
      chunk = [];
      perPartition.clear();
      load = undefined;
    }
    if (!load) {
      load = { messages: 0, bytes: 0 };
      perPartition.set(partition, load);
    }
    chunk.push(message);
    load.messages++;
    load.bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
