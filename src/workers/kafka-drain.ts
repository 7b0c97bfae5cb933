import { Kafka } from 'kafkajs';
import { kafkaLogCreator, kafkaLogLevel } from '../core/bus/kafka-logger.js';
import type { Config } from '../core/config.js';
import { TradectlError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * How `tradectl sync --via kafka` knows that everything it published is stored: once every
 * publish resolved (acknowledged by the brokers), it reads the orders topic's high watermarks;
 * those offsets cover every message of the run. It then waits until the sink's consumer group
 * has committed offsets at or past them on every partition. The sink commits an offset only
 * after the database commit of its batch, so a caught-up group means every message of the run
 * is stored, whichever member of the group (this process or a running worker) consumed it.
 */
export interface DrainOptions {
  config: Config['kafka'];
  groupId: string;
  logger: Logger;
  /** Give up after this long: TRADECTL_SYNC_DRAIN_TIMEOUT. Default 120,000 ms. */
  timeoutMs?: number;
  /** Time between two reads of the group's offsets. Default 250 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

export interface DrainResult {
  /** Messages (offsets) the group still had to commit when waiting started. */
  pendingAtStart: number;
  waitedMs: number;
}

export async function waitForConsumerGroup(options: DrainOptions): Promise<DrainResult> {
  const { config, groupId } = options;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const pollMs = options.pollMs ?? 250;
  const admin = new Kafka({
    clientId: `${config.clientId}-drain`,
    brokers: config.brokers,
    logLevel: kafkaLogLevel(options.logger),
    logCreator: kafkaLogCreator(options.logger),
  }).admin();
  const started = Date.now();
  await admin.connect();
  try {
    const targets = new Map<number, bigint>();
    for (const partition of await admin.fetchTopicOffsets(config.ordersTopic)) {
      // A partition whose messages all aged out (high = low) has nothing left to consume.
      if (BigInt(partition.high) > BigInt(partition.low))
        targets.set(partition.partition, BigInt(partition.high));
    }
    let pendingAtStart: number | undefined;
    for (;;) {
      const [topic] = await admin.fetchOffsets({ groupId, topics: [config.ordersTopic] });
      let pending = 0n;
      for (const [partition, high] of targets) {
        const committed = BigInt(
          topic?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1',
        );
        if (committed < high) pending += high - (committed < 0n ? 0n : committed);
      }
      pendingAtStart ??= Number(pending);
      if (pending === 0n) return { pendingAtStart, waitedMs: Date.now() - started };
      if (Date.now() - started > timeoutMs) {
        throw new TradectlError(
          'TRADECTL_SYNC_DRAIN_TIMEOUT',
          `the sink group ${groupId} still had ${pending} message(s) of this run to store after ${timeoutMs} ms`,
          {
            kind: 'transient',
            details: { groupId, pending: Number(pending) },
            hint: 'the orders are safe in Kafka (the checkpoints moved only after the brokers acknowledged them); a running sink stores them',
          },
        );
      }
      options.signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
