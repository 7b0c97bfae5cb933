import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import {
  type BusCounters,
  consumerSignals,
  type DeliveryContext,
  deliverChunk,
  MembershipLost,
  type RawDelivery,
  type RetryBackoff,
  sleep,
} from './batch-delivery.js';
import type { DeadLetterInput } from './dlq.js';
import type { BusConsumer, ConsumeOptions } from './order-bus.js';

/**
 * One consumer-group member of the KafkaBus. kafkajs's `eachBatch` with manual resolution: a
 * chunk's last offset is resolved and committed only after its handler resolved (after the
 * database commit), so a crash or rebalance at any point redelivers, never skips. kafkajs
 * fetches a partition's next batch from the last resolved offset, so a chunk left unresolved
 * (handler failing at stop, abandoned) is what the next owner of the partition starts with.
 */
export interface KafkaConsumerDeps {
  kafka: Kafka;
  config: Config['kafka'];
  options: ConsumeOptions;
  /** Durable DLQ write plus the DLQ topic. */
  deadLetter: (entries: DeadLetterInput[]) => Promise<void>;
  counters: BusCounters;
  /** Lag per partition (`topic/partition`), updated after each acknowledged chunk. */
  lag: Map<string, number>;
  backoff: Required<RetryBackoff>;
  stopTimeoutMs: number;
  logger: Logger;
}

/** Header of a message replayed from the DLQ: the id of its entry (see DeadLetterInput.replayOf). */
export const REPLAY_OF_HEADER = 'tradectl-replay-of';

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return null;
  const text = first.toString();
  // Anything but an entry id is ignored: the message is then quarantined as a new entry.
  return /^\d{1,20}$/.test(text) ? text : null;
}

export async function startKafkaConsumer(deps: KafkaConsumerDeps): Promise<BusConsumer> {
  const { config, options, counters, lag } = deps;
  const topic = config.ordersTopic;
  const maxBatch = options.maxBatchMessages ?? 500;
  const logger = deps.logger.child({ groupId: options.groupId });
  const { stopping, abandon } = consumerSignals(config.partitionsConsumedConcurrently);

  const partitionLoggers = new Map<number, Logger>();
  const partitionLogger = (partition: number): Logger => {
    let child = partitionLoggers.get(partition);
    if (!child) {
      child = logger.child({ partition });
      partitionLoggers.set(partition, child);
    }
    return child;
  };

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const context: DeliveryContext = {
      handler: options.handler,
      deadLetter: deps.deadLetter,
      heartbeat: () => payload.heartbeat(),
      stopping: stopping.signal,
      abandon: abandon.signal,
      backoff: deps.backoff,
      heartbeatEveryMs: Math.max(100, Math.floor(config.heartbeatIntervalMs / 2)),
      counters,
      logger: partitionLogger(batch.partition),
    };
    for (let start = 0; start < batch.messages.length; start += maxBatch) {
      if (!payload.isRunning() || payload.isStale() || stopping.signal.aborted) return;
      const slice = batch.messages.slice(start, start + maxBatch);
      const chunk: RawDelivery[] = slice.map((message) => ({
        key: message.key === null ? null : message.key.toString('utf8'),
        value: message.value,
        source: { topic: batch.topic, partition: batch.partition, offset: message.offset },
        replayOf: headerText(message.headers?.[REPLAY_OF_HEADER]),
      }));
      let outcome: 'done' | 'abandoned';
      try {
        outcome = await deliverChunk(chunk, context);
      } catch (error) {
        // kafkajs re-joins the group on its own rebalance errors; the chunk stays unresolved.
        throw error instanceof MembershipLost ? error.reason : error;
      }
      if (outcome === 'abandoned') {
        counters.abandonedBatches++;
        return;
      }
      const last = slice.at(-1)!.offset;
      payload.resolveOffset(last);
      await payload.commitOffsetsIfNecessary();
      lag.set(
        `${batch.topic}/${batch.partition}`,
        Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)),
      );
    }
  }

  // kafkajs restarts a crashed consumer by itself only after retriable errors; after any other
  // (a broker answering a protocol error mid-rebalance, seen on the local mock) it disconnects
  // for good, and the process would keep running without a sink. A new member replaces it.
  let consumer: Consumer | undefined;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const onCrash = (restart: boolean, error: unknown) => {
    logger.error({ err: error, restart }, 'kafka consumer crashed');
    if (restart || stopping.signal.aborted) return;
    const wait = Math.min(30_000, 1000 * 2 ** Math.min(restarts++, 5));
    logger.warn({ retryInMs: wait }, 'starting a new kafka consumer in place of the crashed one');
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping.signal.aborted) return;
      // The wait keeps growing until a member joins the group: one that starts and crashes
      // before joining (the mock's rebalance error) must not be retried every second.
      startMember().catch((failure: unknown) => onCrash(false, failure));
    }, wait);
  };

  async function startMember(): Promise<Consumer> {
    const member = deps.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxWaitTimeInMs: config.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    });
    // Only the newest member's crash counts; a replaced one may still report its own.
    consumer = member;
    member.on(member.events.GROUP_JOIN, (event) => {
      if (member === consumer) restarts = 0;
      // Partitions may have moved: lag of partitions this member no longer owns is not ours to report.
      lag.clear();
      logger.info(
        { memberId: event.payload.memberId, partitions: event.payload.memberAssignment[topic] ?? [] },
        'joined consumer group',
      );
    });
    member.on(member.events.CRASH, (event) => {
      if (member === consumer) onCrash(event.payload.restart, event.payload.error);
    });
    try {
      await member.connect();
      // A new group starts at the beginning: orders published before the sink first ran are not skipped.
      await member.subscribe({ topics: [topic], fromBeginning: true });
      await member.run({
        eachBatchAutoResolve: false,
        autoCommit: true,
        // With a threshold of one resolved offset, commitOffsetsIfNecessary commits after every chunk.
        autoCommitThreshold: 1,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
        eachBatch,
      });
    } catch (error) {
      await member.disconnect().catch(() => undefined);
      throw error;
    }
    return member;
  }

  await startMember();

  let stopped: Promise<void> | undefined;
  return {
    groupId: options.groupId,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        clearTimeout(restartTimer);
        // disconnect waits for running batches, commits what they resolved and leaves the group.
        const disconnected = (consumer?.disconnect() ?? Promise.resolve()).then(
          () => 'done' as const,
          (error: unknown) => {
            logger.warn({ err: error }, 'kafka consumer did not disconnect cleanly');
            return 'done' as const;
          },
        );
        const timer = new AbortController();
        const first = await Promise.race([
          disconnected,
          sleep(deps.stopTimeoutMs, timer.signal).then(() => 'timeout'),
        ]);
        timer.abort();
        if (first === 'timeout') {
          logger.warn({ stopTimeoutMs: deps.stopTimeoutMs }, 'abandoning batches still running at stop');
          abandon.abort();
          // Abandoned batches return at once; leaving the group takes one more round trip.
          const grace = new AbortController();
          await Promise.race([disconnected, sleep(5000, grace.signal)]);
          grace.abort();
        }
      })();
      return stopped;
    },
  };
}
