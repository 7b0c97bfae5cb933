import {
  type AccountConfig,
  type Config,
  DEFAULT_LOOKBACK_SECONDS,
  DEFAULT_SAFETY_LAG_SECONDS,
} from './config.js';
import { ValidationError } from './errors.js';
import { fromEpochMs, type Instant, toEpochMs } from './time.js';

/**
 * The windows of an incremental sync, as pure functions (table-tested in
 * test/unit/sync-window.test.ts). A run of an account covers
 *
 *   [checkpoint - lookback, now - safetyLag]          both bounds inclusive
 *
 * cut into chunks of at most `chunkMs`. Adjacent chunks share their boundary instant: an order
 * updated exactly there is fetched twice (harmless, the upsert is versioned) rather than fall
 * between two chunks. The checkpoint is a time bound, the `to` of the last chunk whose every
 * order was durably handed off, so a chunk without any order still moves it.
 */

export interface SyncTiming {
  /** Overlap re-read before the checkpoint. */
  lookbackMs: number;
  /** How far behind now a window ends. */
  safetyLagMs: number;
  /** Longest chunk. */
  chunkMs: number;
  /** Start of the first sync of an account without a checkpoint, before now. */
  initialBackfillMs: number;
}

/** The timing of one account: its own override, else its platform's setting, else the default. */
export function syncTimingFor(
  sync: Config['sync'],
  account: Pick<AccountConfig, 'platform' | 'sync'>,
): SyncTiming {
  const platform = account.platform;
  const lookback =
    account.sync?.lookbackSeconds ?? sync.lookbackSeconds[platform] ?? DEFAULT_LOOKBACK_SECONDS[platform];
  const lag =
    account.sync?.safetyLagSeconds ?? sync.safetyLagSeconds[platform] ?? DEFAULT_SAFETY_LAG_SECONDS[platform];
  return {
    lookbackMs: lookback * 1000,
    safetyLagMs: lag * 1000,
    chunkMs: Math.round(sync.chunkHours * 3_600_000),
    initialBackfillMs: Math.round(sync.initialBackfillDays * 86_400_000),
  };
}

/** A closed interval of platform update times. */
export interface SyncWindow {
  from: Instant;
  to: Instant;
}

export interface WindowPlanInput {
  /** The clock, Unix ms. */
  now: number;
  timing: SyncTiming;
  /** The account's checkpoint time, null before its first sync. */
  checkpoint: Instant | null;
  /** Explicit start (`--since`): replaces checkpoint - lookback. */
  since?: Instant | undefined;
  /** Explicit end (`--until`): pulled back to now - safetyLag when later. */
  until?: Instant | undefined;
}

export interface WindowPlan extends SyncWindow {
  /** Where `from` came from. */
  start: 'checkpoint' | 'initial-backfill' | 'since';
  /** `until` was later than now - safetyLag and was pulled back to it. */
  clamped: boolean;
  /** The chunks in order; empty when `from` is after `to` (nothing can be fetched yet). */
  chunks: SyncWindow[];
}

export function planWindows(input: WindowPlanInput): WindowPlan {
  const { timing, now } = input;
  for (const [name, value] of [
    ['lookbackMs', timing.lookbackMs],
    ['safetyLagMs', timing.safetyLagMs],
    ['initialBackfillMs', timing.initialBackfillMs],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw invalidTiming(name, 'a non-negative integer');
  }
  if (!Number.isSafeInteger(timing.chunkMs) || timing.chunkMs < 1)
    throw invalidTiming('chunkMs', 'at least 1');

  const latest = now - timing.safetyLagMs;
  let toMs = latest;
  let clamped = false;
  if (input.until !== undefined) {
    toMs = Math.min(toEpochMs(input.until), latest);
    clamped = toEpochMs(input.until) > latest;
  }
  let fromMs: number;
  let start: WindowPlan['start'];
  if (input.since !== undefined) {
    fromMs = toEpochMs(input.since);
    start = 'since';
  } else if (input.checkpoint !== null) {
    fromMs = toEpochMs(input.checkpoint) - timing.lookbackMs;
    start = 'checkpoint';
  } else {
    fromMs = now - timing.initialBackfillMs;
    start = 'initial-backfill';
  }
  const chunks: SyncWindow[] = [];
  for (let chunkFrom = fromMs; chunkFrom <= toMs; ) {
    const chunkTo = Math.min(chunkFrom + timing.chunkMs, toMs);
    chunks.push({ from: fromEpochMs(chunkFrom, 'from'), to: fromEpochMs(chunkTo, 'to') });
    if (chunkTo === toMs) break;
    chunkFrom = chunkTo;
  }
  return {
    from: fromEpochMs(fromMs, 'from'),
    to: fromEpochMs(toMs, 'to'),
    start,
    clamped,
    chunks,
  };
}

/**
 * The checkpoint to write once `chunk` is durably handed off, or null to leave `stored` as it is.
 * It only ever moves forward, and only over time that was covered: a chunk starting after the
 * stored checkpoint (a `--since` later than it) would otherwise claim the gap in between, and
 * one ending before it (a re-sync of an old range) would move it back.
 */
export function checkpointAfter(chunk: SyncWindow, stored: Instant | null): Instant | null {
  if (stored === null) return chunk.to;
  if (chunk.from > stored || chunk.to <= stored) return null;
  return chunk.to;
}

/**
 * Where an order sits in update order: its update time, ties broken by its platform id. The
 * highest position of a window is recorded with it (sync_windows), and a platform that pages
 * by (update time, id) could resume after one; the checkpoint itself stays a time bound.
 */
export interface OrderPosition {
  updatedAt: Instant;
  platformOrderId: string;
}

export function comparePositions(a: OrderPosition, b: OrderPosition): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? -1 : 1;
  // Numeric ids (most platforms) by value, so "99" sorts before "100"; others byte-wise.
  if (
    a.platformOrderId.length !== b.platformOrderId.length &&
    /^\d+$/.test(a.platformOrderId + b.platformOrderId)
  ) {
    return a.platformOrderId.length - b.platformOrderId.length;
  }
  return a.platformOrderId < b.platformOrderId ? -1 : a.platformOrderId > b.platformOrderId ? 1 : 0;
}

/** The later of two positions (`current` may be null before the first order). */
export function laterPosition(current: OrderPosition | null, next: OrderPosition): OrderPosition {
  return current === null || comparePositions(next, current) > 0
    ? { updatedAt: next.updatedAt, platformOrderId: next.platformOrderId }
    : current;
}

function invalidTiming(field: string, expected: string): ValidationError {
  return new ValidationError('invalid sync timing', [{ path: field, message: `expected ${expected}` }]);
}
