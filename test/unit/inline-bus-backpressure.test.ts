import { describe, expect, it } from 'vitest';
import type { DeadLetterInput, DeadLetterQueue } from '../../src/core/bus/dlq.js';
import { envelopeKey } from '../../src/core/bus/envelope.js';
import { createInlineBus } from '../../src/core/bus/inline-bus.js';
import type { BusBatch } from '../../src/core/bus/order-bus.js';
import { silentLogger } from '../../src/core/logger.js';
import { versionedEnvelopes } from '../helpers/bus-fixture.js';

// Inline-only behaviour the conformance suite cannot state for Kafka: the queue bound, the single
// consumer, and what stop() does to publishes that were never handled.

function memoryDlq(): DeadLetterQueue & { entries: DeadLetterInput[] } {
  const entries: DeadLetterInput[] = [];
  return {
    entries,
    async put(batch) {
      entries.push(...batch);
    },
    list: () => Promise.reject(new Error('not expected in this test')),
    get: () => Promise.reject(new Error('not expected in this test')),
    markReplayed: () => Promise.reject(new Error('not expected in this test')),
  };
}

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('inline bus', () => {
  it('makes publishers wait while the queue is full', async () => {
    const bus = createInlineBus({
      dlq: memoryDlq(),
      logger: silentLogger(),
      lanes: 1,
      maxQueuedMessages: 10,
    });
    const gate = deferred();
    const handled: number[] = [];
    await bus.consume({
      groupId: 'sink',
      maxBatchMessages: 10,
      handler: async (batch) => {
        await gate.promise;
        handled.push(batch.messages.length);
      },
    });
    const envelopes = versionedEnvelopes('BP', 30, 1);
    const first = bus.publish(envelopes.slice(0, 10));
    let secondAdmitted = false;
    const second = bus.publish(envelopes.slice(10, 20)).then(() => {
      secondAdmitted = true;
    });
    await settled();
    // The first publish fills the queue: the second is not even queued yet.
    expect(bus.stats().lag).toBe(10);
    expect(secondAdmitted).toBe(false);
    gate.release();
    await first;
    await second;
    expect(handled).toEqual([10, 10]);
    expect(bus.stats()).toMatchObject({ published: 20, consumed: 20, lag: 0 });
    await bus.stop();
  });

  it('merges what concurrent publishes queued, keeping each key in publish order', async () => {
    const bus = createInlineBus({ dlq: memoryDlq(), logger: silentLogger(), lanes: 3 });
    const seen = new Map<string, string[]>();
    const sizes: number[] = [];
    const gate = deferred();
    await bus.consume({
      groupId: 'sink',
      handler: async (batch: BusBatch) => {
        await gate.promise;
        sizes.push(batch.messages.length);
        for (const message of batch.messages) {
          seen.set(message.key, [...(seen.get(message.key) ?? []), message.envelope.order.updatedAt]);
        }
      },
    });
    const envelopes = versionedEnvelopes('MG', 12, 10);
    const publishes = [];
    for (let index = 0; index < envelopes.length; index += 4)
      publishes.push(bus.publish(envelopes.slice(index, index + 4)));
    gate.release();
    await Promise.all(publishes);
    for (const key of new Set(envelopes.map(envelopeKey))) {
      const expected = envelopes
        .filter((envelope) => envelopeKey(envelope) === key)
        .map((e) => e.order.updatedAt);
      expect(seen.get(key)).toEqual(expected);
    }
    // 30 publishes, but the lanes handed them over in far fewer batches.
    expect(sizes.length).toBeLessThan(publishes.length);
    await bus.stop();
  });

  it('delivers to one consumer at a time', async () => {
    const bus = createInlineBus({ dlq: memoryDlq(), logger: silentLogger() });
    const consumer = await bus.consume({ groupId: 'sink', handler: async () => undefined });
    await expect(bus.consume({ groupId: 'other', handler: async () => undefined })).rejects.toMatchObject({
      code: 'TRADECTL_BUS_CONSUMER_ACTIVE',
    });
    await consumer.stop();
    const next = await bus.consume({ groupId: 'sink', handler: async () => undefined });
    await next.stop();
    await bus.stop();
  });

  it('rejects publishes that were never handled when it stops, and refuses new ones', async () => {
    const bus = createInlineBus({ dlq: memoryDlq(), logger: silentLogger() });
    const pending = bus.publish(versionedEnvelopes('ST', 3, 1));
    await settled();
    expect(bus.stats().lag).toBe(3);
    await bus.stop();
    await expect(pending).rejects.toMatchObject({ code: 'TRADECTL_BUS_STOPPED', retriable: true });
    await expect(bus.publish(versionedEnvelopes('ST2', 1, 1))).rejects.toMatchObject({
      code: 'TRADECTL_BUS_STOPPED',
    });
    expect(bus.stats()).toMatchObject({ published: 0, lag: 0 });
  });

  it('resolves a publish whose messages were all quarantined', async () => {
    const dlq = memoryDlq();
    const bus = createInlineBus({ dlq, logger: silentLogger() });
    let handlerCalls = 0;
    await bus.consume({
      groupId: 'sink',
      handler: async () => {
        handlerCalls++;
      },
    });
    await bus.publishRaw([
      { key: 'shopify:a:1', value: Buffer.from('nope') },
      { key: 'shopify:a:2', value: Buffer.from('{"v":3}') },
    ]);
    expect(handlerCalls).toBe(0);
    // Different keys may sit in different lanes: their relative order is not promised.
    const entries = dlq.entries.map((entry) => [entry.key, entry.reason, entry.source]);
    expect(entries.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ['shopify:a:1', expect.stringMatching(/^not JSON: /), null],
      ['shopify:a:2', 'unsupported envelope version 3', null],
    ]);
    expect(bus.stats()).toMatchObject({ deadLettered: 2, consumed: 2 });
    await bus.stop();
  });
});
