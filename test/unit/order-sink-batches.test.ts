import { describe, expect, it } from 'vitest';
import { createEnvelope, encodeEnvelope } from '../../src/core/bus/envelope.js';
import type { BusBatch, BusMessage } from '../../src/core/bus/order-bus.js';
import { TradectlError, ValidationError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { orderKey, type UnifiedOrder } from '../../src/core/order.js';
import type { UpsertResult } from '../../src/core/order-store.js';
import { addMs } from '../../src/core/time.js';
import { createOrderSink, type SinkStoredOrder } from '../../src/workers/order-sink.js';
import { generateOrders } from '../helpers/order-generator.js';

/** A store that remembers versions like the real one and fails on demand. */
function fakeStore(options: { refuse?: (order: UnifiedOrder) => boolean; failTimes?: number } = {}) {
  const stored = new Map<string, { id: string; updatedAt: string }>();
  let failures = options.failTimes ?? 0;
  let nextId = 1000;
  const calls: number[] = [];
  return {
    stored,
    calls,
    async upsertBatch(orders: readonly UnifiedOrder[]): Promise<UpsertResult> {
      calls.push(orders.length);
      if (failures > 0) {
        failures--;
        throw new TradectlError('TRADECTL_DB_DEADLOCK', 'deadlock', { kind: 'transient' });
      }
      if (orders.some((order) => options.refuse?.(order))) {
        throw new ValidationError('invalid order row', [{ path: 'order.total', message: 'out of range' }]);
      }
      const result: UpsertResult = {
        inserted: 0,
        updated: 0,
        unchanged: 0,
        ids: new Map(),
        outcomes: new Map(),
      };
      for (const order of orders) {
        const key = orderKey(order);
        const seen = stored.get(key);
        if (!seen) {
          stored.set(key, { id: String(nextId++), updatedAt: order.updatedAt });
          result.inserted++;
          result.outcomes.set(key, 'inserted');
        } else if (order.updatedAt > seen.updatedAt) {
          seen.updatedAt = order.updatedAt;
          result.updated++;
          result.outcomes.set(key, 'updated');
        } else {
          result.unchanged++;
          result.outcomes.set(key, 'unchanged');
        }
        result.ids.set(key, stored.get(key)!.id);
      }
      return result;
    },
  };
}

function message(order: UnifiedOrder, key = orderKey(order)): BusMessage {
  const envelope = createEnvelope(order, '2026-03-10T12:00:00.000Z');
  return { key, envelope, raw: encodeEnvelope(envelope), source: null };
}

function batchOf(messages: BusMessage[]) {
  const deadLettered: { message: BusMessage; reason: string }[] = [];
  const batch: BusBatch = {
    messages,
    deadLetter: async (entries) => {
      deadLettered.push(...entries);
    },
    heartbeat: async () => undefined,
    signal: new AbortController().signal,
  };
  return { batch, deadLettered };
}

const [a, b, c] = generateOrders({ seed: 3, count: 3, idPrefix: 'SINK' }).map((order, index) => ({
  ...order,
  platform: 'shopify' as const,
  account: index < 2 ? 'us' : 'eu',
}));

describe('order sink', () => {
  it('stores the newest version of each key and counts per account', async () => {
    const store = fakeStore();
    const sink = createOrderSink({ store, logger: silentLogger() });
    const newer = { ...a!, updatedAt: addMs(a!.updatedAt, 1000) };
    await sink.handler(batchOf([message(newer), message(a!), message(b!), message(c!)]).batch);
    expect(store.stored.get(orderKey(a!))!.updatedAt).toBe(newer.updatedAt);
    expect(sink.byAccount().get('shopify:us')).toMatchObject({ received: 3, inserted: 2, superseded: 1 });
    expect(sink.byAccount().get('shopify:eu')).toMatchObject({ received: 1, inserted: 1 });

    await sink.handler(batchOf([message(newer), message(c!)]).batch);
    expect(sink.totals()).toMatchObject({ received: 6, inserted: 3, unchanged: 2, updated: 0 });
  });

  it('quarantines a message whose key is not its order key, and stores the rest', async () => {
    const store = fakeStore();
    const sink = createOrderSink({ store, logger: silentLogger() });
    const { batch, deadLettered } = batchOf([message(a!, 'shopify:us:someone-else'), message(b!)]);
    await sink.handler(batch);
    expect(deadLettered.map((entry) => entry.reason)).toEqual([
      `message key "shopify:us:someone-else" does not match the order's key "${orderKey(a!)}"`,
    ]);
    expect([...store.stored.keys()]).toEqual([orderKey(b!)]);
    expect(sink.totals()).toMatchObject({ inserted: 1, deadLettered: 1 });
  });

  it('isolates the one order the store refuses as bad data, with every message of its key', async () => {
    const store = fakeStore({ refuse: (order) => order.platformOrderId === b!.platformOrderId });
    const sink = createOrderSink({ store, logger: silentLogger() });
    const many = generateOrders({ seed: 9, count: 9, idPrefix: 'MANY' }).map((order) => ({
      ...order,
      platform: 'shopify' as const,
      account: 'us',
    }));
    const olderB = { ...b!, updatedAt: addMs(b!.updatedAt, -1000) };
    const { batch, deadLettered } = batchOf([
      ...many.map((order) => message(order)),
      message(olderB),
      message(b!),
    ]);
    await sink.handler(batch);
    expect(deadLettered).toHaveLength(2);
    expect(deadLettered[0]!.reason).toMatch(
      /^store refused the order: invalid order row: order.total: out of range/,
    );
    expect(store.stored.size).toBe(9);
    expect(sink.totals()).toMatchObject({ inserted: 9, deadLettered: 2 });
  });

  it('throws on a transient store error so the bus retries, and counts only the attempt that worked', async () => {
    const store = fakeStore({ failTimes: 1 });
    const sink = createOrderSink({ store, logger: silentLogger() });
    const { batch, deadLettered } = batchOf([message(a!), message(b!)]);
    await expect(sink.handler(batch)).rejects.toMatchObject({ code: 'TRADECTL_DB_DEADLOCK' });
    expect(sink.totals()).toMatchObject({ received: 0, inserted: 0 });
    await sink.handler(batch);
    expect(deadLettered).toEqual([]);
    expect(sink.totals()).toMatchObject({ received: 2, inserted: 2 });
  });

  it('hands every stored order with its id to the stock hook after the upsert', async () => {
    const store = fakeStore();
    const seen: SinkStoredOrder[][] = [];
    const sink = createOrderSink({
      store,
      logger: silentLogger(),
      deductStockForNewLines: async (orders) => {
        seen.push([...orders]);
      },
    });
    await sink.handler(batchOf([message(a!), message(c!)]).batch);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.map((entry) => [entry.id, entry.order.platformOrderId]).sort()).toEqual(
      [
        [store.stored.get(orderKey(a!))!.id, a!.platformOrderId],
        [store.stored.get(orderKey(c!))!.id, c!.platformOrderId],
      ].sort(),
    );
  });

  it('writes batches handed over together in one store call, quarantining through the batch each came from', async () => {
    const store = fakeStore();
    const sink = createOrderSink({ store, logger: silentLogger() });
    const first = batchOf([message(a!), message(b!, 'shopify:us:not-b')]);
    const second = batchOf([message(c!)]);
    await Promise.all([sink.handler(first.batch), sink.handler(second.batch)]);
    expect(store.calls).toEqual([2]);
    expect(first.deadLettered.map((entry) => entry.message.key)).toEqual(['shopify:us:not-b']);
    expect(second.deadLettered).toEqual([]);
    expect(sink.byAccount().get('shopify:us')).toMatchObject({ received: 2, inserted: 1, deadLettered: 1 });
    expect(sink.byAccount().get('shopify:eu')).toMatchObject({ received: 1, inserted: 1 });
  });
});
