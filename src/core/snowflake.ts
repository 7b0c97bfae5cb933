import { TradectlError } from './errors.js';
import {
  MAX_SEQUENCE,
  MAX_TIMESTAMP_OFFSET_MS,
  MAX_WORKER_ID,
  SEQUENCE_BITS,
  WORKER_ID_BITS,
} from './snowflake-layout.js';

export * from './snowflake-layout.js';

/**
 * Snowflake ids: 64-bit integers (the sign bit always 0) laid out as
 *
 *   41 bits  milliseconds since a custom epoch (config `ids.epoch`, default 2024-01-01Z: 69 years)
 *   10 bits  worker id (0-1023), unique among running processes (leased in Redis or fixed in config)
 *   12 bits  sequence within the millisecond (0-4095)
 *
 * so one worker issues at most 4,096 ids per millisecond and ids from one worker strictly
 * increase. Ids travel as decimal strings (JSON cannot carry 64-bit integers exactly) and are
 * stored as BIGINT. The layout constants and parsing live in snowflake-layout.ts (re-exported here).
 *
 * Clock policy (the hot path `next()` is synchronous and never awaits):
 * - A clock that steps back by at most `maxBackwardWaitMs` is absorbed by *borrowing*: ids keep
 *   the last timestamp and continue its sequence, which neither blocks nor repeats. Only when
 *   that millisecond's 4,096 ids are used up does `next()` wait (spin) for the clock to pass the
 *   last timestamp, which is at most `maxBackwardWaitMs + 1` ms.
 * - A larger step back throws TRADECTL_CLOCK_ROLLBACK (retriable): the caller may try again
 *   once the clock has caught up. No id is issued and the generator's state is unchanged.
 * - A clock that stops advancing while `next()` waits throws TRADECTL_CLOCK_STALLED instead of
 *   spinning forever.
 * Together: never a duplicate, never a decreasing id.
 */

export const DEFAULT_MAX_BACKWARD_WAIT_MS = 10;

// How long (real time, beyond the expected wait) next() keeps waiting for a clock that does not
// move before giving up. Generous: it only matters for a broken or frozen clock.
const STALL_GRACE_MS = 100;

// Decimal formatting is the expensive part of an id (BigInt#toString costs more than the rest of
// next() together; see bench/ids.ts). An id is split as high * 10^4 + low: `high` is formatted
// once per millisecond, and each id appends one of these precomputed four-digit suffixes.
const SUFFIX_DIGITS = 4;
const SUFFIX_BASE = 10 ** SUFFIX_DIGITS;
const SUFFIX_BASE_BIG = BigInt(SUFFIX_BASE);
const PADDED: readonly string[] = Array.from({ length: SUFFIX_BASE }, (_, n) =>
  String(n).padStart(SUFFIX_DIGITS, '0'),
);
// Ids below 10^4 (only in the first millisecond of the epoch) have no high part to pad against.
const UNPADDED: readonly string[] = Array.from({ length: SUFFIX_BASE }, (_, n) => String(n));

export interface SnowflakeOptions {
  /** 0-1023, unique among running processes. */
  workerId: number;
  /** The custom epoch in Unix milliseconds (`Date.parse(config.ids.epoch)`). */
  epochMs: number;
  /** Wall clock in Unix milliseconds; fractions are truncated. Default `Date.now`. */
  clock?: () => number;
  /**
   * Largest step back of the clock that is absorbed (see the clock policy above); a larger one
   * throws TRADECTL_CLOCK_ROLLBACK. Default 10 ms.
   */
  maxBackwardWaitMs?: number;
  /**
   * Every id gets a timestamp strictly after this one: the watermark left by the previous
   * holder of this worker id, so a new owner whose clock runs behind cannot reissue its ids.
   */
  startAfterMs?: number;
  /**
   * Called with the remaining milliseconds while next() waits for the clock; must block. Default:
   * none, the wait spins (it is at most `maxBackwardWaitMs + 1` ms). Tests advance a fake clock here.
   */
  sleep?: (ms: number) => void;
  /** Ids may only carry timestamps up to this wall time (the worker id lease). Default: forever. */
  validUntilMs?: number;
}

/** Issues strictly increasing, unique Snowflake ids for one worker id. Not shared across processes. */
export class SnowflakeGenerator {
  readonly workerId: number;
  readonly epochMs: number;
  readonly maxBackwardWaitMs: number;
  readonly #clock: () => number;
  readonly #sleep: ((ms: number) => void) | undefined;
  readonly #workerBits: bigint;
  #lastMs: number;
  #sequence: number;
  #validUntilMs: number;
  #revoked: TradectlError | undefined;
  // Per-millisecond formatting state, see SUFFIX_DIGITS.
  #base = 0n;
  #low = 0;
  #prefix = '';
  #carryPrefix = '';
  #suffixes = PADDED;

  constructor(options: SnowflakeOptions) {
    const { workerId, epochMs } = options;
    if (!Number.isInteger(workerId) || workerId < 0 || workerId > MAX_WORKER_ID) {
      throw new RangeError(`workerId must be an integer from 0 to ${MAX_WORKER_ID}, got ${workerId}`);
    }
    if (!Number.isSafeInteger(epochMs)) throw new RangeError(`epochMs must be an integer, got ${epochMs}`);
    const maxBackward = options.maxBackwardWaitMs ?? DEFAULT_MAX_BACKWARD_WAIT_MS;
    if (!Number.isInteger(maxBackward) || maxBackward < 0) {
      throw new RangeError(`maxBackwardWaitMs must be a non-negative integer, got ${maxBackward}`);
    }
    this.workerId = workerId;
    this.epochMs = epochMs;
    this.maxBackwardWaitMs = maxBackward;
    this.#clock = options.clock ?? Date.now;
    this.#sleep = options.sleep;
    this.#workerBits = BigInt(workerId) << BigInt(SEQUENCE_BITS);
    this.#lastMs = options.startAfterMs === undefined ? Number.NEGATIVE_INFINITY : options.startAfterMs;
    // "Sequence used up" makes the first id move strictly past startAfterMs.
    this.#sequence = MAX_SEQUENCE;
    this.#validUntilMs = options.validUntilMs ?? Number.POSITIVE_INFINITY;
  }

  /** The next id as a decimal string. Synchronous; throws a TradectlError instead of repeating. */
  next(): string {
    this.#step();
    const low = this.#low + this.#sequence;
    return low < SUFFIX_BASE
      ? this.#prefix + this.#suffixes[low]
      : this.#carryPrefix + PADDED[low - SUFFIX_BASE];
  }

  /** The next id as a bigint (for callers that compute with ids; strings are faster to make). */
  nextBigInt(): bigint {
    this.#step();
    return this.#base | BigInt(this.#sequence);
  }

  /** Timestamp (Unix ms) of the last id issued, or the start watermark if none was. */
  get lastTimestampMs(): number {
    return this.#lastMs;
  }

  /** The wall time up to which ids may be issued (the lease's guarantee). */
  get validUntilMs(): number {
    return this.#validUntilMs;
  }

  /** Moves the validity horizon later (a lease renewal); it never moves back. */
  extendValidity(untilMs: number): void {
    if (this.#revoked === undefined && untilMs > this.#validUntilMs) this.#validUntilMs = untilMs;
  }

  /** Stops the generator for good: every later call throws `error`. */
  revoke(error: TradectlError): void {
    this.#revoked ??= error;
    this.#validUntilMs = Number.NEGATIVE_INFINITY;
  }

  get revoked(): boolean {
    return this.#revoked !== undefined;
  }

  #step(): void {
    const now = Math.floor(this.#clock());
    if (now > this.#validUntilMs) throw this.#refusal(now);
    if (now > this.#lastMs) {
      this.#advanceTo(now);
    } else if (this.#sequence < MAX_SEQUENCE) {
      // Same millisecond, or a small step back borrowed from the last timestamp.
      if (this.#lastMs - now > this.maxBackwardWaitMs) throw this.#rollback(now);
      this.#sequence++;
    } else {
      this.#advanceTo(this.#waitPast(now));
    }
  }

  #advanceTo(ms: number): void {
    const offset = ms - this.epochMs;
    if (!(offset >= 0)) {
      throw new TradectlError(
        'TRADECTL_SNOWFLAKE_BEFORE_EPOCH',
        `the clock (${ms}) is before the Snowflake epoch (${new Date(this.epochMs).toISOString()})`,
        {
          kind: 'config',
          details: { nowMs: ms, epochMs: this.epochMs },
          hint: 'check ids.epoch and the clock',
        },
      );
    }
    if (offset > MAX_TIMESTAMP_OFFSET_MS) {
      throw new TradectlError(
        'TRADECTL_SNOWFLAKE_EPOCH_OVERFLOW',
        `the 41-bit timestamp of Snowflake ids ran out (epoch ${new Date(this.epochMs).toISOString()} + 69 years)`,
        {
          kind: 'config',
          details: { nowMs: ms, epochMs: this.epochMs },
          hint: 'a new epoch needs a new id space',
        },
      );
    }
    const base = (BigInt(offset) << BigInt(WORKER_ID_BITS + SEQUENCE_BITS)) | this.#workerBits;
    const high = base / SUFFIX_BASE_BIG;
    this.#base = base;
    this.#low = Number(base - high * SUFFIX_BASE_BIG);
    this.#prefix = high === 0n ? '' : high.toString();
    this.#suffixes = high === 0n ? UNPADDED : PADDED;
    this.#carryPrefix = (high + 1n).toString();
    this.#lastMs = ms;
    this.#sequence = 0;
  }

  // The sequence of the last timestamp is used up: block until the clock passes it. Bounded by
  // the rollback tolerance; a frozen clock throws rather than hanging the process.
  #waitPast(now: number): number {
    const last = this.#lastMs;
    const deadline = performance.now() + Math.max(0, last - now) + 1 + STALL_GRACE_MS;
    while (now <= last) {
      if (last - now > this.maxBackwardWaitMs || !Number.isFinite(now)) throw this.#rollback(now);
      this.#sleep?.(last - now + 1);
      // The deadline is read before the clock: when the process is descheduled between the two
      // reads (a busy machine), the clock reading is the later one and shows the time that passed.
      const expired = performance.now() > deadline;
      now = Math.floor(this.#clock());
      if (expired && now <= last) {
        throw new TradectlError(
          'TRADECTL_CLOCK_STALLED',
          'the clock stopped advancing while waiting for the next millisecond',
          { kind: 'transient', details: { lastMs: last, nowMs: now } },
        );
      }
    }
    if (now > this.#validUntilMs) throw this.#refusal(now);
    return now;
  }

  #rollback(now: number): TradectlError {
    return new TradectlError(
      'TRADECTL_CLOCK_ROLLBACK',
      `the clock moved back ${this.#lastMs - now} ms (tolerance ${this.maxBackwardWaitMs} ms); no id issued`,
      {
        kind: 'transient',
        retriable: true,
        details: { lastMs: this.#lastMs, nowMs: now, maxBackwardWaitMs: this.maxBackwardWaitMs },
        hint: 'check NTP on this host; ids resume once the clock passes the last timestamp',
      },
    );
  }

  #refusal(now: number): TradectlError {
    if (this.#revoked) return this.#revoked;
    return new TradectlError(
      'TRADECTL_WORKER_LEASE_EXPIRED',
      'the worker id lease was not renewed in time; no id issued until it is',
      {
        kind: 'transient',
        retriable: true,
        details: { workerId: this.workerId, nowMs: now, validUntilMs: this.#validUntilMs },
        hint: 'check the connection to Redis',
      },
    );
  }
}
