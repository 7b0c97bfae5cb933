import { describe, expect, it } from 'vitest';
import { parseBatch } from '../../src/cli/migrate-shards-args.js';
import { TradectlError } from '../../src/core/errors.js';
import { createDualWriteOrderStore, legacyAwareId } from '../../src/core/migrate/dual-write-store.js';
import type { IdentifiedOrder, LegacySource } from '../../src/core/migrate/legacy-mapping.js';
import {
  AUTO_BATCH_ROWS,
  batchSizeFor,
  defaultBatchRows,
  RateGate,
} from '../../src/core/migrate/throttle.js';
import { orderKey, type UnifiedOrder } from '../../src/core/order.js';
import type { OrderStore } from '../../src/core/order-store.js';
import { generateOrders } from '../helpers/order-generator.js';

/** A fake clock whose sleeps advance it, recording each sleep. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) return;
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}

describe('backfill throttle', () => {
  it('spaces batches by rows / rate, in slices of at most a second', async () => {
    const time = fakeTime();
    const gate = new RateGate({ now: time.now, sleep: time.sleep });
    const rate = async () => 1000;
    await gate.admit(500, rate);
    expect(time.now()).toBe(0);
    await gate.admit(2500, rate);
    expect(time.now()).toBe(500);
    await gate.admit(10, rate);
    expect(time.now()).toBe(3000);
    expect(time.sleeps).toEqual([500, 1000, 1000, 500]);
  });

  it('takes a changed rate while waiting, and 0 as unlimited', async () => {
    const time = fakeTime();
    const gate = new RateGate({ now: time.now, sleep: time.sleep });
    let limit = 100;
    await gate.admit(1000, async () => limit);
    const waiting = gate.admit(1000, async () => {
      if (time.now() >= 2000) limit = 1000;
      return limit;
    });
    await waiting;
    // At 100 rows/s the wait would be 10 s; after 2 s the new rate allows the batch at once.
    expect(time.now()).toBe(2000);
    limit = 0;
    await gate.admit(1_000_000, async () => limit);
    await gate.admit(1_000_000, async () => limit);
    expect(time.now()).toBe(2000);
  });

  it('stops waiting when aborted', async () => {
    const time = fakeTime();
    const gate = new RateGate({ now: time.now, sleep: time.sleep });
    const controller = new AbortController();
    await gate.admit(1000, async () => 1);
    let calls = 0;
    await gate.admit(
      1,
      async () => {
        if (++calls === 3) controller.abort();
        return 1;
      },
      controller.signal,
    );
    expect(time.now()).toBe(2000);
  });

  it('caps a batch at ten seconds of rows', () => {
    expect(batchSizeFor(10_000, 0)).toBe(10_000);
    expect(batchSizeFor(10_000, 250)).toBe(2500);
    expect(batchSizeFor(10_000, 0.05)).toBe(1);
    expect(batchSizeFor(100, 2500)).toBe(100);
  });

  it('sizes automatic batches by how the backfill copies', () => {
    // Through this process: two batches are held at once, whatever the layout.
    expect(defaultBatchRows({ serverCopy: false, orderTables: 4096 })).toBe(50_000);
    // On the server: ~250 rows per orders table, within 50,000 .. 1,000,000.
    expect(defaultBatchRows({ serverCopy: true, orderTables: 256 })).toBe(64_000);
    expect(defaultBatchRows({ serverCopy: true, orderTables: 4096 })).toBe(1_000_000);
    expect(defaultBatchRows({ serverCopy: true, orderTables: 8 })).toBe(50_000);
    // The throttle still caps what a batch may hold.
    expect(batchSizeFor(defaultBatchRows({ serverCopy: true, orderTables: 4096 }), 2000)).toBe(20_000);
  });

  it('parses --batch as a row count or auto, naming the flag when neither', () => {
    expect(parseBatch('auto')).toBe(AUTO_BATCH_ROWS);
    expect(parseBatch('250000')).toBe(250_000);
    expect(() => parseBatch('0')).toThrow(/--batch must be an integer from 1 to 1000000, got "0"/);
    expect(() => parseBatch('lots')).toThrow(/--batch must be an integer/);
  });
});

function fakeStore(ids: Map<string, string>, calls: string[]): OrderStore {
  return {
    async upsertBatch(orders) {
      calls.push(`primary:${orders.length}`);
      return {
        inserted: orders.length,
        updated: 0,
        unchanged: 0,
        ids: new Map(orders.map((o) => [orderKey(o), ids.get(orderKey(o))!])),
        outcomes: new Map(orders.map((o) => [orderKey(o), 'inserted' as const])),
      };
    },
    getById: async () => null,
    getByPlatformKey: async () => null,
  };
}

describe('DualWriteOrderStore', () => {
  const orders = generateOrders({ seed: 3, count: 4 });
  const ids = new Map(orders.map((order, index) => [orderKey(order), String(900 + index)]));

  it('writes the primary, then the secondary under the ids the primary resolved', async () => {
    const calls: string[] = [];
    let second: readonly IdentifiedOrder[] = [];
    const store = createDualWriteOrderStore(fakeStore(ids, calls), async (items) => {
      calls.push(`secondary:${items.length}`);
      second = items;
    });
    const result = await store.upsertBatch(orders);
    expect(calls).toEqual(['primary:4', 'secondary:4']);
    expect(second.map((item) => item.id)).toEqual(['900', '901', '902', '903']);
    expect(second.map((item) => item.order)).toEqual(orders);
    expect(result.inserted).toBe(4);
  });

  it('fails the batch when the secondary fails, so the bus redelivers it', async () => {
    const failure = new TradectlError('TRADECTL_DB_UNAVAILABLE', 'down', { kind: 'transient' });
    const store = createDualWriteOrderStore(fakeStore(ids, []), async () => {
      throw failure;
    });
    await expect(store.upsertBatch(orders)).rejects.toBe(failure);
  });
});

describe('legacy-aware ids', () => {
  const legacy = { platform: 'shopify', account: 'old', highKey: '5000' } as LegacySource;
  const order = (platformOrderId: string, account = 'old') =>
    ({
      ...generateOrders({ seed: 1, count: 1 })[0]!,
      platform: 'shopify',
      account,
      platformOrderId,
    }) as UnifiedOrder;
  const fresh = () => 'FRESH';

  it('keeps the legacy id for an order of the legacy key space up to the high key', () => {
    expect(legacyAwareId(order('4999'), legacy, fresh)).toBe('4999');
    expect(legacyAwareId(order('5001'), legacy, fresh)).toBe('FRESH');
    expect(legacyAwareId(order('4999', 'other'), legacy, fresh)).toBe('FRESH');
    expect(legacyAwareId(order('A-12'), legacy, fresh)).toBe('FRESH');
    expect(legacyAwareId(order('12'), { ...legacy, highKey: null }, fresh)).toBe('FRESH');
  });
});
