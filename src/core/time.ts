import { ValidationError } from './errors.js';

/**
 * Time in tradectl is UTC with millisecond precision. In the domain and on the wire an instant is
 * its canonical ISO text (`2026-01-31T23:59:59.123Z`): JSON-native, readable in logs, and it
 * sorts lexically in time order. MySQL stores DATETIME(3) in UTC.
 *
 * Every platform format is parsed by an explicit function. Anything unparseable is a
 * ValidationError naming the field: never "now", never epoch 0.
 */
export type Instant = string;

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL_DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SQL_DATETIME_MS = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

// Platforms never send instants outside this range; one that does is a unit mix-up (seconds sent
// as milliseconds, or the reverse), which must fail loudly rather than store 1970 or 56000 AD.
const MIN_MS = Date.UTC(2000, 0, 1);
const MAX_MS = Date.UTC(2200, 0, 1);

/** ISO 8601 with an explicit zone (`Z` or `±hh:mm`); a time without a zone is ambiguous: error. */
export function parseIsoInstant(text: unknown, field = 'time'): Instant {
  if (typeof text !== 'string') throw invalid(field, `expected an ISO-8601 string, got ${describe(text)}`);
  const match = ISO_WITH_OFFSET.exec(text.trim());
  if (!match) throw invalid(field, `"${text}" is not an ISO-8601 time with a zone`);
  const [, y, mo, d, h, mi, s = '0', frac = '', zone = 'Z'] = match;
  const ms = fieldsToUtcMs(field, text, +y!, +mo!, +d!, +h!, +mi!, +s, frac);
  const offset = zoneOffsetMs(zone);
  // Real offsets stay within ±14:00; ISO allows up to ±18:00. Beyond that the text is corrupt.
  if (offset === null) throw invalid(field, `"${text}" has an invalid UTC offset`);
  return fromEpochMs(ms - offset, field);
}

/** Unix seconds (Etsy, Shopee, TikTok), as a number or a digit string. Fractions keep ms. */
export function parseUnixSeconds(value: unknown, field = 'time'): Instant {
  const seconds = toFiniteNumber(value, field);
  // In floating point 4325235212.997 * 1000 is 4325235212996.9995, so the milliseconds come from
  // the decimal text (a number's shortest round-trip text), truncated like ISO fractions.
  const decimal = /^(\d+)(?:\.(\d+))?$/.exec(typeof value === 'string' ? value.trim() : String(seconds));
  const ms = decimal
    ? Number(decimal[1]) * 1000 + Number((decimal[2] ?? '').slice(0, 3).padEnd(3, '0'))
    : Math.floor(seconds * 1000);
  return fromEpochMs(ms, field);
}

/** Unix milliseconds (Walmart), as a number or a digit string. */
export function parseUnixMillis(value: unknown, field = 'time'): Instant {
  return fromEpochMs(Math.floor(toFiniteNumber(value, field)), field);
}

/**
 * A wall-clock time in a named zone (AliExpress sends `2026-03-08 02:30:00` in US Pacific time).
 * Times that do not exist (spring-forward gap) are an error; times that exist twice (fall-back)
 * take the earlier instant, which is the safe side for an incremental window.
 */
export function parseZonedLocal(text: unknown, timeZone: string, field = 'time'): Instant {
  if (typeof text !== 'string') throw invalid(field, `expected a date-time string, got ${describe(text)}`);
  const match = LOCAL_DATETIME.exec(text.trim());
  if (!match) throw invalid(field, `"${text}" is not a YYYY-MM-DD HH:MM:SS time`);
  const [, y, mo, d, h, mi, s = '0', frac = ''] = match;
  const wall = fieldsToUtcMs(field, text, +y!, +mo!, +d!, +h!, +mi!, +s, frac);
  // Try the offsets in force around that wall time; keep those that map back to it.
  const candidates = [
    ...new Set([offsetAt(wall - 86_400_000, timeZone), offsetAt(wall + 86_400_000, timeZone)]),
  ]
    .map((offset) => wall - offset)
    .filter((utc) => offsetAt(utc, timeZone) === wall - utc)
    .sort((a, b) => a - b);
  if (candidates.length === 0) throw invalid(field, `"${text}" does not exist in ${timeZone} (clock change)`);
  return fromEpochMs(candidates[0]!, field);
}

/** Validates an already canonical instant (from our own envelopes or the database). */
export function assertInstant(value: unknown, field = 'time'): Instant {
  if (typeof value !== 'string' || !CANONICAL.test(value)) {
    throw invalid(field, `expected a UTC instant like 2026-01-31T23:59:59.123Z, got ${describe(value)}`);
  }
  return parseIsoInstant(value, field);
}

export function isInstant(value: unknown): value is Instant {
  return typeof value === 'string' && CANONICAL.test(value) && isRealCalendarTime(value, 'T');
}

/**
 * The fields of a text already shaped like `YYYY-MM-DD?HH:MM:SS…` name a real time in the
 * plausible range (the one fromEpochMs applies): no Feb 30, no hour 24, no leap second. Checked
 * on the digits, because this runs for every instant of every order the sink decodes and the
 * round trip through Date (parse, then format and compare) cost several microseconds each.
 */
function isRealCalendarTime(text: string, separator: 'T' | ' '): boolean {
  if (text[10] !== separator) return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  return (
    year >= 2000 &&
    year < 2200 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    digits(text, 11, 2) <= 23 &&
    digits(text, 14, 2) <= 59 &&
    digits(text, 17, 2) <= 59
  );
}

function digits(text: string, at: number, length: number): number {
  let value = 0;
  for (let i = at; i < at + length; i++) value = value * 10 + (text.charCodeAt(i) - 48);
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function fromEpochMs(ms: number, field = 'time'): Instant {
  if (!Number.isFinite(ms) || ms < MIN_MS || ms >= MAX_MS) {
    throw invalid(field, `${ms} ms is outside the plausible range 2000..2200 (unit mix-up?)`);
  }
  return new Date(ms).toISOString();
}

export function toEpochMs(instant: Instant): number {
  return Date.parse(instant);
}

/** `2026-01-31 23:59:59.123`: the DATETIME(3) literal of an instant, in UTC. */
export function toSqlDateTime(instant: Instant): string {
  return `${instant.slice(0, 10)} ${instant.slice(11, 23)}`;
}

/** Reads a DATETIME(3) value (string `YYYY-MM-DD HH:MM:SS[.fff]`, or a Date from a UTC pool). */
export function fromSqlDateTime(value: string | Date): Instant {
  if (value instanceof Date) return fromEpochMs(value.getTime());
  // DATETIME(3) as the pools read it: the canonical instant is the same digits.
  if (SQL_DATETIME_MS.test(value) && isRealCalendarTime(value, ' ')) {
    return `${value.slice(0, 10)}T${value.slice(11)}Z`;
  }
  return parseIsoInstant(`${value.replace(' ', 'T')}Z`);
}

export function addMs(instant: Instant, ms: number): Instant {
  return fromEpochMs(toEpochMs(instant) + ms);
}

export function maxInstant(a: Instant, b: Instant): Instant {
  return a >= b ? a : b;
}

export function minInstant(a: Instant, b: Instant): Instant {
  return a <= b ? a : b;
}

function fieldsToUtcMs(
  field: string,
  text: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  fraction: string,
): number {
  // Sub-millisecond digits are truncated, never rounded up, so an instant never moves later.
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  if (
    month < 1 ||
    month > 12 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    check.getUTCDate() !== day ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCFullYear() !== year
  ) {
    throw invalid(field, `"${text}" is not a valid calendar time`);
  }
  return utc;
}

function zoneOffsetMs(zone: string): number | null {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 18 || minutes > 59 || (hours === 18 && minutes > 0)) return null;
  return sign * (hours * 60 + minutes) * 60_000;
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** Offset (wall minus UTC, in ms) of a named zone at a UTC instant. */
function offsetAt(utcMs: number, timeZone: string): number {
  let format = zoneFormatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(utcMs / 1000) * 1000;
}

function toFiniteNumber(value: unknown, field: string): number {
  const number = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw invalid(field, `expected a unix timestamp, got ${describe(value)}`);
  }
  return number;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : value === null ? 'null' : typeof value;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError('invalid time', [{ path: field, message }]);
}
