import { describe, expect, it } from 'vitest';
import type {
  DeadLetterEntryWithBytes,
  DeadLetterInput,
  DeadLetterStore,
  ListDeadLettersOptions,
} from '../../src/core/bus/dlq.js';
import type { OrderBus, RawMessage } from '../../src/core/bus/order-bus.js';
import { silentLogger } from '../../src/core/logger.js';
import { replayDeadLetters } from '../../src/workers/dlq-replay.js';

// The replay protocol against an in-memory DLQ with the MySQL one's rules (replayOf updates its
// entry; markReplayed with ifSeenCount), and a bus whose sink quarantines what says "bad".

function memoryStore(): DeadLetterStore & { rows: Map<string, DeadLetterEntryWithBytes> } {
  const rows = new Map<string, DeadLetterEntryWithBytes>();
  let next = 1;
  return {
    rows,
    async put(entries: readonly DeadLetterInput[]) {
      for (const entry of entries) {
        const existing = entry.replayOf ? rows.get(entry.replayOf) : undefined;
        if (existing) {
          Object.assign(existing, {
            reason: entry.reason,
            seenCount: existing.seenCount + 1,
            replayedAt: null,
          });
          continue;
        }
        const id = String(next++);
        rows.set(id, {
          id,
          key: entry.key,
          reason: entry.reason,
          source: entry.source,
          platform: entry.platform ?? null,
          account: entry.account ?? null,
          size: entry.original.length,
          createdAt: '2026-03-01T00:00:00.000Z',
          lastSeenAt: '2026-03-01T00:00:00.000Z',
          seenCount: 1,
          replayedAt: null,
          original: entry.original,
        });
      }
    },
    async list(options: ListDeadLettersOptions = {}) {
      return [...rows.values()]
        .filter((row) => Number(row.id) > Number(options.after ?? 0))
        .filter((row) => options.state !== 'open' || row.replayedAt === null)
        .filter((row) => options.platform === undefined || row.platform === options.platform)
        .slice(0, options.limit ?? 50)
        .map(({ original: _original, ...row }) => row);
    },
    async get(id: string) {
      const row = rows.get(id);
      return row ? { ...row } : null;
    },
    async markReplayed(id: string, options: { ifSeenCount?: number } = {}) {
      const row = rows.get(id);
      if (!row || (options.ifSeenCount !== undefined && row.seenCount !== options.ifSeenCount)) return false;
      row.replayedAt = '2026-03-02T00:00:00.000Z';
      return true;
    },
    openCounts: () => Promise.reject(new Error('not expected in this test')),
  };
}

/** Inline-like: publishRaw resolves after the "sink" stored or re-quarantined each message. */
function sinkBus(dlq: DeadLetterStore, mode: 'inline' | 'later') {
  const calls: RawMessage[][] = [];
  const stored: string[] = [];
  const handle = async (messages: readonly RawMessage[]) => {
    for (const message of messages) {
      if (message.value.toString().includes('bad')) {
        await dlq.put([
          {
            key: message.key,
            reason: 'order.currency: still bad',
            original: message.value,
            source: null,
            replayOf: message.replayOf,
          },
        ]);
      } else stored.push(message.key);
    }
  };
  let pending: RawMessage[] = [];
  const bus = {
    kind: mode === 'inline' ? 'inline' : 'kafka',
    publishRaw: async (messages: readonly RawMessage[]) => {
      calls.push([...messages]);
      if (mode === 'inline') await handle(messages);
      else pending.push(...messages);
    },
  } as unknown as OrderBus;
  const drain = async () => {
    const batch = pending;
    pending = [];
    await handle(batch);
  };
  return { bus, calls, stored, drain };
}

const envelope = (tag: string) => Buffer.from(JSON.stringify({ v: 1, tag }));

async function seed(dlq: DeadLetterStore) {
  await dlq.put([
    {
      key: 'shopify:s:1',
      reason: 'store refused (a bug since fixed)',
      original: envelope('good'),
      source: null,
      platform: 'shopify',
      account: 's',
    },
    {
      key: 'shopify:s:2',
      reason: 'order.currency: bad',
      original: envelope('bad'),
      source: null,
      platform: 'shopify',
      account: 's',
    },
    {
      key: null,
      reason: 'adapter rejected the record',
      original: Buffer.from('{"id":9}'),
      source: null,
      platform: 'ebay',
      account: 'e',
    },
  ]);
}

describe('dlq replay', () => {
  it('stores what now validates, puts what does not back into its own entry, and is idempotent', async () => {
    const dlq = memoryStore();
    await seed(dlq);
    const { bus, calls, stored } = sinkBus(dlq, 'inline');
    const deps = { dlq, logger: silentLogger(), openBus: async () => bus };

    const first = await replayDeadLetters({ ids: ['1', '2'] }, { dryRun: false }, deps);
    expect(first.map((item) => [item.id, item.outcome, item.seenCount])).toEqual([
      ['1', 'replayed', 1],
      ['2', 'failed-again', 2],
    ]);
    expect(first[1]!.reason).toBe('order.currency: still bad');
    expect(calls[0]).toEqual([
      { key: 'shopify:s:1', value: envelope('good'), replayOf: '1' },
      { key: 'shopify:s:2', value: envelope('bad'), replayOf: '2' },
    ]);
    expect(stored).toEqual(['shopify:s:1']);
    expect(dlq.rows.get('1')!.replayedAt).not.toBeNull();
    expect(dlq.rows.get('2')).toMatchObject({ replayedAt: null, seenCount: 2 });
    expect(dlq.rows.size).toBe(3);

    const again = await replayDeadLetters({ ids: ['1', '2'] }, { dryRun: false }, deps);
    expect(again.map((item) => item.outcome)).toEqual(['already-replayed', 'failed-again']);
    expect(calls[1]!.map((message) => message.replayOf)).toEqual(['2']);
    expect(stored).toEqual(['shopify:s:1']);
  });

  it('leaves platform records and unknown ids alone, and a dry run opens no bus', async () => {
    const dlq = memoryStore();
    await seed(dlq);
    const deps = {
      dlq,
      logger: silentLogger(),
      openBus: () => Promise.reject(new Error('a dry run must not open the bus')),
    };
    const items = await replayDeadLetters({ ids: ['3', '77', '1'] }, { dryRun: true }, deps);
    expect(items.map((item) => [item.id, item.outcome])).toEqual([
      ['1', 'would-replay'],
      ['3', 'not-replayable'],
      ['77', 'not-found'],
    ]);
    expect(items[1]!.reason).toMatch(/not an order envelope/);
    expect([...dlq.rows.values()].every((row) => row.replayedAt === null && row.seenCount === 1)).toBe(true);
  });

  it('replays every open entry of a platform, page by page', async () => {
    const dlq = memoryStore();
    for (let index = 0; index < 230; index++) {
      await dlq.put([
        {
          key: `shopify:s:${index}`,
          reason: 'r',
          original: envelope(`ok${index}`),
          source: null,
          platform: index % 10 === 0 ? 'ebay' : 'shopify',
          account: 's',
        },
      ]);
    }
    const { bus, calls, stored } = sinkBus(dlq, 'inline');
    const items = await replayDeadLetters(
      { all: true, platform: 'shopify' },
      { dryRun: false },
      { dlq, logger: silentLogger(), openBus: async () => bus },
    );
    expect(items).toHaveLength(207);
    expect(items.every((item) => item.outcome === 'replayed')).toBe(true);
    expect(calls.map((call) => call.length)).toEqual([100, 100, 7]);
    expect(stored).toHaveLength(207);
    expect([...dlq.rows.values()].filter((row) => row.replayedAt === null)).toHaveLength(23);
  });

  it('on Kafka, learns of a failed replay only after waiting for the sink', async () => {
    const dlq = memoryStore();
    await seed(dlq);
    const { bus, drain } = sinkBus(dlq, 'later');
    const base = { dlq, logger: silentLogger(), openBus: async () => bus };
    const items = await replayDeadLetters(
      { ids: ['1', '2'] },
      { dryRun: false },
      { ...base, waitForSink: drain },
    );
    expect(items.map((item) => [item.id, item.outcome])).toEqual([
      ['1', 'replayed'],
      ['2', 'failed-again'],
    ]);
    // The sink re-opened the entry that was marked replayed at publish time.
    expect(dlq.rows.get('2')).toMatchObject({ replayedAt: null, seenCount: 2 });
  });
});
