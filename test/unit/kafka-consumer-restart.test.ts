import type { Kafka } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newCounters } from '../../src/core/bus/batch-delivery.js';
import { startKafkaConsumer } from '../../src/core/bus/kafka-consumer.js';
import { silentLogger } from '../../src/core/logger.js';
import { testConfig } from '../helpers/services.js';

// What kafkajs does after a crash it will not recover from (restart: false) is to leave the
// consumer disconnected for good; the real trigger (a protocol error from the local mock broker
// mid-rebalance, seen in bench/worker-chaos.ts) cannot be produced on demand, so the members
// here are stand-ins with kafkajs's event API, and the test checks our side: a new member takes
// the crashed one's place after a backoff, old members' late reports are ignored, and stop()
// stops the member that is current.

type Listener = (event: { payload: Record<string, unknown> }) => void;

class FakeMember {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;
  readonly listeners = new Map<string, Listener[]>();
  connected = false;
  running = false;
  disconnects = 0;

  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => undefined;
  }

  async connect() {
    this.connected = true;
  }

  async subscribe() {}

  async run() {
    this.running = true;
  }

  async disconnect() {
    this.disconnects++;
    this.connected = false;
    this.running = false;
  }

  join() {
    for (const listener of this.listeners.get(this.events.GROUP_JOIN) ?? []) {
      listener({ payload: { memberId: 'm', memberAssignment: {} } });
    }
  }

  crash(restart: boolean) {
    for (const listener of this.listeners.get(this.events.CRASH) ?? []) {
      listener({ payload: { restart, error: new Error('The group is rebalancing'), groupId: 'g' } });
    }
  }
}

function fakeKafka() {
  const members: FakeMember[] = [];
  const kafka = {
    consumer: () => {
      const member = new FakeMember();
      members.push(member);
      return member;
    },
  } as unknown as Kafka;
  return { kafka, members };
}

async function start(kafka: Kafka) {
  return startKafkaConsumer({
    kafka,
    config: testConfig().kafka,
    options: { groupId: 'g', handler: async () => {} },
    deadLetter: async () => {},
    counters: newCounters(),
    lag: new Map(),
    backoff: { initialMs: 200, maxMs: 10_000 },
    stopTimeoutMs: 1000,
    logger: silentLogger(),
  });
}

describe('a kafka consumer that crashed for good', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is replaced by a new member after a backoff that grows until a member joins the group', async () => {
    const { kafka, members } = fakeKafka();
    const consumer = await start(kafka);
    expect(members).toHaveLength(1);
    expect(members[0]!.running).toBe(true);

    members[0]!.crash(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(members).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(members).toHaveLength(2);
    expect(members[1]!.running).toBe(true);

    // The replacement crashes at once too: the next wait doubles.
    members[1]!.crash(false);
    await vi.advanceTimersByTimeAsync(1999);
    expect(members).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(members).toHaveLength(3);

    // A late report from a member already replaced starts nothing.
    members[0]!.crash(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(members).toHaveLength(3);

    // Once a member joined, a later crash waits the shortest time again.
    members[2]!.join();
    members[2]!.crash(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(members).toHaveLength(4);

    await consumer.stop();
    expect(members[3]!.disconnects).toBe(1);
    expect(members[3]!.running).toBe(false);
  });

  it('leaves a crash kafkajs restarts by itself alone, and starts nothing once stopping', async () => {
    const { kafka, members } = fakeKafka();
    const consumer = await start(kafka);
    members[0]!.crash(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(members).toHaveLength(1);

    members[0]!.crash(false);
    await consumer.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(members).toHaveLength(1);
    expect(members[0]!.disconnects).toBe(1);
  });
});
