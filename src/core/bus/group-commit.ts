import { linkedSignal } from '../linked-signal.js';
import type { BatchHandler, BusBatch, BusMessage } from './order-bus.js';

/**
 * Group commit for a batch handler: batches handed over while a call is running wait, and the
 * next call takes all of them at once, as one batch.
 *
 * Why: a bus delivers per partition, and what one partition holds at a time can be small (the
 * local mock broker hands out one producer batch per partition per fetch; a sync page publishes
 * ~100 orders over 12 partitions). Each call of the order sink costs a transaction per shard and
 * a few round trips whatever its size, so twelve calls of 80 orders took five times as long as
 * one of 960. With partitions consumed concurrently, their batches meet here and are written
 * together; an idle handler starts at once (no wait is added to a lone batch's latency).
 *
 * What each caller sees is unchanged: its promise resolves only once the combined call
 * succeeded (the database committed), and rejects with that call's error otherwise, so the bus
 * retries and acknowledges per partition exactly as before. Messages a combined call quarantines
 * go through the `deadLetter` of the batch they came from.
 */
export interface GroupCommitOptions {
  /**
   * Messages per combined call at most, in whole batches (a single larger batch still goes
   * alone). Bounds a call's transaction and memory. Default 5,000.
   */
  maxMessages?: number;
}

interface Waiting {
  batch: BusBatch;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function groupCommit(handler: BatchHandler, options: GroupCommitOptions = {}): BatchHandler {
  const maxMessages = options.maxMessages ?? 5000;
  const queue: Waiting[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    try {
      while (queue.length > 0) {
        const group = takeGroup(queue, maxMessages);
        if (group.length === 0) continue;
        const combined = combine(group.map((waiting) => waiting.batch));
        try {
          await handler(combined.batch);
          for (const waiting of group) waiting.resolve();
        } catch (error) {
          for (const waiting of group) waiting.reject(error);
        } finally {
          combined.dispose();
        }
      }
    } finally {
      running = false;
    }
  }

  return (batch) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ batch, resolve, reject });
      // The first batch starts a call at once (after the current synchronous run: batches handed
      // over in it join), so the database works while the bus decodes the other partitions'
      // batches (each in its own turn, deliverChunk); those wait for the next call.
      if (!running) {
        running = true;
        queueMicrotask(() => void drain());
      }
    });
}

/** Whole batches from the head of the queue, up to `maxMessages` (at least one batch). */
function takeGroup(queue: Waiting[], maxMessages: number): Waiting[] {
  const group: Waiting[] = [];
  let messages = 0;
  while (queue.length > 0) {
    const next = queue[0]!;
    // The bus gave up on it (stop timed out): it is redelivered; nobody waits for it any more.
    if (next.batch.signal.aborted) {
      queue.shift();
      next.reject(next.batch.signal.reason ?? new Error('batch abandoned'));
      continue;
    }
    if (group.length > 0 && messages + next.batch.messages.length > maxMessages) break;
    queue.shift();
    group.push(next);
    messages += next.batch.messages.length;
  }
  return group;
}

function combine(batches: readonly BusBatch[]): { batch: BusBatch; dispose(): void } {
  if (batches.length === 1) return { batch: batches[0]!, dispose: () => undefined };
  // The batches' signals are their consumer's, alive as long as it: linked, not AbortSignal.any.
  const signal = linkedSignal(batches.map((batch) => batch.signal));
  const origin = new Map<BusMessage, BusBatch>();
  for (const batch of batches) for (const message of batch.messages) origin.set(message, batch);
  const batch: BusBatch = {
    messages: batches.flatMap((batch) => batch.messages),
    signal: signal.signal,
    heartbeat: async () => {
      await Promise.all(batches.map((batch) => batch.heartbeat()));
    },
    deadLetter: async (entries) => {
      const perBatch = new Map<BusBatch, (typeof entries)[number][]>();
      for (const entry of entries) {
        const batch = origin.get(entry.message);
        if (!batch) throw new Error(`message ${entry.message.key} is not part of this batch`);
        const list = perBatch.get(batch);
        if (list) list.push(entry);
        else perBatch.set(batch, [entry]);
      }
      for (const [batch, list] of perBatch) await batch.deadLetter(list);
    },
  };
  return { batch, dispose: signal.dispose };
}
