import { describe, expect, it } from 'vitest';
import { accuracy, compareListed } from '../../src/core/reconcile/order-compare.js';
import { traceVerdict, type VerdictInput } from '../../src/core/reconcile/order-trace.js';

const T1 = '2026-03-01T10:00:00.000Z';
const T2 = '2026-03-01T11:00:00.000Z';
const T3 = '2026-03-01T12:00:00.000Z';

describe('a listed order against the database', () => {
  const stored = (updatedAt: string) => ({ id: '1', updatedAt, status: 'paid' });
  it.each([
    ['not stored', undefined, 'missing'],
    ['stored older', stored(T1), 'stale'],
    ['stored the same version', stored(T2), 'match'],
    ['stored newer (the listing lagged)', stored(T3), 'ahead'],
  ] as const)('%s', (_name, found, state) => {
    expect(compareListed(T2, found).state).toBe(state);
  });

  it('gives accuracy in percent with two decimals, rounded down, and none for nothing listed', () => {
    expect(accuracy(197, 200)).toBe(98.5);
    expect(accuracy(2, 3)).toBe(66.66);
    expect(accuracy(0, 0)).toBeNull();
  });
});

describe('trace verdicts', () => {
  const base: VerdictInput = {
    stored: null,
    platform: { updatedAt: T2 },
    checkpoint: T3,
    windows: 2,
    lastWindowFinishedAt: T3,
    openDeadLetters: [],
  };
  it.each([
    ['stored at the latest version', { stored: { updatedAt: T2 } }, 'current'],
    ['stored, platform not asked', { stored: { updatedAt: T2 }, platform: undefined }, 'stored'],
    [
      'stored, gone from the platform',
      { stored: { updatedAt: T2 }, platform: null },
      'stored-not-on-platform',
    ],
    ['stored older', { stored: { updatedAt: T1 } }, 'stale'],
    ['missing although windows covered it', {}, 'missing'],
    ['missing, no window covered it', { windows: 0 }, 'missing'],
    ['in the dead letter queue', { openDeadLetters: [{ reason: 'bad currency' }] }, 'quarantined'],
    ['after the checkpoint', { checkpoint: T1 }, 'not-synced-yet'],
    ['never synced', { checkpoint: null }, 'not-synced-yet'],
    ['known to nobody', { platform: null }, 'unknown'],
    ['not stored, platform not asked', { platform: undefined }, 'missing'],
  ] as const)('%s', (_name, change, verdict) => {
    expect(traceVerdict({ ...base, ...change }).verdict).toBe(verdict);
  });

  it('names the dead letter reason and the windows in its explanation', () => {
    expect(traceVerdict({ ...base, openDeadLetters: [{ reason: 'bad currency' }] }).explanation).toContain(
      'bad currency',
    );
    expect(traceVerdict(base).explanation).toContain('2 sync window(s) covered its update time');
  });
});
