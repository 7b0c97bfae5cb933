import { type Admin, Kafka } from 'kafkajs';
import { kafkaLogCreator, kafkaLogLevel } from '../core/bus/kafka-logger.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';

/** Messages of one partition the group has not committed yet. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * Lag per partition from the topic's offsets and the group's committed ones: high watermark minus
 * the committed offset, or minus the low watermark when nothing was committed (or what was
 * committed has aged out of the log): messages no longer in the topic cannot be consumed.
 */
export function partitionLags(
  topic: string,
  offsets: readonly { partition: number; high: string; low: string }[],
  committed: readonly { partition: number; offset: string }[],
): PartitionLag[] {
  const byPartition = new Map(committed.map((entry) => [entry.partition, BigInt(entry.offset)]));
  return offsets.map(({ partition, high, low }) => {
    const start = BigInt(low);
    const done = byPartition.get(partition) ?? -1n;
    const from = done < start ? start : done;
    const lag = BigInt(high) - from;
    return { topic, partition, lag: Number(lag > 0n ? lag : 0n) };
  });
}

export interface KafkaLagSamplerOptions {
  config: Config['kafka'];
  groupId: string;
  logger: Logger;
  /** Time between two samples, ms (`worker.lagSampleIntervalMs`). */
  intervalMs: number;
  onSample(partitions: PartitionLag[]): void;
}

/**
 * Reads the sink group's lag on the orders topic through a kafkajs admin client, once at start and
 * then every `intervalMs` (the timer is unref'ed). Independent of which process consumes which
 * partition: it is the group's lag, the same figure from every worker. A failed sample is logged
 * and the next one tried; the gauge keeps the last good values (and its sample time says how old).
 */
export class KafkaLagSampler {
  readonly #o: KafkaLagSamplerOptions;
  readonly #admin: Admin;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #connected = false;
  #stopped = false;

  constructor(options: KafkaLagSamplerOptions) {
    this.#o = options;
    this.#admin = new Kafka({
      clientId: `${options.config.clientId}-lag`,
      brokers: options.config.brokers,
      logLevel: kafkaLogLevel(options.logger),
      logCreator: kafkaLogCreator(options.logger),
    }).admin();
  }

  /** Takes the first sample (a failure is only logged) and schedules the next ones. */
  async start(): Promise<void> {
    await this.sample();
    this.#schedule();
  }

  async sample(): Promise<PartitionLag[] | undefined> {
    const topic = this.#o.config.ordersTopic;
    try {
      if (!this.#connected) {
        await this.#admin.connect();
        this.#connected = true;
      }
      const [offsets, groups] = await Promise.all([
        this.#admin.fetchTopicOffsets(topic),
        this.#admin.fetchOffsets({ groupId: this.#o.groupId, topics: [topic] }),
      ]);
      const lags = partitionLags(
        topic,
        offsets,
        groups.find((entry) => entry.topic === topic)?.partitions ?? [],
      );
      this.#o.onSample(lags);
      return lags;
    } catch (error) {
      this.#o.logger.warn(
        { err: error, topic, groupId: this.#o.groupId },
        'could not sample the consumer lag',
      );
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#inFlight;
    if (this.#connected) await this.#admin.disconnect().catch(() => undefined);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#inFlight = this.sample().then(() => {
        this.#inFlight = undefined;
        this.#schedule();
      });
    }, this.#o.intervalMs);
    this.#timer.unref();
  }
}
