import { setTimeout as delay } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import type { Chunking } from './checksum-sql.js';
import { type ChunkSums, type KindSums, sameSums } from './chunk-sums.js';
import { requireStep } from './phases.js';
import { diffRows, repairRows } from './repair.js';
import type { MigrationSides, Side } from './sides.js';
import type { MigrationState, MigrationStateStore } from './state.js';

/**
 * `verify [--repair]`: compares the source and the target in chunks of the order id.
 *
 * 1. The key range is the source's (ids up to the legacy high key for a legacy source), widened
 *    down to the target's lowest id so target-only rows below it are seen too. Ids above the
 *    source's newest are new live orders and are left out.
 * 2. Each side computes per chunk the count and XOR of row hashes (checksum-sql.ts); chunks
 *    that differ are checked again `recheck` times after `recheckDelayMs`, so an order that the
 *    dual write was writing between the two reads is not reported.
 * 3. A differing chunk with many rows is split into 16 and only differing parts are kept, down
 *    to about `chunkRows` orders; then the orders are compared one by one (missing, extra,
 *    different) and, with `repair`, exactly those are fixed and the range is checked again.
 */
export interface VerifyOptions {
  /** Orders per chunk (about). Default 10,000. */
  chunkRows?: number;
  recheck?: number;
  recheckDelayMs?: number;
  repair?: boolean;
  /** With repair: only list what would be repaired. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface RangeCounts {
  orders: number;
  details: number;
  lines: number;
}

export interface DifferingRange {
  lo: string;
  hi: string;
  source: RangeCounts;
  target: RangeCounts;
  missing: number;
  extra: number;
  different: number;
  /** A few order ids of each kind, for a look. */
  examples: string[];
  repaired: boolean;
}

export interface VerifyReport {
  migration: number;
  phase: MigrationState['phase'];
  range: { lo: string; hi: string } | null;
  chunks: number;
  sourceRows: number;
  targetRows: number;
  differing: DifferingRange[];
  /** Differences left (after repair, if asked). */
  remaining: number;
  ok: boolean;
}

const SPLIT = 16n;

export async function verifyMigration(
  states: MigrationStateStore,
  sidesFor: (state: MigrationState) => MigrationSides,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const state = await states.current();
  requireStep('verify', state);
  const migration = state!;
  const sides = sidesFor(migration);
  if (options.repair && migration.phase === 'cut_over') {
    throw new UsageError(
      'verify --repair runs before cutover only: after it the target is written first and is the truth',
      'run tradectl migrate-shards rollback, then verify --repair',
    );
  }
  const chunkRows = options.chunkRows ?? 10_000;
  const { source, target } = sides;
  const [sourceStats, targetStats] = [await source.stats(), await target.stats()];
  const report: VerifyReport = {
    migration: migration.id,
    phase: migration.phase,
    range: null,
    chunks: 0,
    sourceRows: sourceStats.rows,
    targetRows: targetStats.rows,
    differing: [],
    remaining: 0,
    ok: true,
  };
  const hi = sides.highKey ?? sourceStats.hi ?? targetStats.hi;
  const lows = [sourceStats.lo, targetStats.lo].filter((value): value is bigint => value !== null);
  if (hi !== null && lows.length > 0) {
    const lo = lows.reduce(minBig);
    const count = Math.max(1, Math.ceil(sourceStats.rows / chunkRows));
    const width = maxBig(1n, ceilDiv(hi - lo + 1n, BigInt(count)));
    const chunking: Chunking = { lo, hi, width };
    report.range = { lo: String(lo), hi: String(hi) };
    report.chunks = Number(ceilDiv(hi - lo + 1n, width));
    let differing = compare(await source.sums(chunking), await target.sums(chunking), chunking);
    for (let attempt = 0; attempt < (options.recheck ?? 2) && differing.length > 0; attempt++) {
      await delay(options.recheckDelayMs ?? 1000, undefined, { signal: options.signal });
      differing = await recheck(sides, differing);
    }
    const narrowed: Part[] = [];
    for (const part of differing) narrowed.push(...(await narrow(sides, part, chunkRows)));
    for (const part of narrowed) {
      const range = await compareRows(sides, part, options.repair === true && options.dryRun !== true);
      if (range !== null) report.differing.push(range);
    }
  }
  report.remaining = report.differing.filter((range) => !range.repaired).length;
  report.ok = report.remaining === 0;
  if (report.ok && options.dryRun !== true) {
    const phases =
      migration.phase === 'cut_over' ? (['cut_over'] as const) : (['backfilled', 'verified'] as const);
    const changes = migration.phase === 'cut_over' ? {} : { phase: 'verified' };
    if (await states.update(migration.id, phases, changes, ['verified_at'])) {
      report.phase = migration.phase === 'cut_over' ? 'cut_over' : 'verified';
    }
  }
  return report;
}

/** A key range with both sides' sums over it. */
interface Part {
  lo: bigint;
  hi: bigint;
  source: KindSums | undefined;
  target: KindSums | undefined;
}

function compare(sourceSums: ChunkSums, targetSums: ChunkSums, chunking: Chunking): Part[] {
  const chunks = new Set([...sourceSums.keys(), ...targetSums.keys()]);
  const parts: Part[] = [];
  for (const chunk of [...chunks].sort((a, b) => a - b)) {
    const source = sourceSums.get(chunk);
    const target = targetSums.get(chunk);
    if (sameSums(source, target)) continue;
    const lo = chunking.lo + BigInt(chunk) * chunking.width;
    const hi = minBig(chunking.hi, lo + chunking.width - 1n);
    parts.push({ lo, hi, source, target });
  }
  return parts;
}

async function sumsOver(side: Side, lo: bigint, hi: bigint, width: bigint): Promise<ChunkSums> {
  return side.sums({ lo, hi, width });
}

/** The parts that still differ when read again (each as one chunk). */
async function recheck(sides: MigrationSides, parts: readonly Part[]): Promise<Part[]> {
  const still: Part[] = [];
  for (const part of parts) {
    const width = part.hi - part.lo + 1n;
    const again = compare(
      await sumsOver(sides.source, part.lo, part.hi, width),
      await sumsOver(sides.target, part.lo, part.hi, width),
      { lo: part.lo, hi: part.hi, width },
    );
    still.push(...again);
  }
  return still;
}

/** Splits a big differing part until its differing pieces hold about `chunkRows` orders each. */
async function narrow(sides: MigrationSides, part: Part, chunkRows: number): Promise<Part[]> {
  const rows = Math.max(part.source?.orders.n ?? 0, part.target?.orders.n ?? 0);
  const size = part.hi - part.lo + 1n;
  if (rows <= chunkRows * 2 || size <= SPLIT) return [part];
  const width = ceilDiv(size, SPLIT);
  const chunking = { lo: part.lo, hi: part.hi, width };
  const pieces = compare(
    await sumsOver(sides.source, part.lo, part.hi, width),
    await sumsOver(sides.target, part.lo, part.hi, width),
    chunking,
  );
  const out: Part[] = [];
  for (const piece of pieces) out.push(...(await narrow(sides, piece, chunkRows)));
  return out;
}

/** The part's orders one by one, repaired when asked; null when they all agree after all. */
async function compareRows(
  sides: MigrationSides,
  part: Part,
  repair: boolean,
): Promise<DifferingRange | null> {
  const range = { lo: part.lo, hi: part.hi };
  const sourceRows = await sides.source.rows(range);
  const targetRows = await sides.target.rows(range);
  const diff = diffRows(sourceRows, targetRows);
  // Equal one by one: the part changed back between the reads.
  if (diff.missing.length + diff.extra.length + diff.different.length === 0) return null;
  const counts = (sums: KindSums | undefined): RangeCounts => ({
    orders: sums?.orders.n ?? 0,
    details: sums?.details.n ?? 0,
    lines: sums?.lines.n ?? 0,
  });
  const result: DifferingRange = {
    lo: String(part.lo),
    hi: String(part.hi),
    source: counts(part.source),
    target: counts(part.target),
    missing: diff.missing.length,
    extra: diff.extra.length,
    different: diff.different.length,
    examples: [...diff.missing.slice(0, 3), ...diff.extra.slice(0, 3), ...diff.different.slice(0, 3)],
    repaired: false,
  };
  if (repair) {
    await repairRows({
      diff,
      target: sides.targetHandle,
      targetRows,
      sourceOrders: (ids) => sides.source.orders(range, ids),
      write: sides.writeTarget,
    });
    const after = diffRows(await sides.source.rows(range), await sides.target.rows(range));
    result.repaired = after.missing.length + after.extra.length + after.different.length === 0;
  }
  return result;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
