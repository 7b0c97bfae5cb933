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
import { type CommitOutcome, PartitionCommits } from './partition-commits.js';

/**
 * One consumer-group member of the KafkaBus. kafkajs's `eachBatch`, auto-commit off: a chunk is
 * handed to the handler and resolved at once, so kafkajs fetches and decodes the partition's next
 * batch while the database writes this one (one fetch ahead at most: a partition's `eachBatch`
 * returns only once its previous batch is stored). Its offset is committed only after its handler
 * resolved (after the database commit) and every earlier chunk of the partition was committed
 * (PartitionCommits), so a crash or rebalance at any point redelivers, never skips: the next
 * owner of a partition starts at its last commit.
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
  // Two chunks per partition can be in delivery at once: the stored one and the one fetched ahead.
  const { stopping, abandon } = consumerSignals(2 * config.partitionsConsumedConcurrently);
  const commits = new PartitionCommits({
    commit: async (topic, partition, offset) => {
      if (!commitThroughGroup) throw new Error('no kafka consumer to commit with');
      await commitThroughGroup({ topics: [{ topic, partitions: [{ partition, offset }] }] });
    },
    abandoned: () => {
      counters.abandonedBatches++;
    },
  });
  // The group's own commit, as eachBatch hands it over: it fails at once on a rebalance, where
  // consumer.commitOffsets retries with the stale generation for up to half a minute while the
  // partition's next eachBatch waits for it and the whole group waits for that.
  let commitThroughGroup: EachBatchPayload['commitOffsetsIfNecessary'] | undefined;

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
    commitThroughGroup = payload.commitOffsetsIfNecessary;
    // The partition's previous batch, maybe still being written: waited for before returning.
    const previous = commits.settled(batch.topic, batch.partition);
    for (let start = 0; start < batch.messages.length; start += maxBatch) {
      if (!payload.isRunning() || payload.isStale() || stopping.signal.aborted) break;
      const slice = batch.messages.slice(start, start + maxBatch);
      const chunk: RawDelivery[] = slice.map((message) => ({
        key: message.key === null ? null : message.key.toString('utf8'),
        value: message.value,
        source: { topic: batch.topic, partition: batch.partition, offset: message.offset },
        replayOf: headerText(message.headers?.[REPLAY_OF_HEADER]),
      }));
      const last = slice.at(-1)!.offset;
      const committed = commits.add(batch.topic, batch.partition, last, deliverChunk(chunk, context), () =>
        lag.set(
          `${batch.topic}/${batch.partition}`,
          Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)),
        ),
      );
      // kafkajs may fetch past this chunk now; Kafka only hears of it once it is committed.
      payload.resolveOffset(last);
      // The chunks of one batch go one after another; only the last runs on past the return.
      const more = start + maxBatch < batch.messages.length;
      if (more && (await untilSettled(committed)) === 'stopped') return;
    }
    await untilSettled(previous);
  }

  async function untilSettled(committed: Promise<CommitOutcome>): Promise<CommitOutcome> {
    try {
      return await committed;
    } catch (error) {
      // kafkajs re-joins the group on its own rebalance errors; the partition restarts at its
      // last commit.
      throw error instanceof MembershipLost ? error.reason : error;
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
      // kafkajs fetches every partition from its committed offset again; chunks still running
      // from before commit nothing more.
      commits.newEpoch();
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
        // Resolved means "fetch past it", not "stored": PartitionCommits commits what is stored.
        autoCommit: false,
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
        // Chunks in delivery finish and commit while this member is still in the group.
        if (!(await finishesWithin(commits.drained(), deps.stopTimeoutMs))) {
          logger.warn({ stopTimeoutMs: deps.stopTimeoutMs }, 'abandoning batches still running at stop');
          abandon.abort();
          // Abandoned deliveries return at once.
          await finishesWithin(commits.drained(), 5000);
        }
        // Leaving the group takes a round trip or two; a broker that does not answer is not waited for.
        const disconnected = (consumer?.disconnect() ?? Promise.resolve()).catch((error: unknown) => {
          logger.warn({ err: error }, 'kafka consumer did not disconnect cleanly');
        });
        await finishesWithin(disconnected, 5000);
      })();
      return stopped;
    },
  };
}

/** Whether `work` settled within `ms` (it is not waited for any longer either way). */
async function finishesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const finished = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    sleep(ms, timer.signal).then(() => false),
  ]);
  timer.abort();
  return finished;
}
