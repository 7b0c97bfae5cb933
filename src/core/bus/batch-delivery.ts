import { setMaxListeners } from 'node:events';
import { setImmediate } from 'node:timers/promises';
import { isRetriable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeadLetterInput, MessageSource } from './dlq.js';
import { decodeEnvelope, envelopeKey } from './envelope.js';
import type { BatchHandler, BusMessage, BusStats } from './order-bus.js';

/**
 * The delivery of one chunk of messages to a handler, shared by both buses so they behave alike:
 * decode, quarantine what cannot be decoded, call the handler, retry failures with capped
 * backoff until they succeed or the consumer stops. Nothing here acknowledges anything: the
 * caller commits only after `deliverChunk` returned 'done'.
 */

/** A message as the transport delivered it. */
export interface RawDelivery {
  key: string | null;
  value: Buffer | null;
  source: MessageSource | null;
  /** Id of the DLQ entry this message replays (`tradectl dlq replay`), else null/absent. */
  replayOf?: string | null | undefined;
}

export interface RetryBackoff {
  /** First wait after a failed attempt. Default 200 ms. */
  initialMs?: number;
  /** Cap of the doubling wait. Default 10,000 ms. */
  maxMs?: number;
}

/** Counters both buses report through `stats()`. */
export type BusCounters = Omit<BusStats, 'kind' | 'lag' | 'retrying'> & { retryingBatches: number };

export function newCounters(): BusCounters {
  return {
    published: 0,
    consumed: 0,
    deadLettered: 0,
    handlerRetries: 0,
    abandonedBatches: 0,
    retryingBatches: 0,
  };
}

export interface DeliveryContext {
  handler: BatchHandler;
  /** Durable DLQ write (the bus adds its own copies, e.g. the Kafka DLQ topic). */
  deadLetter: (entries: DeadLetterInput[]) => Promise<void>;
  heartbeat: () => Promise<void>;
  /** Aborts when the consumer is asked to stop: no new attempts, backoff waits end. */
  stopping: AbortSignal;
  /** Aborts when the stop timeout passed: running attempts are abandoned. */
  abandon: AbortSignal;
  backoff: Required<RetryBackoff>;
  /** Heartbeat at least this often while an attempt runs or waits to be retried; 0: never (inline). */
  heartbeatEveryMs: number;
  counters: BusCounters;
  logger: Logger;
}

export type DeliveryOutcome = 'done' | 'abandoned';

/**
 * Errors that mean this consumer lost its claim on the partition (a rebalance). They end the
 * delivery at once, unacknowledged, and go to the transport, which re-joins its group.
 */
export class MembershipLost extends Error {
  constructor(readonly reason: unknown) {
    super('consumer group membership lost');
    this.name = 'MembershipLost';
  }
}

export async function deliverChunk(
  chunk: readonly RawDelivery[],
  context: DeliveryContext,
): Promise<DeliveryOutcome> {
  // A turn of the event loop per chunk: kafkajs hands all partitions' batches over in one
  // synchronous run, and decoding them all before any handler starts would leave the database
  // idle (see groupCommit); it also lets the HTTP API answer between chunks.
  await setImmediate();
  const messages: BusMessage[] = [];
  const poison: DeadLetterInput[] = [];
  for (const raw of chunk) {
    const decoded = decodeEnvelope(raw.value);
    const value = raw.value ?? Buffer.alloc(0);
    if (decoded.ok) {
      messages.push({
        key: raw.key ?? envelopeKey(decoded.envelope),
        envelope: decoded.envelope,
        raw: value,
        source: raw.source,
        replayOf: raw.replayOf ?? null,
      });
    } else {
      poison.push({
        key: raw.key,
        reason: decoded.reason,
        original: value,
        source: raw.source,
        replayOf: raw.replayOf ?? null,
      });
      context.logger.warn(
        { key: raw.key, reason: decoded.reason, source: raw.source, bytes: value.length },
        'poison message quarantined in the dead letter queue',
      );
    }
  }
  if (poison.length > 0) {
    const outcome = await withRetry('dead letter write', context, () => context.deadLetter(poison));
    if (outcome === 'abandoned') return outcome;
    context.counters.deadLettered += poison.length;
  }
  if (messages.length > 0) {
    let quarantined = 0;
    const outcome = await withRetry('batch handler', context, async () => {
      quarantined = 0;
      await context.handler({
        messages,
        signal: context.abandon,
        heartbeat: () => heartbeat(context),
        deadLetter: async (entries) => {
          await context.deadLetter(
            entries.map(({ message, reason }) => ({
              key: message.key,
              reason,
              original: message.raw,
              source: message.source,
              platform: message.envelope.platform,
              account: message.envelope.account,
              replayOf: message.replayOf ?? null,
            })),
          );
          quarantined += entries.length;
        },
      });
    });
    if (outcome === 'abandoned') return outcome;
    context.counters.deadLettered += quarantined;
  }
  context.counters.consumed += chunk.length;
  return 'done';
}

async function withRetry(
  what: string,
  context: DeliveryContext,
  attempt: () => Promise<void>,
): Promise<DeliveryOutcome> {
  let retrying = false;
  try {
    for (let failures = 0; ; failures++) {
      if (context.abandon.aborted) return 'abandoned';
      try {
        return await runAttempt(attempt, context);
      } catch (error) {
        if (error instanceof MembershipLost) throw error;
        context.counters.handlerRetries++;
        if (!retrying) {
          retrying = true;
          context.counters.retryingBatches++;
        }
        const wait = backoffMs(context.backoff, failures);
        // Transient failures are expected and heal; anything else is probably a bug that keeps the
        // partition stuck until fixed, so it is shouted about (and still never skipped).
        context.logger[isRetriable(error) ? 'warn' : 'error'](
          { err: error, attempt: failures + 1, retryInMs: wait },
          `${what} failed; the batch is retried, not skipped and not acknowledged`,
        );
        if (context.stopping.aborted) return 'abandoned';
        await waitWithHeartbeats(wait, context);
        if (context.stopping.aborted) return 'abandoned';
      }
    }
  } finally {
    if (retrying) context.counters.retryingBatches--;
  }
}

async function heartbeat(context: DeliveryContext): Promise<void> {
  try {
    await context.heartbeat();
  } catch (error) {
    throw new MembershipLost(error);
  }
}

// kafkajs error types meaning the group moved on without this member: its work must not be acknowledged.
const MEMBERSHIP_LOST = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
]);

async function runAttempt(attempt: () => Promise<void>, context: DeliveryContext): Promise<DeliveryOutcome> {
  let lost: unknown;
  // A long attempt keeps the group membership alive (kafkajs sends at most one heartbeat per
  // interval); a heartbeat answered "rebalancing" means the partition is gone: not acknowledged.
  const timer =
    context.heartbeatEveryMs > 0
      ? setInterval(() => {
          context.heartbeat().catch((error: unknown) => {
            if (MEMBERSHIP_LOST.has(String((error as { type?: unknown } | null)?.type))) lost ??= error;
          });
        }, context.heartbeatEveryMs)
      : undefined;
  try {
    const outcome = await raceAbandon(attempt(), context.abandon);
    if (lost !== undefined) throw new MembershipLost(lost);
    return outcome;
  } finally {
    clearInterval(timer);
  }
}

async function raceAbandon(work: Promise<void>, abandon: AbortSignal): Promise<DeliveryOutcome> {
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<DeliveryOutcome>((resolve) => {
    onAbort = () => resolve('abandoned');
    abandon.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => 'done' as const), abandoned]);
  } finally {
    abandon.removeEventListener('abort', onAbort!);
    // An abandoned attempt may still fail later; nobody waits for it any more.
    work.catch(() => undefined);
  }
}

function backoffMs(backoff: Required<RetryBackoff>, failures: number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures, 30));
  // Equal jitter: consumers that failed together do not retry in lockstep.
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

async function waitWithHeartbeats(ms: number, context: DeliveryContext): Promise<void> {
  const until = Date.now() + ms;
  for (let left = ms; left > 0 && !context.stopping.aborted; left = until - Date.now()) {
    await sleep(
      context.heartbeatEveryMs > 0 ? Math.min(left, context.heartbeatEveryMs) : left,
      context.stopping,
    );
    if (!context.stopping.aborted) await heartbeat(context);
  }
}

/**
 * A consumer's stop and abandon signals. Every batch being handled waits on both (a delivery
 * attempt races `abandon`, a backoff sleeps on `stopping`), so `batchesAtOnce` batches put that
 * many listeners on each: the design, not a leak, and above Node's warning threshold of 10.
 */
export function consumerSignals(batchesAtOnce: number): {
  stopping: AbortController;
  abandon: AbortController;
} {
  const stopping = new AbortController();
  const abandon = new AbortController();
  setMaxListeners(2 * batchesAtOnce + 10, stopping.signal, abandon.signal);
  return { stopping, abandon };
}

/** Resolves after `ms`, or early (never rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function resolveBackoff(backoff: RetryBackoff = {}): Required<RetryBackoff> {
  return { initialMs: backoff.initialMs ?? 200, maxMs: backoff.maxMs ?? 10_000 };
}
