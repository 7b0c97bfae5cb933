import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import {
  DEFAULT_SNOWFLAKE_EPOCH_MS,
  MAX_SEQUENCE,
  MAX_TIMESTAMP_OFFSET_MS,
  MAX_WORKER_ID,
  parseSnowflake,
  SnowflakeGenerator,
  snowflakeFromParts,
} from '../../src/core/snowflake.js';

const EPOCH = DEFAULT_SNOWFLAKE_EPOCH_MS;

/** A clock that stays where the test puts it; `sleep` moves it (what next() calls while waiting). */
function fakeClock(startMs: number) {
  const clock = {
    now: startMs,
    read: () => clock.now,
    sleep: (ms: number) => {
      clock.now += ms;
    },
  };
  return clock;
}

// The reference layout, computed the slow and obvious way.
function expectedId(offsetMs: number, workerId: number, sequence: number): string {
  return ((BigInt(offsetMs) << 22n) + (BigInt(workerId) << 12n) + BigInt(sequence)).toString();
}

describe('snowflake layout', () => {
  it('packs 41-bit ms, 10-bit worker and 12-bit sequence (hand-computed vector)', () => {
    const clock = fakeClock(EPOCH + 1);
    const generator = new SnowflakeGenerator({ workerId: 1, epochMs: EPOCH, clock: clock.read });
    // (1 << 22) + (1 << 12) = 4194304 + 4096
    expect(generator.next()).toBe('4198400');
    expect(generator.next()).toBe('4198401');
  });

  it('formats every id exactly like the BigInt layout, including the first ms of the epoch', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: MAX_TIMESTAMP_OFFSET_MS }),
          fc.constantFrom(0, 1, MAX_TIMESTAMP_OFFSET_MS),
        ),
        fc.integer({ min: 0, max: MAX_WORKER_ID }),
        (offset, workerId) => {
          const clock = fakeClock(EPOCH + offset);
          const generator = new SnowflakeGenerator({ workerId, epochMs: EPOCH, clock: clock.read });
          // A whole millisecond: the low digits roll over a power of ten inside it for many offsets.
          for (let sequence = 0; sequence <= MAX_SEQUENCE; sequence++) {
            const id = generator.next();
            if (id !== expectedId(offset, workerId, sequence)) {
              expect(id).toBe(expectedId(offset, workerId, sequence));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('issues a million unique, strictly increasing ids on the real clock', () => {
    const generator = new SnowflakeGenerator({ workerId: 513, epochMs: EPOCH });
    let previous = -1n;
    let decreasing = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 1_000_000; i++) {
      const id = generator.next();
      const value = BigInt(id);
      if (value <= previous) decreasing++;
      previous = value;
      seen.add(id);
    }
    expect(decreasing).toBe(0);
    expect(seen.size).toBe(1_000_000);
    expect(parseSnowflake(String(previous), EPOCH).workerId).toBe(513);
    // A million ids take a quarter second at the cap; the margin is for a busy machine.
  }, 30_000);

  it('nextBigInt follows the same sequence as next', () => {
    const clock = fakeClock(EPOCH + 123_456);
    const generator = new SnowflakeGenerator({ workerId: 42, epochMs: EPOCH, clock: clock.read });
    expect(generator.next()).toBe(expectedId(123_456, 42, 0));
    expect(generator.nextBigInt()).toBe(BigInt(expectedId(123_456, 42, 1)));
    expect(generator.next()).toBe(expectedId(123_456, 42, 2));
  });
});

describe('parseSnowflake', () => {
  it('round-trips timestamp, worker id and sequence of generated ids', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_TIMESTAMP_OFFSET_MS }),
        fc.integer({ min: 0, max: MAX_WORKER_ID }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        (offset, workerId, count, epochMs) => {
          const clock = fakeClock(epochMs + offset);
          const generator = new SnowflakeGenerator({ workerId, epochMs, clock: clock.read });
          for (let sequence = 0; sequence < count; sequence++) {
            const parts = parseSnowflake(generator.next(), epochMs);
            expect(parts.workerId).toBe(workerId);
            expect(parts.sequence).toBe(sequence);
            expect(parts.timestampMs).toBe(epochMs + offset);
            expect(parts.timestamp).toBe(new Date(epochMs + offset).toISOString());
          }
        },
      ),
    );
  });

  it('reads the documented example and accepts bigints', () => {
    expect(parseSnowflake('4198400')).toEqual({
      id: '4198400',
      timestamp: '2024-01-01T00:00:00.001Z',
      timestampMs: EPOCH + 1,
      workerId: 1,
      sequence: 0,
    });
    expect(parseSnowflake(4198401n).sequence).toBe(1);
    const max = parseSnowflake('9223372036854775807');
    expect([max.workerId, max.sequence, max.timestampMs]).toEqual([
      1023,
      4095,
      EPOCH + MAX_TIMESTAMP_OFFSET_MS,
    ]);
  });

  it('builds ids from parts (range bounds) that parse back', () => {
    const id = snowflakeFromParts({ timestampMs: EPOCH + 5000, workerId: 9, sequence: 77 });
    expect(parseSnowflake(id)).toMatchObject({ timestampMs: EPOCH + 5000, workerId: 9, sequence: 77 });
    expect(() => snowflakeFromParts({ timestampMs: EPOCH - 1, workerId: 0, sequence: 0 })).toThrow(
      RangeError,
    );
    expect(() => snowflakeFromParts({ timestampMs: EPOCH, workerId: 1024, sequence: 0 })).toThrow(RangeError);
  });

  it.each([
    ['', 'empty'],
    ['abc', 'letters'],
    ['-1', 'negative'],
    ['1.5', 'a fraction'],
    [' 12', 'padding'],
    ['0x10', 'hex'],
    ['9223372036854775808', '2^63'],
    ['12345678901234567890', 'twenty digits'],
  ])('rejects %j (%s) with a validation error naming the value', (input) => {
    let caught: unknown;
    try {
      parseSnowflake(input, EPOCH, 'ids[0]');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const error = caught as ValidationError;
    expect(error.code).toBe('TRADECTL_INVALID_SNOWFLAKE');
    expect(error.issues[0]?.path).toBe('ids[0]');
    expect(error.message).toContain(input.trim() === '' ? '""' : input.trim());
  });
});
