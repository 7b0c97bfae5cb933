import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import {
  checkpointAfter,
  comparePositions,
  laterPosition,
  planWindows,
  type SyncTiming,
  syncTimingFor,
} from '../../src/core/sync-window.js';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const HOUR = 3_600_000;
const timing: SyncTiming = {
  lookbackMs: 120_000,
  safetyLagMs: 150_000,
  chunkMs: 24 * HOUR,
  initialBackfillMs: 3 * 24 * HOUR,
};

describe('planWindows', () => {
  it.each([
    {
      name: 'incremental: checkpoint minus lookback to now minus lag, one chunk',
      input: { checkpoint: '2026-03-10T11:50:00.000Z' },
      from: '2026-03-10T11:48:00.000Z',
      to: '2026-03-10T11:57:30.000Z',
      start: 'checkpoint',
      chunks: [['2026-03-10T11:48:00.000Z', '2026-03-10T11:57:30.000Z']],
    },
    {
      name: 'first sync: initial backfill cut into daily chunks sharing their boundaries',
      input: { checkpoint: null },
      from: '2026-03-07T12:00:00.000Z',
      to: '2026-03-10T11:57:30.000Z',
      start: 'initial-backfill',
      chunks: [
        ['2026-03-07T12:00:00.000Z', '2026-03-08T12:00:00.000Z'],
        ['2026-03-08T12:00:00.000Z', '2026-03-09T12:00:00.000Z'],
        ['2026-03-09T12:00:00.000Z', '2026-03-10T11:57:30.000Z'],
      ],
    },
    {
      name: '--since replaces the checkpoint',
      input: { checkpoint: '2026-03-10T11:50:00.000Z', since: '2026-03-10T00:00:00.000Z' },
      from: '2026-03-10T00:00:00.000Z',
      to: '2026-03-10T11:57:30.000Z',
      start: 'since',
      chunks: [['2026-03-10T00:00:00.000Z', '2026-03-10T11:57:30.000Z']],
    },
    {
      name: '--until before the lag is kept',
      input: { checkpoint: null, since: '2026-03-01T00:00:00.000Z', until: '2026-03-02T06:00:00.000Z' },
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-02T06:00:00.000Z',
      start: 'since',
      chunks: [
        ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
        ['2026-03-02T00:00:00.000Z', '2026-03-02T06:00:00.000Z'],
      ],
    },
    {
      name: 'a window exactly one chunk long is one chunk',
      input: { checkpoint: null, since: '2026-03-01T00:00:00.000Z', until: '2026-03-02T00:00:00.000Z' },
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-02T00:00:00.000Z',
      start: 'since',
      chunks: [['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z']],
    },
    {
      name: 'a single instant is still a window (inclusive bounds)',
      input: { checkpoint: null, since: '2026-03-01T00:00:00.000Z', until: '2026-03-01T00:00:00.000Z' },
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
      start: 'since',
      chunks: [['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']],
    },
    {
      name: 'a checkpoint ahead of now minus lag (clock skew) gives no chunk',
      input: { checkpoint: '2026-03-10T12:05:00.000Z' },
      from: '2026-03-10T12:03:00.000Z',
      to: '2026-03-10T11:57:30.000Z',
      start: 'checkpoint',
      chunks: [],
    },
  ])('$name', ({ input, from, to, start, chunks }) => {
    const plan = planWindows({ now: NOW, timing, ...input });
    expect(plan).toMatchObject({ from, to, start, clamped: false });
    expect(plan.chunks.map((chunk) => [chunk.from, chunk.to])).toEqual(chunks);
  });

  it('pulls an --until later than now minus lag back, and says so', () => {
    const plan = planWindows({
      now: NOW,
      timing,
      checkpoint: null,
      since: '2026-03-10T11:00:00.000Z',
      until: '2026-03-10T12:00:00.000Z',
    });
    expect(plan.to).toBe('2026-03-10T11:57:30.000Z');
    expect(plan.clamped).toBe(true);
  });

  it('covers every instant of the window exactly once or on a shared boundary', () => {
    const plan = planWindows({ now: NOW, timing: { ...timing, chunkMs: 7 * HOUR + 13 }, checkpoint: null });
    expect(plan.chunks[0]!.from).toBe(plan.from);
    expect(plan.chunks.at(-1)!.to).toBe(plan.to);
    for (let index = 1; index < plan.chunks.length; index++) {
      expect(plan.chunks[index]!.from).toBe(plan.chunks[index - 1]!.to);
      expect(Date.parse(plan.chunks[index]!.to) - Date.parse(plan.chunks[index]!.from)).toBeLessThanOrEqual(
        7 * HOUR + 13,
      );
    }
  });

  it('refuses a timing that would loop or go backwards', () => {
    expect(() => planWindows({ now: NOW, timing: { ...timing, chunkMs: 0 }, checkpoint: null })).toThrow(
      /chunkMs/,
    );
    expect(() => planWindows({ now: NOW, timing: { ...timing, lookbackMs: -1 }, checkpoint: null })).toThrow(
      /lookbackMs/,
    );
  });
});

describe('checkpointAfter', () => {
  const chunk = { from: '2026-03-10T10:00:00.000Z', to: '2026-03-10T11:00:00.000Z' };
  it.each([
    { name: 'first checkpoint of an account', stored: null, expected: chunk.to },
    {
      name: 'chunk overlapping the checkpoint moves it forward',
      stored: '2026-03-10T10:02:00.000Z',
      expected: chunk.to,
    },
    { name: 'chunk starting exactly at the checkpoint moves it', stored: chunk.from, expected: chunk.to },
    { name: 'chunk after a gap never claims the gap', stored: '2026-03-10T09:59:59.999Z', expected: null },
    { name: 'chunk ending at the checkpoint leaves it', stored: chunk.to, expected: null },
    {
      name: 're-sync of an old range never moves it back',
      stored: '2026-03-11T00:00:00.000Z',
      expected: null,
    },
  ])('$name', ({ stored, expected }) => {
    expect(checkpointAfter(chunk, stored)).toBe(expected);
  });
});

describe('order positions', () => {
  it.each([
    ['2026-03-10T10:00:00.000Z', '5', '2026-03-10T10:00:00.001Z', '1', -1],
    ['2026-03-10T10:00:00.000Z', '99', '2026-03-10T10:00:00.000Z', '100', -1],
    ['2026-03-10T10:00:00.000Z', '702-1', '2026-03-10T10:00:00.000Z', '702-0', 1],
    ['2026-03-10T10:00:00.000Z', '7', '2026-03-10T10:00:00.000Z', '7', 0],
  ])('%s/%s vs %s/%s -> %i', (aTime, aId, bTime, bId, expected) => {
    const a = { updatedAt: aTime, platformOrderId: aId };
    const b = { updatedAt: bTime, platformOrderId: bId };
    expect(Math.sign(comparePositions(a, b))).toBe(expected);
    expect(Math.sign(comparePositions(b, a))).toBe(-expected || 0);
  });

  it('keeps the highest position, ties broken by id', () => {
    const seen = [
      { updatedAt: '2026-03-10T10:00:00.000Z', platformOrderId: '12' },
      { updatedAt: '2026-03-10T10:00:01.000Z', platformOrderId: '3' },
      { updatedAt: '2026-03-10T10:00:01.000Z', platformOrderId: '11' },
      { updatedAt: '2026-03-10T09:00:00.000Z', platformOrderId: '99' },
    ];
    expect(seen.reduce(laterPosition, null)).toEqual({
      updatedAt: '2026-03-10T10:00:01.000Z',
      platformOrderId: '11',
    });
  });
});

describe('syncTimingFor', () => {
  it('takes the account override, else the platform setting, else the default', () => {
    const config = parseConfig({
      sync: {
        lookbackSeconds: { shopify: 600 },
        safetyLagSeconds: { ebay: 90 },
        chunkHours: 6,
        initialBackfillDays: 2,
      },
      accounts: [
        { platform: 'shopify', id: 'a', userId: '1', sync: { safetyLagSeconds: 5 } },
        { platform: 'ebay', id: 'b', userId: '2' },
        { platform: 'amazon', id: 'c', userId: '3' },
      ],
    });
    const [shopify, ebay, amazon] = config.accounts.map((account) => syncTimingFor(config.sync, account));
    expect(shopify).toEqual({
      lookbackMs: 600_000,
      safetyLagMs: 5000,
      chunkMs: 6 * HOUR,
      initialBackfillMs: 2 * 24 * HOUR,
    });
    expect(ebay).toMatchObject({ lookbackMs: 120_000, safetyLagMs: 90_000 });
    expect(amazon).toMatchObject({ lookbackMs: 120_000, safetyLagMs: 150_000 });
  });

  it('refuses an Amazon lag below the two minutes Amazon enforces', () => {
    expect(() => parseConfig({ sync: { safetyLagSeconds: { amazon: 60 } } })).toThrow(
      /sync.safetyLagSeconds.amazon/,
    );
    expect(() =>
      parseConfig({
        accounts: [{ platform: 'amazon', id: 'c', userId: '3', sync: { safetyLagSeconds: 119 } }],
      }),
    ).toThrow(/accounts\[0\].sync.safetyLagSeconds/);
  });
});
