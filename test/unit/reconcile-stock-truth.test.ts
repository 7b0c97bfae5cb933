import { describe, expect, it } from 'vitest';
import { driftOf, expectedLevels, type SkuTruth } from '../../src/core/reconcile/stock-truth.js';
import type { LedgerEntry } from '../../src/core/stock/ledger-entry.js';

// What Redis should hold, from MySQL plus the changes in flight: the arithmetic that keeps live
// traffic from reading as drift.
function entry(operationId: string, sku: string, delta: number, reservedDelta = 0, version = 1): LedgerEntry {
  return {
    streamId: `1-${operationId}`,
    operationId,
    kind: 'deduct',
    occurredAtMs: 1_700_000_000_000,
    lines: [{ sku, delta, reservedDelta, availableAfter: 0, reservedAfter: 0, version }],
  };
}

function truthOf(
  input: Partial<Omit<Parameters<typeof expectedLevels>[0], 'applied'>> & { applied?: readonly string[] },
): SkuTruth {
  const applied = new Set(input.applied ?? []);
  const [truth] = expectedLevels({
    skus: ['A'],
    redis: input.redis ?? new Map(),
    inventory: input.inventory ?? new Map(),
    before: input.before ?? [],
    after: input.after ?? [],
    applied: (change) => applied.has(change.operationId),
    snapshotId: '5-0',
  });
  return truth!;
}

describe('expected stock at the snapshot', () => {
  it('is MySQL itself when nothing is in flight', () => {
    const truth = truthOf({ inventory: new Map([['A', { onHand: 10, reserved: 3, version: 7 }]]) });
    expect(truth).toMatchObject({ expected: { available: 7, reserved: 3 }, pending: 0, highestVersion: 7 });
  });

  it('adds what the drain has not applied yet, and only that', () => {
    const truth = truthOf({
      inventory: new Map([['A', { onHand: 10, reserved: 0, version: 7 }]]),
      // op-1 is pending but already committed (crash before XACK): counted once, by MySQL.
      before: [entry('op-1', 'A', -2, 0, 8), entry('op-2', 'A', -3, 0, 9), entry('op-3', 'A', 0, 4, 10)],
      applied: ['op-1'],
    });
    // on_hand 10 - 3 = 7, of which 4 now reserved.
    expect(truth).toMatchObject({ expected: { available: 3, reserved: 4 }, pending: 2, highestVersion: 10 });
  });

  it('takes back what MySQL applied after Redis was read', () => {
    const truth = truthOf({
      inventory: new Map([['A', { onHand: 5, reserved: 0, version: 9 }]]),
      after: [entry('op-9', 'A', -5, 0, 9), entry('op-10', 'A', -1, 0, 10)],
      applied: ['op-9'],
    });
    // op-10 came after the read and is not applied yet: it is in neither side of the comparison.
    expect(truth).toMatchObject({
      expected: { available: 10, reserved: 0 },
      appliedLater: 1,
      highestVersion: 9,
    });
  });

  it('ignores other SKUs of the same entries', () => {
    const truth = truthOf({ before: [entry('op-1', 'B', -2)] });
    expect(truth.expected).toBeNull();
  });
});

describe('drift', () => {
  const redis = (available: number, reserved = 0, version = 1) =>
    new Map([['A', { available, reserved, version }]]);
  const inventory = (onHand: number, reserved = 0) => new Map([['A', { onHand, reserved, version: 1 }]]);

  it.each([
    ['equal', { redis: redis(10), inventory: inventory(10) }, null],
    ['more in Redis', { redis: redis(15), inventory: inventory(10) }, 'mismatch'],
    ['reserved differs', { redis: redis(7, 2), inventory: inventory(10, 3) }, 'mismatch'],
    ['Redis lost the SKU', { inventory: inventory(10) }, 'missing-in-redis'],
    ['Redis lost a SKU known only from the stream', { before: [entry('op-1', 'A', 4)] }, 'missing-in-redis'],
    ['an unrecorded SKU with stock', { redis: redis(4) }, 'unknown-to-mysql'],
    ['an unrecorded empty SKU', { redis: redis(0) }, null],
    ['neither side', {}, null],
  ] as const)('%s', (_name, input, problem) => {
    const drift = driftOf('t1', truthOf(input as Parameters<typeof truthOf>[0]));
    expect(drift?.problem ?? null).toBe(problem);
  });

  it('reports the difference as Redis minus the truth, and a negative truth as unrepairable', () => {
    expect(driftOf('t1', truthOf({ redis: redis(15, 1), inventory: inventory(11, 1) }))).toMatchObject({
      difference: { available: 5, reserved: 0 },
      repairable: true,
    });
    expect(driftOf('t1', truthOf({ redis: redis(0), inventory: inventory(-2) }))).toMatchObject({
      expected: { available: -2, reserved: 0 },
      repairable: false,
    });
  });
});
