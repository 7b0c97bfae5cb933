import { groupCommit } from '../core/bus/group-commit.js';
import type { BatchHandler, BusBatch, BusMessage } from '../core/bus/order-bus.js';
import { isTradectlError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { orderKey, type UnifiedOrder } from '../core/order.js';
import type { OrderStore, UpsertResult } from '../core/order-store.js';

/**
 * The order sink: the OrderBus handler that stores order envelopes in the shards.
 *
 *   batches of the partitions at hand (group commit) -> storable? (else DLQ)
 *         -> newest version per key -> ONE upsertBatch -> stock hook
 *         -> resolve (the bus then acknowledges each batch)
 *
 * - The bus already quarantined messages that do not decode into a valid envelope. The sink
 *   quarantines what decodes but can never be stored: a key that is not its order's key, and
 *   an order the store refuses as bad data (found by splitting the batch until the one order
 *   is isolated). Either way the reason goes with the original bytes and the rest is stored.
 * - Transient store errors (connection, deadlock, lock wait) and anything that is not about
 *   one record's data are thrown: the bus pauses and redelivers the whole batch, and the
 *   versioned upsert makes the repeat harmless. Nothing goes to the DLQ for them.
 * - Counters move only when the handler succeeds, so a retried batch is not counted twice.
 *
 * Everything at hand goes to the store in one call: each call costs a transaction per shard and
 * a few round trips whatever its size, so fewer, larger calls are what makes the sink fast. The
 * store reports each order's outcome, which is how the counters stay per account.
 */

/** An order as stored by this batch: its id and the version written (or found newer). */
export interface SinkStoredOrder {
  id: string;
  order: UnifiedOrder;
}

/**
 * Where stock deduction of new order lines plugs in. Called after the database commit with every
 * order of the batch, before the batch is acknowledged; a throw redelivers the batch. A batch may
 * be delivered again after a crash, so the hook must be idempotent per order line. The one wired
 * (sink-pipeline.ts, src/core/order-stock) drains the stock intents the store wrote in the same
 * transaction as the orders, and never throws: what fails is retried by its sweep.
 */
export type StockDeductionHook = (orders: readonly SinkStoredOrder[], signal: AbortSignal) => Promise<void>;

export interface OrderSinkOptions {
  store: Pick<OrderStore, 'upsertBatch'>;
  logger: Logger;
  /** Deducts stock for new order lines (see StockDeductionHook). Default: none. */
  deductStockForNewLines?: StockDeductionHook | undefined;
  /** Messages per store call at most when partitions' batches are written together. Default 5,000. */
  maxMessagesPerWrite?: number;
}

/** What the sink did for one account (or in total). */
export interface SinkCounters {
  /** Messages handled (duplicates included, quarantined ones included). */
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Older versions of a key dropped in favour of a newer one in the same batch. */
  superseded: number;
  /** Messages the sink quarantined (not those the bus quarantined before decoding). */
  deadLettered: number;
}

export interface OrderSink {
  readonly handler: BatchHandler;
  /** Totals since start. */
  totals(): SinkCounters;
  /** Per `platform:account`, since start. */
  byAccount(): Map<string, SinkCounters>;
}

export function emptyCounters(): SinkCounters {
  return { received: 0, inserted: 0, updated: 0, unchanged: 0, superseded: 0, deadLettered: 0 };
}

export function createOrderSink(options: OrderSinkOptions): OrderSink {
  const { store } = options;
  const logger = options.logger.child({ component: 'order-sink' });
  const totals = emptyCounters();
  const accounts = new Map<string, SinkCounters>();

  async function handle(batch: BusBatch): Promise<void> {
    const local = new Map<string, SinkCounters>();
    const countersOf = (platform: string, account: string) => {
      const key = `${platform}:${account}`;
      let counters = local.get(key);
      if (!counters) {
        counters = emptyCounters();
        local.set(key, counters);
      }
      return counters;
    };
    const poison: { message: BusMessage; reason: string }[] = [];
    const newest = new Map<string, BusMessage>();
    const byKey = new Map<string, BusMessage[]>();
    for (const message of batch.messages) {
      const { envelope } = message;
      countersOf(envelope.platform, envelope.account).received++;
      const reason = unstorableReason(message);
      if (reason !== null) {
        poison.push({ message, reason });
        continue;
      }
      const key = message.key;
      const versions = byKey.get(key);
      if (versions) versions.push(message);
      else byKey.set(key, [message]);
      const seen = newest.get(key);
      // Newest platform version wins; on a tie the later message (published later) wins.
      if (!seen || envelope.order.updatedAt >= seen.envelope.order.updatedAt) newest.set(key, message);
    }
    for (const [key, messages] of byKey) {
      const kept = newest.get(key)!;
      countersOf(kept.envelope.platform, kept.envelope.account).superseded += messages.length - 1;
    }

    const orders = [...newest.values()].map((message) => message.envelope.order);
    const stored: SinkStoredOrder[] = [];
    const outcome = await upsertIsolating(orders);
    for (const order of orders) {
      const key = orderKey(order);
      const id = outcome.result.ids.get(key);
      const what = outcome.result.outcomes.get(key);
      if (id === undefined || what === undefined) continue;
      stored.push({ id, order });
      countersOf(order.platform, order.account)[what]++;
    }
    for (const { order, reason } of outcome.refused) {
      for (const message of byKey.get(orderKey(order)) ?? []) poison.push({ message, reason });
    }

    if (poison.length > 0) {
      await batch.deadLetter(poison);
      for (const { message, reason } of poison) {
        countersOf(message.envelope.platform, message.envelope.account).deadLettered++;
        logger.warn(
          { key: message.key, source: message.source, reason },
          'order quarantined in the dead letter queue',
        );
      }
    }
    if (options.deductStockForNewLines && stored.length > 0) {
      await options.deductStockForNewLines(stored, batch.signal);
    }
    for (const [key, counters] of local) {
      let target = accounts.get(key);
      if (!target) {
        target = emptyCounters();
        accounts.set(key, target);
      }
      add(target, counters);
      add(totals, counters);
    }
  }

  /**
   * Upserts, and when the store refuses the batch as bad data, splits it until each refused
   * order stands alone; those are returned with the reason, everything else is stored.
   */
  async function upsertIsolating(
    orders: UnifiedOrder[],
  ): Promise<{ result: UpsertResult; refused: { order: UnifiedOrder; reason: string }[] }> {
    try {
      return { result: await store.upsertBatch(orders), refused: [] };
    } catch (error) {
      if (!isRecordDataError(error)) throw error;
      if (orders.length === 1) {
        return {
          result: emptyResult(),
          refused: [{ order: orders[0]!, reason: `store refused the order: ${error.message}` }],
        };
      }
      const middle = Math.ceil(orders.length / 2);
      const left = await upsertIsolating(orders.slice(0, middle));
      const right = await upsertIsolating(orders.slice(middle));
      return {
        result: mergeResults(left.result, right.result),
        refused: [...left.refused, ...right.refused],
      };
    }
  }

  return {
    // Batches of partitions handled at once are written together (group-commit.ts).
    handler: groupCommit(handle, { maxMessages: options.maxMessagesPerWrite ?? 5000 }),
    totals: () => ({ ...totals }),
    byAccount: () => new Map([...accounts].map(([key, counters]) => [key, { ...counters }])),
  };
}

/** Why a decoded message can never be stored, or null. */
export function unstorableReason(message: Pick<BusMessage, 'key' | 'envelope'>): string | null {
  const expected = orderKey(message.envelope.order);
  if (message.key !== expected) {
    // Its partition (and so its ordering) was chosen by the wrong key: storing it could let an
    // older version overtake a newer one of the real key.
    return `message key "${message.key}" does not match the order's key "${expected}"`;
  }
  return null;
}

// Only errors about the records themselves are quarantined; a config error (shards missing) or
// an internal one would quarantine every order of every batch, so those are retried and logged.
function isRecordDataError(error: unknown): error is Error {
  return isTradectlError(error) && error.kind === 'data' && !error.retriable;
}

function emptyResult(): UpsertResult {
  return { inserted: 0, updated: 0, unchanged: 0, ids: new Map(), outcomes: new Map() };
}

function mergeResults(a: UpsertResult, b: UpsertResult): UpsertResult {
  return {
    inserted: a.inserted + b.inserted,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    ids: new Map([...a.ids, ...b.ids]),
    outcomes: new Map([...a.outcomes, ...b.outcomes]),
  };
}

function add(target: SinkCounters, counters: SinkCounters): void {
  for (const name of Object.keys(counters) as (keyof SinkCounters)[]) target[name] += counters[name];
}
