import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { TradectlError } from '../../src/core/errors.js';
import {
  DEFAULT_SNOWFLAKE_EPOCH_MS,
  MAX_SEQUENCE,
  MAX_TIMESTAMP_OFFSET_MS,
  parseSnowflake,
  SnowflakeGenerator,
} from '../../src/core/snowflake.js';

const EPOCH = DEFAULT_SNOWFLAKE_EPOCH_MS;
const T = EPOCH + 1_000_000_000;

/** A clock that stays where the test puts it; `sleep` moves it (what next() calls while waiting). */
function fakeClock(startMs: number) {
  const clock = {
    now: startMs,
    sleeps: 0,
    read: () => clock.now,
    sleep: (ms: number) => {
      clock.sleeps++;
      clock.now += ms;
    },
  };
  return clock;
}

function generatorOn(clock: ReturnType<typeof fakeClock>, extra: { maxBackwardWaitMs?: number } = {}) {
  return new SnowflakeGenerator({
    workerId: 3,
    epochMs: EPOCH,
    clock: clock.read,
    sleep: clock.sleep,
    ...extra,
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof TradectlError) return error.code;
    throw error;
  }
  return undefined;
}

describe('snowflake clock handling', () => {
  it('rolls the sequence over into the next millisecond after 4,096 ids', () => {
    const clock = fakeClock(T);
    const generator = generatorOn(clock);
    const ids = Array.from({ length: MAX_SEQUENCE + 2 }, () => parseSnowflake(generator.next(), EPOCH));
    expect(ids[MAX_SEQUENCE]).toMatchObject({ timestampMs: T, sequence: MAX_SEQUENCE });
    // The 4,097th waited for the clock (sleep moved it) instead of reusing a sequence number.
    expect(ids[MAX_SEQUENCE + 1]).toMatchObject({ timestampMs: T + 1, sequence: 0 });
    expect(clock.sleeps).toBe(1);
  });

  it('absorbs a small step back by continuing the last millisecond, without a duplicate', () => {
    const clock = fakeClock(T);
    const generator = generatorOn(clock, { maxBackwardWaitMs: 10 });
    const before = generator.next();
    clock.now = T - 10;
    const during = [generator.next(), generator.next()];
    expect(during.map((id) => parseSnowflake(id, EPOCH))).toMatchObject([
      { timestampMs: T, sequence: 1 },
      { timestampMs: T, sequence: 2 },
    ]);
    expect(BigInt(during[0]!)).toBeGreaterThan(BigInt(before));
    expect(clock.sleeps).toBe(0);
  });

  it('waits for the clock to pass the last millisecond when a step back meets a used-up sequence', () => {
    const clock = fakeClock(T);
    const generator = generatorOn(clock, { maxBackwardWaitMs: 10 });
    for (let i = 0; i <= MAX_SEQUENCE; i++) generator.next();
    clock.now = T - 4;
    const next = parseSnowflake(generator.next(), EPOCH);
    expect(next).toMatchObject({ timestampMs: T + 1, sequence: 0 });
    expect(clock.now).toBe(T + 1);
  });

  it('refuses a large step back with a retriable error and resumes once the clock catches up', () => {
    const clock = fakeClock(T);
    const generator = generatorOn(clock, { maxBackwardWaitMs: 10 });
    const last = generator.next();
    clock.now = T - 11;
    let caught: unknown;
    try {
      generator.next();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TradectlError);
    expect((caught as TradectlError).code).toBe('TRADECTL_CLOCK_ROLLBACK');
    expect((caught as TradectlError).retriable).toBe(true);
    expect(generator.lastTimestampMs).toBe(T);
    clock.now = T;
    const resumed = generator.next();
    expect(BigInt(resumed)).toBeGreaterThan(BigInt(last));
  });

  it('throws instead of spinning forever when the clock stops moving', () => {
    const clock = fakeClock(T);
    // No sleep: the generator spins on a clock that never advances.
    const generator = new SnowflakeGenerator({ workerId: 3, epochMs: EPOCH, clock: clock.read });
    for (let i = 0; i <= MAX_SEQUENCE; i++) generator.next();
    expect(codeOf(() => generator.next())).toBe('TRADECTL_CLOCK_STALLED');
  });

  it('does not mistake the process being paused while it waits for a stopped clock', () => {
    const clock = fakeClock(T);
    const generator = new SnowflakeGenerator({ workerId: 3, epochMs: EPOCH, clock: clock.read });
    for (let i = 0; i <= MAX_SEQUENCE; i++) generator.next();
    // The machine deschedules the process for a second between reading the deadline and the
    // clock: by the time the clock is read, it has moved on.
    let monotonic = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => {
      monotonic += 1000;
      if (monotonic >= 2000) clock.now = T + 1;
      return monotonic;
    });
    try {
      expect(parseSnowflake(generator.next(), EPOCH)).toMatchObject({ timestampMs: T + 1, sequence: 0 });
    } finally {
      now.mockRestore();
    }
  });

  it('starts strictly after the previous owner watermark', () => {
    const clock = fakeClock(T);
    const behind = new SnowflakeGenerator({
      workerId: 3,
      epochMs: EPOCH,
      clock: clock.read,
      sleep: clock.sleep,
      startAfterMs: T + 5,
    });
    expect(parseSnowflake(behind.next(), EPOCH).timestampMs).toBe(T + 6);
    const farBehind = new SnowflakeGenerator({
      workerId: 3,
      epochMs: EPOCH,
      clock: () => T,
      startAfterMs: T + 500,
    });
    expect(codeOf(() => farBehind.next())).toBe('TRADECTL_CLOCK_ROLLBACK');
  });

  it('refuses clocks before the epoch and past the 41-bit range', () => {
    expect(codeOf(() => generatorOn(fakeClock(EPOCH - 1)).next())).toBe('TRADECTL_SNOWFLAKE_BEFORE_EPOCH');
    expect(codeOf(() => generatorOn(fakeClock(EPOCH + MAX_TIMESTAMP_OFFSET_MS + 1)).next())).toBe(
      'TRADECTL_SNOWFLAKE_EPOCH_OVERFLOW',
    );
    expect(
      parseSnowflake(generatorOn(fakeClock(EPOCH + MAX_TIMESTAMP_OFFSET_MS)).next(), EPOCH).timestampMs,
    ).toBe(EPOCH + MAX_TIMESTAMP_OFFSET_MS);
  });

  it('stops at the lease horizon, resumes when extended, and stays stopped once revoked', () => {
    const clock = fakeClock(T);
    const generator = new SnowflakeGenerator({
      workerId: 3,
      epochMs: EPOCH,
      clock: clock.read,
      validUntilMs: T + 10,
    });
    generator.next();
    clock.now = T + 11;
    expect(codeOf(() => generator.next())).toBe('TRADECTL_WORKER_LEASE_EXPIRED');
    generator.extendValidity(T + 100);
    expect(parseSnowflake(generator.next(), EPOCH).timestampMs).toBe(T + 11);
    generator.revoke(
      new TradectlError('TRADECTL_WORKER_LEASE_LOST', 'lost', { kind: 'transient', retriable: false }),
    );
    expect(codeOf(() => generator.next())).toBe('TRADECTL_WORKER_LEASE_LOST');
    generator.extendValidity(T + 1000);
    expect(codeOf(() => generator.nextBigInt())).toBe('TRADECTL_WORKER_LEASE_LOST');
  });

  it('never repeats or decreases an id under arbitrary clock sequences, steps back included', () => {
    const step = fc.record({
      // Mostly small moves either way, sometimes a step back beyond the tolerance.
      deltaMs: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -10, max: 5 }) },
        { weight: 1, arbitrary: fc.integer({ min: -200, max: -11 }) },
      ),
      ids: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }) }, fc.constant(MAX_SEQUENCE + 2)),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const clock = fakeClock(T);
        const generator = generatorOn(clock, { maxBackwardWaitMs: 10 });
        let previous = -1n;
        for (const { deltaMs, ids } of steps) {
          clock.now += deltaMs;
          for (let i = 0; i < ids; i++) {
            const backwardMs = generator.lastTimestampMs - clock.now;
            let id: string;
            try {
              id = generator.next();
            } catch (error) {
              // The only acceptable refusal: the clock is further back than the tolerance.
              expect((error as TradectlError).code).toBe('TRADECTL_CLOCK_ROLLBACK');
              expect(backwardMs).toBeGreaterThan(10);
              break;
            }
            const value = BigInt(id);
            const { timestampMs } = parseSnowflake(id, EPOCH);
            // Borrowing keeps ids at most the tolerance ahead of the clock, never behind it.
            if (value <= previous) expect.fail(`id ${value} does not follow ${previous}`);
            if (timestampMs < clock.now || timestampMs - clock.now > 10) {
              expect.fail(
                `id timestamp ${timestampMs} is not within [clock, clock + 10] (clock ${clock.now})`,
              );
            }
            previous = value;
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
