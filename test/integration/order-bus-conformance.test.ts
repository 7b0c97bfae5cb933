import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterQueue } from '../../src/core/bus/dlq.js';
import { encodeEnvelope, envelopeKey, type OrderEnvelope } from '../../src/core/bus/envelope.js';
import { partitionOfKey } from '../../src/core/bus/kafka-partitions.js';
import type { BatchHandler, RawMessage } from '../../src/core/bus/order-bus.js';
import {
  type BusFactory,
  type BusUnderTest,
  createDlqFixture,
  eventually,
  expectedByKey,
  inlineFactory,
  KAFKA_TEST_SETTINGS,
  kafkaFactory,
  recorder,
  transientFailure as transient,
  versionedEnvelopes,
} from '../helpers/bus-fixture.js';

// One suite, run against the real local Kafka broker and against the inline bus: both must keep
// the OrderBus contract (src/core/bus/order-bus.ts) the same way.

let dlqFixture: Awaited<ReturnType<typeof createDlqFixture>>;
let dlq: DeadLetterQueue;
beforeAll(async () => {
  dlqFixture = await createDlqFixture();
  dlq = dlqFixture.dlq;
});
afterAll(async () => {
  await dlqFixture?.close();
});

const tag = () => `T${randomBytes(4).toString('hex')}`;

describe.each<BusFactory>([kafkaFactory, inlineFactory])('OrderBus conformance: $name', (factory) => {
  let underTest: BusUnderTest | undefined;
  afterEach(async () => {
    await underTest?.close();
    underTest = undefined;
  });
  const open = async (stopTimeoutMs = 5000) => {
    underTest = await factory.create({ stopTimeoutMs, dlq });
    return underTest;
  };

  it('delivers every message exactly once, in publish order per key', async () => {
    const t = await open();
    const envelopes = versionedEnvelopes(tag(), 50, 8);
    const { seen, record, total } = recorder();
    const groupId = `g-${tag()}`;
    const partitionOf = t.partitions === null ? null : partitionOfKey(t.partitions);
    let misplaced = 0;
    const consumer = await t.bus.consume({
      groupId,
      maxBatchMessages: 37,
      handler: async (batch) => {
        record(batch.messages);
        // Produce requests are sized per partition on this mapping (kafka-partitions.ts).
        for (const message of batch.messages) {
          if (partitionOf && message.source?.partition !== partitionOf(message.key)) misplaced++;
        }
      },
    });
    for (let index = 0; index < envelopes.length; index += 100) {
      await t.bus.publish(envelopes.slice(index, index + 100));
    }
    await eventually('every message delivered', () => total() >= envelopes.length);
    await eventually(
      'every message acknowledged',
      async () => (await t.acknowledged(groupId, envelopes.length)) === envelopes.length,
    );
    await consumer.stop();
    expect(total()).toBe(envelopes.length);
    expect(seen).toEqual(expectedByKey(envelopes));
    expect(misplaced).toBe(0);
    if (t.partitions !== null) expect(t.partitions).toBeGreaterThan(1);
    expect(t.bus.stats()).toMatchObject({
      published: envelopes.length,
      consumed: envelopes.length,
      deadLettered: 0,
    });
  });

  it('resolves publish only once the batch is durably handed off', async () => {
    const t = await open();
    const envelopes = versionedEnvelopes(tag(), 60, 3);
    let finished = 0;
    const consumer = await t.bus.consume({
      groupId: `g-${tag()}`,
      handler: async (batch) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        finished += batch.messages.length;
      },
    });
    for (let index = 0; index < envelopes.length; index += 60) {
      await t.bus.publish(envelopes.slice(index, index + 60));
      // Read the moment publish resolved: what the transport holds must already cover it.
      expect(await t.durableCount(finished)).toBeGreaterThanOrEqual(index + 60);
    }
    await consumer.stop();
  });

  it('retries a failing handler: nothing skipped, acknowledged early or dead-lettered', async () => {
    const t = await open();
    const run = tag();
    const envelopes = versionedEnvelopes(run, 30, 2);
    const failingKey = envelopeKey(envelopes[7]!);
    const { seen, record, total } = recorder();
    let healthy = false;
    let failures = 0;
    const groupId = `g-${tag()}`;
    const handler: BatchHandler = async (batch) => {
      if (!healthy && batch.messages.some((message) => message.key === failingKey)) {
        failures++;
        throw transient();
      }
      record(batch.messages);
    };
    const consumer = await t.bus.consume({ groupId, handler });
    let publishResolved = false;
    const publishing = t.bus.publish(envelopes).then(() => {
      publishResolved = true;
    });
    await eventually('the handler failed three times', () => failures >= 3);
    expect(await t.acknowledged(groupId, envelopes.length)).toBeLessThan(envelopes.length);
    expect(seen.has(failingKey)).toBe(false);
    expect(t.bus.stats().retrying).toBe(true);
    if (t.bus.kind === 'inline') expect(publishResolved).toBe(false);

    healthy = true;
    await publishing;
    await eventually('every message delivered', () => total() >= envelopes.length);
    await eventually(
      'every message acknowledged',
      async () => (await t.acknowledged(groupId, envelopes.length)) === envelopes.length,
    );
    await consumer.stop();
    expect(seen).toEqual(expectedByKey(envelopes));
    expect(t.bus.stats().handlerRetries).toBeGreaterThanOrEqual(3);
    expect(t.bus.stats().retrying).toBe(false);
    expect((await dlq.list({ limit: 1000 })).filter((entry) => entry.key?.includes(run))).toEqual([]);
  });

  it('keeps its partitions through a batch that takes longer than the session timeout', async () => {
    const t = await open();
    const envelopes = versionedEnvelopes(tag(), 24, 2);
    const { seen, record, total } = recorder();
    let slowBatches = 0;
    const slowMs = factory.name === 'kafka' ? KAFKA_TEST_SETTINGS.sessionTimeoutMs + 2000 : 200;
    const groupId = `g-${tag()}`;
    const consumer = await t.bus.consume({
      groupId,
      handler: async (batch) => {
        // The first batch outlasts the group session: only heartbeats sent while it runs keep the
        // member in the group, so nothing is handed to it twice. (Inline has no session.)
        if (slowBatches++ === 0) await new Promise((resolve) => setTimeout(resolve, slowMs));
        record(batch.messages);
      },
    });
    await t.bus.publish(envelopes);
    await eventually('every message delivered', () => total() >= envelopes.length);
    await eventually(
      'every message acknowledged',
      async () => (await t.acknowledged(groupId, envelopes.length)) === envelopes.length,
    );
    await consumer.stop();
    expect(seen).toEqual(expectedByKey(envelopes));
  });

  it('resumes a restarted consumer after the last acknowledged batch, redelivering the unfinished one', async () => {
    const stopTimeoutMs = 1500;
    const t = await open(stopTimeoutMs);
    const first = versionedEnvelopes(tag(), 40, 1);
    const second = versionedEnvelopes(tag(), 40, 1);
    const secondKeys = new Set(second.map(envelopeKey));
    const groupId = `g-${tag()}`;
    const before = recorder();
    const hungSignals: AbortSignal[] = [];
    const consumer1 = await t.bus.consume({
      groupId,
      handler: async (batch) => {
        if (batch.messages.some((message) => secondKeys.has(message.key))) {
          hungSignals.push(batch.signal);
          // A handler that never finishes (a stuck database call) until the bus gives up on it.
          await new Promise((resolve) => batch.signal.addEventListener('abort', resolve));
          throw new Error('abandoned');
        }
        before.record(batch.messages);
      },
    });
    await t.bus.publish(first);
    await eventually(
      'the first batch acknowledged',
      async () => (await t.acknowledged(groupId, first.length)) === first.length,
    );
    const publishingSecond = t.bus.publish(second);
    await eventually('consumer 1 is stuck in the second batch', () => hungSignals.length > 0);

    const stopStarted = Date.now();
    await consumer1.stop();
    const stopMs = Date.now() - stopStarted;
    // Bounded: the stop timeout, then leaving the group.
    expect(stopMs).toBeLessThan(stopTimeoutMs + 5000);
    expect(hungSignals.every((signal) => signal.aborted)).toBe(true);
    expect(t.bus.stats().abandonedBatches).toBeGreaterThanOrEqual(1);
    expect(await t.acknowledged(groupId, first.length + second.length)).toBe(first.length);

    const after = recorder();
    const consumer2 = await t.bus.consume({
      groupId,
      handler: async (batch) => after.record(batch.messages),
    });
    await publishingSecond;
    await eventually('consumer 2 got the second batch', () => after.total() >= second.length);
    await eventually(
      'everything acknowledged',
      async () =>
        (await t.acknowledged(groupId, first.length + second.length)) === first.length + second.length,
    );
    await consumer2.stop();
    expect(after.seen).toEqual(expectedByKey(second));
    expect(before.seen).toEqual(expectedByKey(first));
  });

  it('quarantines poison messages with the reason and the original bytes, and delivers the rest', async () => {
    const t = await open();
    const run = tag();
    const good = versionedEnvelopes(run, 10, 1);
    const rejected = good[3]!;
    const raw = (envelope: OrderEnvelope): RawMessage => ({
      key: envelopeKey(envelope),
      value: encodeEnvelope(envelope),
    });
    // biome-ignore lint/suspicious/noExplicitAny: poison is built by breaking fields no type allows
    const mutated = (envelope: OrderEnvelope, change: (json: Record<string, any>) => void): RawMessage => {
      const json = JSON.parse(encodeEnvelope(envelope).toString('utf8'));
      change(json);
      return { key: `${envelopeKey(envelope)}:poison`, value: Buffer.from(JSON.stringify(json)) };
    };
    const poison = {
      badJson: { key: `shopify:acct-1:${run}-json`, value: Buffer.from('{"v":1,"order":') },
      badCurrency: mutated(good[0]!, (json) => {
        json.order.currency = 'XYZ';
      }),
      badVersion: mutated(good[1]!, (json) => {
        json.v = 2;
      }),
    };
    const messages = [
      ...good.slice(0, 4).map(raw),
      poison.badJson,
      raw(good[4]!),
      poison.badCurrency,
      ...good.slice(5, 8).map(raw),
      poison.badVersion,
      ...good.slice(8).map(raw),
    ];
    const { seen, record, total } = recorder();
    const groupId = `g-${tag()}`;
    const consumer = await t.bus.consume({
      groupId,
      handler: async (batch) => {
        const refuse = batch.messages.filter((message) => message.key === envelopeKey(rejected));
        await batch.deadLetter(
          refuse.map((message) => ({ message, reason: 'store rejected the order (test)' })),
        );
        record(batch.messages.filter((message) => !refuse.includes(message)));
      },
    });
    await t.bus.publishRaw(messages);
    await eventually('the valid messages delivered', () => total() >= good.length - 1);
    await eventually(
      'every message acknowledged',
      async () => (await t.acknowledged(groupId, messages.length)) === messages.length,
    );
    await consumer.stop();
    expect(seen).toEqual(expectedByKey(good.filter((envelope) => envelope !== rejected)));

    const entries = (await dlq.list({ limit: 1000 })).filter((entry) => entry.key?.includes(run));
    const byKey = new Map(entries.map((entry) => [entry.key, entry]));
    expect(entries).toHaveLength(4);
    expect(byKey.get(poison.badJson.key)?.reason).toMatch(/^not JSON: /);
    expect(byKey.get(poison.badCurrency.key)?.reason).toBe(
      'order.currency: expected an ISO-4217 currency code',
    );
    expect(byKey.get(poison.badVersion.key)?.reason).toBe('unsupported envelope version 2');
    const refused = byKey.get(envelopeKey(rejected));
    expect(refused).toMatchObject({
      reason: 'store rejected the order (test)',
      platform: rejected.platform,
      account: rejected.account,
    });
    const originals = new Map(
      [...Object.values(poison), raw(rejected)].map((message) => [message.key, message.value]),
    );
    for (const entry of entries) {
      const stored = await dlq.get(entry.id);
      expect(stored?.original.equals(originals.get(entry.key!)!)).toBe(true);
      if (t.topic === null) expect(stored?.source).toBeNull();
      else expect(stored?.source).toMatchObject({ topic: t.topic });
    }
    expect(t.bus.stats().deadLettered).toBe(4);
    const onDlqTopic = await t.dlqTopicMessages(4);
    if (t.topic !== null) {
      // Kafka-native tooling sees the same quarantine: original bytes, reason and source in headers.
      expect(onDlqTopic).toHaveLength(4);
      for (const message of onDlqTopic ?? []) {
        const entry = byKey.get(message.key);
        expect(message.value.equals(originals.get(message.key!)!)).toBe(true);
        expect(message.headers).toEqual({
          'tradectl-reason': entry?.reason,
          'tradectl-source-topic': t.topic,
          'tradectl-source-partition': String(entry?.source?.partition),
          'tradectl-source-offset': entry?.source?.offset,
        });
      }
    }
  });

  it('stops promptly while a handler keeps failing, leaving its batch unacknowledged', async () => {
    const t = await open(10_000);
    const envelopes = versionedEnvelopes(tag(), 20, 1);
    const groupId = `g-${tag()}`;
    let failures = 0;
    const consumer = await t.bus.consume({
      groupId,
      handler: async () => {
        failures++;
        throw transient();
      },
    });
    const publishing = t.bus.publish(envelopes).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await eventually('the handler is failing', () => failures >= 2);
    const stopStarted = Date.now();
    await consumer.stop();
    // A failing batch is not worth waiting for: no attempt runs while it backs off.
    expect(Date.now() - stopStarted).toBeLessThan(5000);
    expect(await t.acknowledged(groupId, envelopes.length)).toBe(0);
    await t.bus.stop();
    const outcome = await publishing;
    if (t.bus.kind === 'inline')
      expect(outcome).toMatchObject({ code: 'TRADECTL_BUS_STOPPED', retriable: true });
    else expect(outcome).toBe('resolved');
  });
});
