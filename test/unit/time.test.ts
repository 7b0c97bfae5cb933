import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FieldIssue, ValidationError } from '../../src/core/errors.js';
import {
  addMs,
  assertInstant,
  fromEpochMs,
  fromSqlDateTime,
  isInstant,
  parseIsoInstant,
  parseUnixMillis,
  parseUnixSeconds,
  parseZonedLocal,
  toEpochMs,
  toSqlDateTime,
} from '../../src/core/time.js';

function issuesOf(fn: () => unknown): readonly FieldIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

const MIN_MS = Date.UTC(2000, 0, 1);
const MAX_MS = Date.UTC(2200, 0, 1);
const plausibleMs = fc.integer({ min: MIN_MS, max: MAX_MS - 1 });

describe('parseIsoInstant', () => {
  it.each([
    ['2026-01-31T23:59:59Z', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T23:59:59.123Z', '2026-01-31T23:59:59.123Z'],
    ['2026-01-31t23:59:59z', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31 23:59:59Z', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T23:59Z', '2026-01-31T23:59:00.000Z'],
    ['2026-02-01T07:59:59+08:00', '2026-01-31T23:59:59.000Z'],
    ['2026-02-01T07:59:59+0800', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T18:29:59-05:30', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T23:59:59+00:00', '2026-01-31T23:59:59.000Z'],
    ['2026-01-31T23:59:59,5Z', '2026-01-31T23:59:59.500Z'],
    ['2026-01-31T23:59:59.1Z', '2026-01-31T23:59:59.100Z'],
  ])('reads %s as %s', (text, expected) => {
    expect(parseIsoInstant(text)).toBe(expected);
  });

  it('truncates sub-millisecond digits instead of rounding, so an instant never moves later', () => {
    expect(parseIsoInstant('2026-01-31T23:59:59.123456Z')).toBe('2026-01-31T23:59:59.123Z');
    expect(parseIsoInstant('2026-01-31T23:59:59.999999Z')).toBe('2026-01-31T23:59:59.999Z');
    expect(parseIsoInstant('2026-12-31T23:59:59.9999999-00:00')).toBe('2026-12-31T23:59:59.999Z');
  });

  it.each([
    '2026-01-31T23:59:59',
    '2026-01-31 23:59:59.123',
    '2026-01-31',
    '23:59:59Z',
    'yesterday',
    '',
    '2026-1-31T23:59:59Z',
  ])('rejects %j (no zone or not ISO), naming the field', (text) => {
    const issues = issuesOf(() => parseIsoInstant(text, 'order.updatedAt'));
    expect(issues).toEqual([{ path: 'order.updatedAt', message: expect.any(String) }]);
  });

  it.each([
    ['2026-02-30T00:00:00Z', 'Feb 30'],
    ['2026-02-29T00:00:00Z', 'Feb 29 of a common year'],
    ['2026-04-31T00:00:00Z', 'Apr 31'],
    ['2026-13-01T00:00:00Z', 'month 13'],
    ['2026-00-10T00:00:00Z', 'month 0'],
    ['2026-01-00T00:00:00Z', 'day 0'],
    ['2026-01-01T24:00:00Z', 'hour 24'],
    ['2026-01-01T23:60:00Z', 'minute 60'],
    ['2026-01-01T23:59:60Z', 'second 60'],
  ])('rejects the impossible calendar time %s (%s)', (text) => {
    expect(issuesOf(() => parseIsoInstant(text, 'createdAt'))[0]!.message).toContain(
      'not a valid calendar time',
    );
  });

  it('accepts Feb 29 of a leap year', () => {
    expect(parseIsoInstant('2028-02-29T12:00:00Z')).toBe('2028-02-29T12:00:00.000Z');
  });

  it.each(['2026-01-31T23:59:59+24:00', '2026-01-31T23:59:59+05:60', '2026-01-31T23:59:59-19:00'])(
    'rejects the impossible offset in %s',
    (text) => {
      expect(issuesOf(() => parseIsoInstant(text, 'time'))[0]!.message).toContain('offset');
    },
  );

  it('rejects non-strings, naming the field', () => {
    for (const value of [1700000000, null, undefined, {}, true]) {
      expect(issuesOf(() => parseIsoInstant(value, 'order.createdAt'))[0]!.path).toBe('order.createdAt');
    }
  });

  it('rejects instants outside 2000..2200 as a unit mix-up', () => {
    expect(issuesOf(() => parseIsoInstant('1970-01-01T00:00:00Z'))[0]!.message).toContain('plausible range');
    expect(issuesOf(() => parseIsoInstant('2200-01-01T00:00:00Z'))[0]!.message).toContain('plausible range');
    expect(parseIsoInstant('2000-01-01T00:00:00Z')).toBe('2000-01-01T00:00:00.000Z');
  });

  it('agrees with Date for every instant in range and any whole-minute offset', () => {
    fc.assert(
      fc.property(plausibleMs, fc.integer({ min: -14 * 60, max: 14 * 60 }), (ms, offsetMinutes) => {
        fc.pre(ms + offsetMinutes * 60_000 >= MIN_MS && ms + offsetMinutes * 60_000 < MAX_MS);
        const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
        const sign = offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(offsetMinutes);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        expect(parseIsoInstant(`${local}${zone}`)).toBe(new Date(ms).toISOString());
      }),
    );
  });
});

describe('unix timestamps', () => {
  it('reads unix seconds as numbers and digit strings', () => {
    expect(parseUnixSeconds(1700000000)).toBe('2023-11-14T22:13:20.000Z');
    expect(parseUnixSeconds('1700000000')).toBe('2023-11-14T22:13:20.000Z');
    expect(parseUnixSeconds(' 1700000000 ')).toBe('2023-11-14T22:13:20.000Z');
    expect(parseUnixSeconds('1700000000.5')).toBe('2023-11-14T22:13:20.500Z');
    expect(parseUnixSeconds(1700000000.123)).toBe('2023-11-14T22:13:20.123Z');
    // 4325235212.997 * 1000 is 4325235212996.9995 in floating point.
    expect(parseUnixSeconds(4325235212.997)).toBe('2107-01-23T14:13:32.997Z');
    expect(parseUnixSeconds('1700000000.1239')).toBe('2023-11-14T22:13:20.123Z');
  });

  it('reads unix milliseconds as numbers and digit strings', () => {
    expect(parseUnixMillis(1700000000123)).toBe('2023-11-14T22:13:20.123Z');
    expect(parseUnixMillis('1700000000123')).toBe('2023-11-14T22:13:20.123Z');
  });

  it('keeps every millisecond of fractional seconds exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_MS / 1000, max: MAX_MS / 1000 - 1 }),
        fc.integer({ min: 0, max: 999 }),
        (seconds, ms) => {
          const text = `${seconds}.${String(ms).padStart(3, '0')}`;
          const expected = new Date(seconds * 1000 + ms).toISOString();
          expect(parseUnixSeconds(text)).toBe(expected);
          expect(parseUnixSeconds(Number(text))).toBe(expected);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('agrees with Date for every millisecond in range', () => {
    fc.assert(
      fc.property(plausibleMs, (ms) => {
        expect(parseUnixMillis(ms)).toBe(new Date(ms).toISOString());
        expect(parseUnixMillis(String(ms))).toBe(new Date(ms).toISOString());
      }),
    );
  });

  it('rejects seconds passed as milliseconds and milliseconds passed as seconds', () => {
    // 1700000000 ms is January 1970; 1700000000123 s is the year 55,800.
    expect(issuesOf(() => parseUnixMillis(1700000000, 'update_time'))[0]).toEqual({
      path: 'update_time',
      message: expect.stringContaining('unit mix-up'),
    });
    expect(issuesOf(() => parseUnixSeconds(1700000000123, 'update_time'))[0]).toEqual({
      path: 'update_time',
      message: expect.stringContaining('unit mix-up'),
    });
    expect(issuesOf(() => parseUnixSeconds(0, 't'))[0]!.message).toContain('unit mix-up');
  });

  it.each([
    '',
    'abc',
    '-1700000000',
    '1.7e9',
    '0x6553F100',
    '1700000000.',
    null,
    undefined,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
  ])('rejects %j as a unix timestamp', (value) => {
    expect(issuesOf(() => parseUnixSeconds(value, 'created'))[0]!.path).toBe('created');
    expect(issuesOf(() => parseUnixMillis(value, 'created'))[0]!.path).toBe('created');
  });
});

describe('parseZonedLocal (America/Los_Angeles)', () => {
  const LA = 'America/Los_Angeles';

  it.each([
    ['2026-01-15 12:00:00', '2026-01-15T20:00:00.000Z', 'PST, UTC-8'],
    ['2026-07-15 12:00:00', '2026-07-15T19:00:00.000Z', 'PDT, UTC-7'],
    ['2026-07-15T12:00:00.250', '2026-07-15T19:00:00.250Z', 'T separator and fraction'],
    ['2026-03-08 01:59:59', '2026-03-08T09:59:59.000Z', 'last second before spring forward'],
    ['2026-03-08 03:00:00', '2026-03-08T10:00:00.000Z', 'first second after spring forward'],
    ['2026-11-01 00:59:59', '2026-11-01T07:59:59.000Z', 'before fall back'],
    ['2026-11-01 02:00:00', '2026-11-01T10:00:00.000Z', 'after fall back'],
  ])('reads %s as %s (%s)', (text, expected) => {
    expect(parseZonedLocal(text, LA)).toBe(expected);
  });

  it.each(['2026-03-08 02:00:00', '2026-03-08 02:30:00', '2026-03-08 02:59:59'])(
    'rejects %s, which falls in the spring-forward gap',
    (text) => {
      expect(issuesOf(() => parseZonedLocal(text, LA, 'modified_date'))[0]).toEqual({
        path: 'modified_date',
        message: expect.stringContaining('does not exist'),
      });
    },
  );

  it('takes the earlier instant (PDT) for a wall time the fall-back hour repeats', () => {
    expect(parseZonedLocal('2026-11-01 01:00:00', LA)).toBe('2026-11-01T08:00:00.000Z');
    expect(parseZonedLocal('2026-11-01 01:30:00', LA)).toBe('2026-11-01T08:30:00.000Z');
    expect(parseZonedLocal('2026-11-01 01:59:59', LA)).toBe('2026-11-01T08:59:59.000Z');
  });

  it('rejects impossible dates and times carrying their own zone', () => {
    expect(issuesOf(() => parseZonedLocal('2026-02-30 10:00:00', LA, 'd'))[0]!.message).toContain(
      'not a valid calendar time',
    );
    expect(issuesOf(() => parseZonedLocal('2026-02-03 10:00:00Z', LA, 'd'))[0]!.path).toBe('d');
    expect(issuesOf(() => parseZonedLocal(1700000000, LA, 'd'))[0]!.path).toBe('d');
  });

  it('reads zones without daylight saving', () => {
    expect(parseZonedLocal('2026-07-15 12:00:00', 'Asia/Shanghai')).toBe('2026-07-15T04:00:00.000Z');
  });

  it('maps every instant back from its own LA wall time (earliest when repeated)', () => {
    const wallFormat = new Intl.DateTimeFormat('sv-SE', {
      timeZone: LA,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS / 1000 + 86_400, max: MAX_MS / 1000 - 86_400 }), (seconds) => {
        const ms = seconds * 1000;
        const wall = wallFormat.format(new Date(ms));
        const parsed = toEpochMs(parseZonedLocal(wall, LA));
        // The same wall time one hour earlier means this instant is the repeated (later) one.
        expect(parsed === ms || parsed === ms - 3_600_000).toBe(true);
      }),
    );
  });
});

describe('canonical instants and DATETIME(3)', () => {
  it('validates canonical instants, rejecting rolled-over dates', () => {
    expect(isInstant('2026-01-31T23:59:59.123Z')).toBe(true);
    expect(isInstant('2026-02-30T00:00:00.000Z')).toBe(false);
    expect(isInstant('2026-01-31T23:59:59Z')).toBe(false);
    expect(isInstant('1970-01-01T00:00:00.000Z')).toBe(false);
    expect(isInstant(1700000000000)).toBe(false);
    expect(assertInstant('2026-01-31T23:59:59.123Z', 'x')).toBe('2026-01-31T23:59:59.123Z');
    expect(issuesOf(() => assertInstant('2026-01-31T23:59:59+00:00', 'envelope.fetchedAt'))[0]!.path).toBe(
      'envelope.fetchedAt',
    );
    expect(issuesOf(() => assertInstant('2026-02-30T00:00:00.000Z', 'x'))[0]!.path).toBe('x');
  });

  it('writes and reads DATETIME(3) literals in UTC', () => {
    expect(toSqlDateTime('2026-01-31T23:59:59.123Z')).toBe('2026-01-31 23:59:59.123');
    expect(fromSqlDateTime('2026-01-31 23:59:59.123')).toBe('2026-01-31T23:59:59.123Z');
    expect(fromSqlDateTime('2026-01-31 23:59:59')).toBe('2026-01-31T23:59:59.000Z');
    expect(fromSqlDateTime(new Date(Date.UTC(2026, 0, 31, 23, 59, 59, 123)))).toBe(
      '2026-01-31T23:59:59.123Z',
    );
  });

  it('round-trips every instant in range through DATETIME(3)', () => {
    fc.assert(
      fc.property(plausibleMs, (ms) => {
        const instant = fromEpochMs(ms);
        const sql = toSqlDateTime(instant);
        expect(sql).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
        expect(fromSqlDateTime(sql)).toBe(instant);
        expect(fromSqlDateTime(new Date(ms))).toBe(instant);
        expect(isInstant(instant)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('orders canonical instants lexically in time order', () => {
    fc.assert(
      fc.property(plausibleMs, plausibleMs, (a, b) => {
        const [x, y] = [fromEpochMs(a), fromEpochMs(b)];
        expect(x < y).toBe(a < b);
      }),
    );
  });

  it('adds milliseconds and keeps the range guard', () => {
    expect(addMs('2026-01-31T23:59:59.999Z', 1)).toBe('2026-02-01T00:00:00.000Z');
    expect(issuesOf(() => addMs('2000-01-01T00:00:00.000Z', -1))[0]!.message).toContain('plausible range');
  });
});

describe('isInstant and fromSqlDateTime on the digits', () => {
  // The reference: what the Date round trip says (parse, then format back and compare), with
  // the plausible range of fromEpochMs.
  const viaDate = (text: string) => {
    const ms = Date.parse(text);
    return ms >= Date.UTC(2000, 0, 1) && ms < Date.UTC(2200, 0, 1) && new Date(ms).toISOString() === text;
  };
  const two = (n: number) => String(n).padStart(2, '0');

  it('agrees with the Date round trip on real, impossible and out-of-range times', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const years = [1999, 2000, 2024, 2100, 2199, 2200, 2400];
    let real = 0;
    for (let i = 0; i < 20_000; i++) {
      const text =
        `${years[random(years.length)]}-${two(random(14))}-${two(random(33))}` +
        `T${two(random(26))}:${two(random(62))}:${two(random(62))}.${String(random(1000)).padStart(3, '0')}Z`;
      const expected = viaDate(text);
      if (expected) real++;
      expect(isInstant(text), text).toBe(expected);
      const sql = `${text.slice(0, 10)} ${text.slice(11, 23)}`;
      if (expected) expect(fromSqlDateTime(sql)).toBe(text);
      else expect(() => fromSqlDateTime(sql), sql).toThrow(ValidationError);
    }
    expect(real).toBeGreaterThan(5_000);
    for (const text of ['2024-02-29T12:00:00.000Z', '2000-02-29T00:00:00.000Z', '2199-12-31T23:59:59.999Z']) {
      expect(isInstant(text), text).toBe(true);
    }
    for (const text of ['2023-02-29T12:00:00.000Z', '2100-02-29T00:00:00.000Z', '2024-04-31T00:00:00.000Z']) {
      expect(isInstant(text), text).toBe(false);
    }
  });
});
