import type { LedgerEntry } from '../stock/ledger-entry.js';

/**
 * What Redis should hold for each SKU, worked out from one consistent snapshot (stock-snapshot.ts
 * takes it), and how what it does hold differs. Pure, table-tested.
 *
 *   expected on_hand at the Redis read = MySQL on_hand
 *                                      + changes in the stream up to that read, not yet applied
 *                                      - changes applied to MySQL that came after that read
 *
 * and the same for reserved. Every change carries its own deltas (`d`, `r`), so what is in
 * flight between Redis and MySQL (live traffic, a drain behind) is never counted as drift.
 */

export interface RedisLevel {
  available: number;
  reserved: number;
  version: number;
}

export interface InventoryLevel {
  onHand: number;
  reserved: number;
  version: number;
}

export interface ExpectedLevel {
  available: number;
  reserved: number;
}

/** One SKU at one snapshot: both sides and what Redis should hold. */
export interface SkuTruth {
  sku: string;
  /** Redis at the snapshot; null when it does not have the SKU. */
  redis: RedisLevel | null;
  /** MySQL's inventory row at the snapshot; null when there is none. */
  mysql: InventoryLevel | null;
  /** Stream entries of the SKU up to the Redis read that MySQL had not applied (counted in). */
  pending: number;
  /** Entries applied to MySQL after the Redis read (taken back out). */
  appliedLater: number;
  /** What Redis should hold; null when neither side has ever known the SKU. */
  expected: ExpectedLevel | null;
  /** The highest version any side has seen: a recreated SKU continues after it. */
  highestVersion: number;
  /** The stream's last id when Redis was read (what a repair walks on from). */
  snapshotId: string;
}

/** Whether MySQL (in the snapshot) holds a ledger row for this entry's line of `sku`. */
export type AppliedCheck = (entry: LedgerEntry, sku: string) => boolean;

export function expectedLevels(input: {
  skus: readonly string[];
  redis: ReadonlyMap<string, RedisLevel>;
  inventory: ReadonlyMap<string, InventoryLevel>;
  /** Entries up to the Redis read that were not acknowledged by the drain then. */
  before: readonly LedgerEntry[];
  /** Entries written after the Redis read, up to the MySQL snapshot (and a little later). */
  after: readonly LedgerEntry[];
  applied: AppliedCheck;
  snapshotId: string;
}): SkuTruth[] {
  const wanted = new Set(input.skus);
  const sums = new Map<
    string,
    { onHand: number; reserved: number; pending: number; later: number; v: number }
  >();
  const sumOf = (sku: string) => {
    let sum = sums.get(sku);
    if (!sum) {
      sum = { onHand: 0, reserved: 0, pending: 0, later: 0, v: 0 };
      sums.set(sku, sum);
    }
    return sum;
  };
  for (const entry of input.before) {
    for (const line of entry.lines) {
      if (!wanted.has(line.sku) || input.applied(entry, line.sku)) continue;
      const sum = sumOf(line.sku);
      sum.onHand += line.delta;
      sum.reserved += line.reservedDelta;
      sum.pending++;
      sum.v = Math.max(sum.v, line.version);
    }
  }
  for (const entry of input.after) {
    for (const line of entry.lines) {
      if (!wanted.has(line.sku) || !input.applied(entry, line.sku)) continue;
      const sum = sumOf(line.sku);
      sum.onHand -= line.delta;
      sum.reserved -= line.reservedDelta;
      sum.later++;
      sum.v = Math.max(sum.v, line.version);
    }
  }
  return input.skus.map((sku) => {
    const redis = input.redis.get(sku) ?? null;
    const mysql = input.inventory.get(sku) ?? null;
    const sum = sums.get(sku);
    const known = mysql !== null || (sum !== undefined && sum.pending > 0);
    const onHand = (mysql?.onHand ?? 0) + (sum?.onHand ?? 0);
    const reserved = (mysql?.reserved ?? 0) + (sum?.reserved ?? 0);
    return {
      sku,
      redis,
      mysql,
      pending: sum?.pending ?? 0,
      appliedLater: sum?.later ?? 0,
      expected: known ? { available: onHand - reserved, reserved } : null,
      highestVersion: Math.max(redis?.version ?? 0, mysql?.version ?? 0, sum?.v ?? 0),
      snapshotId: input.snapshotId,
    };
  });
}

export type StockProblem =
  /** Redis holds other quantities than the truth. */
  | 'mismatch'
  /** MySQL knows the SKU, Redis does not (sales of it are refused as unknown). */
  | 'missing-in-redis'
  /** Redis has a SKU that MySQL and the ledger never recorded. */
  | 'unknown-to-mysql';

export interface StockDrift {
  tenant: string;
  sku: string;
  problem: StockProblem;
  redis: RedisLevel | null;
  expected: ExpectedLevel;
  mysql: InventoryLevel | null;
  pending: number;
  /** Redis minus expected (available, reserved). */
  difference: ExpectedLevel;
  /** False when the truth itself is impossible (below zero): an operator must look. */
  repairable: boolean;
}

/** The drift of one SKU, or null when Redis holds exactly the truth. */
export function driftOf(tenant: string, truth: SkuTruth): StockDrift | null {
  const { redis } = truth;
  const expected = truth.expected ?? { available: 0, reserved: 0 };
  let problem: StockProblem;
  if (redis === null) {
    if (truth.expected === null) return null;
    problem = 'missing-in-redis';
  } else if (truth.expected === null) {
    // An empty hash nobody recorded holds nothing to sell: no harm, nothing to repair.
    if (redis.available === 0 && redis.reserved === 0) return null;
    problem = 'unknown-to-mysql';
  } else if (redis.available !== expected.available || redis.reserved !== expected.reserved) {
    problem = 'mismatch';
  } else {
    return null;
  }
  return {
    tenant,
    sku: truth.sku,
    problem,
    redis,
    expected,
    mysql: truth.mysql,
    pending: truth.pending,
    difference: {
      available: (redis?.available ?? 0) - expected.available,
      reserved: (redis?.reserved ?? 0) - expected.reserved,
    },
    repairable: expected.available >= 0 && expected.reserved >= 0,
  };
}
