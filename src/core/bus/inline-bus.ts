import type { Logger } from '../logger.js';
import {
  type BusCounters,
  consumerSignals,
  deliverChunk,
  newCounters,
  type RawDelivery,
  type RetryBackoff,
  resolveBackoff,
  sleep,
} from './batch-delivery.js';
import { busStopped, consumerActive } from './bus-errors.js';
import type { DeadLetterQueue } from './dlq.js';
import { encodeEnvelope, envelopeKey } from './envelope.js';
import type { BusConsumer, BusStats, ConsumeOptions, OrderBus, RawMessage } from './order-bus.js';

/**
 * The OrderBus of one process without a broker (the embedded default when `kafka.brokers` is
 * empty). `publish` resolves when the consumer's handler finished with the batch, so a sync
 * checkpoint advances only after the database commit.
 *
 * Messages travel as bytes, exactly as on Kafka: they are encoded on publish and decoded on
 * delivery, so an invalid order is quarantined by the same path and with the same reason.
 * Keys hash to lanes (the inline partitions); each lane delivers in order, lanes run in
 * parallel, and a lane merges what several publishes queued into one handler batch.
 *
 * Backpressure: a publish waits while `maxQueuedMessages` messages are queued (one publish is
 * admitted whole, so the queue may exceed the bound by one publish). With no consumer running
 * publishes wait: the bus delivers to one consumer at a time (`consume` twice is a wiring bug).
 */
export interface InlineBusOptions {
  /** Durable quarantine for poison messages. */
  dlq: DeadLetterQueue;
  logger: Logger;
  /** Parallel lanes; a key always maps to the same lane. Default 4. */
  lanes?: number;
  /** Queued messages beyond which publish waits. Default 10,000. */
  maxQueuedMessages?: number;
  /** How long stop() lets running batches finish before abandoning them. Default 10,000 ms. */
  stopTimeoutMs?: number;
  /** Backoff between attempts of a failing handler. */
  retry?: RetryBackoff;
}

interface Ticket {
  remaining: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface QueueItem {
  message: RawMessage;
  ticket: Ticket;
}

interface ActiveConsumer {
  groupId: string;
  options: ConsumeOptions;
  stopping: AbortController;
  abandon: AbortController;
  workers: Map<number, Promise<void>>;
  stopped?: Promise<void>;
}

export function createInlineBus(options: InlineBusOptions): OrderBus {
  const laneCount = options.lanes ?? 4;
  const maxQueued = options.maxQueuedMessages ?? 10_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const backoff = resolveBackoff(options.retry);
  const logger = options.logger.child({ component: 'inline-bus' });
  const lanes: QueueItem[][] = Array.from({ length: laneCount }, () => []);
  const counters: BusCounters = newCounters();
  let queued = 0;
  let spaceWaiters: (() => void)[] = [];
  let consumer: ActiveConsumer | null = null;
  let stopped = false;

  function wakeSpaceWaiters(): void {
    const waiters = spaceWaiters;
    spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  function pump(): void {
    const active = consumer;
    if (active === null || active.stopping.signal.aborted) return;
    lanes.forEach((lane, index) => {
      if (lane.length === 0 || active.workers.has(index)) return;
      const worker = runLane(index, active).finally(() => {
        active.workers.delete(index);
        // Publishes that arrived while this worker was finishing its last batch.
        if (lanes[index]!.length > 0) pump();
      });
      active.workers.set(index, worker);
    });
  }

  async function runLane(index: number, active: ActiveConsumer): Promise<void> {
    const lane = lanes[index]!;
    const maxBatch = active.options.maxBatchMessages ?? 500;
    const context = {
      handler: active.options.handler,
      deadLetter: (entries: Parameters<DeadLetterQueue['put']>[0]) => options.dlq.put(entries),
      heartbeat: async () => undefined,
      stopping: active.stopping.signal,
      abandon: active.abandon.signal,
      backoff,
      heartbeatEveryMs: 0,
      counters,
      logger: logger.child({ groupId: active.groupId, lane: index }),
    };
    while (lane.length > 0 && !active.stopping.signal.aborted) {
      // Items stay queued until handled: an abandoned batch is delivered again, first in its lane.
      const taken = lane.slice(0, maxBatch);
      const chunk: RawDelivery[] = taken.map((item) => ({
        key: item.message.key,
        value: item.message.value,
        source: null,
        replayOf: item.message.replayOf ?? null,
      }));
      let outcome: 'done' | 'abandoned';
      try {
        outcome = await deliverChunk(chunk, context);
      } catch (error) {
        logger.error({ err: error, lane: index }, 'inline bus lane failed; its batch stays queued');
        return;
      }
      if (outcome === 'abandoned') {
        counters.abandonedBatches++;
        return;
      }
      lane.splice(0, taken.length);
      queued -= taken.length;
      for (const item of taken) {
        if (--item.ticket.remaining === 0) item.ticket.resolve();
      }
      wakeSpaceWaiters();
    }
  }

  function stopConsumer(active: ActiveConsumer): Promise<void> {
    active.stopped ??= (async () => {
      active.stopping.abort();
      const drained = Promise.all(active.workers.values()).then(() => 'drained' as const);
      const timeout = new AbortController();
      const outcome = await Promise.race([
        drained,
        sleep(stopTimeoutMs, timeout.signal).then(() => 'timeout' as const),
      ]);
      timeout.abort();
      if (outcome === 'timeout') {
        logger.warn({ groupId: active.groupId, stopTimeoutMs }, 'abandoning batches still running at stop');
        active.abandon.abort();
        await drained;
      }
      if (consumer === active) consumer = null;
    })();
    return active.stopped;
  }

  async function publishRaw(messages: readonly RawMessage[]): Promise<void> {
    if (stopped) throw busStopped();
    if (messages.length === 0) return;
    while (queued >= maxQueued && !stopped) await new Promise<void>((wake) => spaceWaiters.push(wake));
    if (stopped) throw busStopped();
    const done = new Promise<void>((resolve, reject) => {
      const ticket: Ticket = { remaining: messages.length, resolve, reject };
      for (const message of messages) lanes[laneOf(message.key, laneCount)]!.push({ message, ticket });
    });
    queued += messages.length;
    pump();
    await done;
    counters.published += messages.length;
  }

  return {
    kind: 'inline',
    async start() {},
    publish(envelopes) {
      return publishRaw(
        envelopes.map((envelope) => ({ key: envelopeKey(envelope), value: encodeEnvelope(envelope) })),
      );
    },
    publishRaw,
    async consume(consumeOptions) {
      if (stopped) throw busStopped();
      if (consumer !== null) throw consumerActive(consumeOptions.groupId);
      const active: ActiveConsumer = {
        groupId: consumeOptions.groupId,
        options: consumeOptions,
        ...consumerSignals(laneCount),
        workers: new Map(),
      };
      consumer = active;
      pump();
      const handle: BusConsumer = { groupId: active.groupId, stop: () => stopConsumer(active) };
      return handle;
    },
    stats(): BusStats {
      const { retryingBatches, ...rest } = counters;
      return { kind: 'inline', ...rest, lag: queued, retrying: retryingBatches > 0 };
    },
    async stop() {
      stopped = true;
      if (consumer !== null) await stopConsumer(consumer);
      const error = busStopped();
      const tickets = new Set(lanes.flatMap((lane) => lane.map((item) => item.ticket)));
      for (const lane of lanes) lane.length = 0;
      queued = 0;
      for (const ticket of tickets) ticket.reject(error);
      wakeSpaceWaiters();
    },
  };
}

/** FNV-1a: a cheap, stable hash so a key always maps to the same lane. */
function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
