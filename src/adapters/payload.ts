import { type FieldIssue, ValidationError } from '../core/errors.js';
import { isCurrencyCode, parseMoney } from '../core/money.js';
import type { UnifiedOrder } from '../core/order.js';
import { type Instant, parseIsoInstant } from '../core/time.js';
import type { RejectedRecord } from './types.js';

/** A JSON object from a platform payload, not yet trusted. */
export type Rec = Record<string, unknown>;

/** What every mapper needs besides the payload: who owns the account's orders. */
export interface MapContext {
  /** Account id from config. */
  account: string;
  /** Owning user id (decimal string): decides the shard. */
  userId: string;
}

export function isRec(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads an untrusted platform payload field by field. Every problem is recorded with the
 * platform's own path (`amazon.orders[3].proceeds.grandTotal.currencyCode`) instead of throwing
 * at the first one, so a rejected record lists all that is wrong with it. Readers return a
 * placeholder after recording an issue; the mapper calls `throwIfAny` before building the order.
 */
export class PayloadReader {
  readonly issues: FieldIssue[] = [];

  fail(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** A required nested object; records an issue and returns an empty one when absent. */
  rec(parent: Rec, key: string, base: string): Rec {
    const value = parent[key];
    if (isRec(value)) return value;
    this.fail(`${base}.${key}`, value == null ? 'is missing' : `expected an object, got ${kind(value)}`);
    return {};
  }

  /** An optional nested object: null when absent, an issue when present but not an object. */
  optRec(parent: Rec, key: string, base: string): Rec | null {
    const value = parent[key];
    if (value == null) return null;
    if (isRec(value)) return value;
    this.fail(`${base}.${key}`, `expected an object, got ${kind(value)}`);
    return null;
  }

  /** An optional array: empty when absent, an issue when present but not an array. */
  array(parent: Rec, key: string, base: string, required = false): unknown[] {
    const value = parent[key];
    if (Array.isArray(value)) return value;
    if (value == null && !required) return [];
    this.fail(`${base}.${key}`, value == null ? 'is missing' : `expected an array, got ${kind(value)}`);
    return [];
  }

  /** A required, non-empty string. */
  str(parent: Rec, key: string, base: string): string {
    const value = parent[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
    this.fail(
      `${base}.${key}`,
      value == null ? 'is missing' : `expected a non-empty string, got ${kind(value)}`,
    );
    return '';
  }

  /** An optional string; empty strings (Amazon sends `"addressLine3": ""`) read as null. */
  optStr(parent: Rec, key: string, base: string): string | null {
    const value = parent[key];
    if (value == null) return null;
    if (typeof value === 'string') return value.trim() === '' ? null : value;
    this.fail(`${base}.${key}`, `expected a string, got ${kind(value)}`);
    return null;
  }

  /**
   * An identifier sent as a string or a JSON integer (Shopify ids are int64 numbers). A number
   * beyond 2^53 has already lost digits in JSON.parse, so it is refused rather than stored wrong.
   */
  id(parent: Rec, key: string, base: string): string {
    const value = parent[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
    const why =
      typeof value === 'number'
        ? `${value} is not an exact integer id`
        : value == null
          ? 'is missing'
          : `got ${kind(value)}`;
    this.fail(`${base}.${key}`, why);
    return '';
  }

  optId(parent: Rec, key: string, base: string): string | null {
    return parent[key] == null ? null : this.id(parent, key, base);
  }

  /** An integer (JSON number, or a digit string as some platforms send quantities). */
  int(parent: Rec, key: string, base: string, options: { min?: number; default?: number } = {}): number {
    const value = parent[key];
    if (value == null && options.default !== undefined) return options.default;
    const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
      this.fail(`${base}.${key}`, value == null ? 'is missing' : `expected an integer, got ${kind(value)}`);
      return options.min ?? 0;
    }
    if (options.min !== undefined && number < options.min) {
      this.fail(`${base}.${key}`, `must be at least ${options.min}, got ${number}`);
      return options.min;
    }
    return number;
  }

  /** A required ISO-8601 time with a zone (`Z` or the shop's `-05:00`). */
  instant(parent: Rec, key: string, base: string): Instant {
    return this.optInstant(parent, key, base, true) ?? '';
  }

  optInstant(parent: Rec, key: string, base: string, required = false): Instant | null {
    const value = parent[key];
    if (value == null || value === '') {
      if (required) this.fail(`${base}.${key}`, 'is missing');
      return null;
    }
    return this.guard(() => parseIsoInstant(value, `${base}.${key}`), null);
  }

  /**
   * The order's ISO-4217 currency. A bad one is reported once, here, and a placeholder is
   * returned so every amount of the order does not report it again.
   */
  currency(value: unknown, path: string): string {
    if (typeof value === 'string' && isCurrencyCode(value)) return value;
    this.fail(path, value == null ? 'is missing' : `${kind(value)} is not an ISO-4217 currency code`);
    return 'USD';
  }

  /** Exact minor units of a decimal string or JSON number in `currency`. */
  decimal(value: unknown, currency: string, path: string): number {
    if (typeof value !== 'string' && typeof value !== 'number') {
      this.fail(path, value == null ? 'is missing' : `expected a decimal amount, got ${kind(value)}`);
      return 0;
    }
    return this.guard(() => parseMoney(value, currency, path).amount, 0);
  }

  /** Runs a core parser, turning its ValidationError into recorded issues. */
  guard<T>(parse: () => T, fallback: T): T {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      this.issues.push(...error.issues);
      return fallback;
    }
  }

  throwIfAny(what: string): void {
    if (this.issues.length > 0) throw new ValidationError(what, this.issues);
  }
}

/** Adds integers that are already validated minor units. */
export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export interface MappedPage {
  orders: UnifiedOrder[];
  rejected: RejectedRecord[];
}

/**
 * Maps a page record by record: a record that fails is returned in `rejected` with the error
 * naming its field, and the others still come through. A non-validation exception (a mapper bug
 * tripped by an odd payload) is also contained to its record, wrapped so the cause is kept.
 */
export function mapRecords(
  records: readonly unknown[],
  map: (raw: unknown, path: string) => UnifiedOrder,
  pathOf: (index: number) => string,
  idOf: (raw: unknown) => string | null,
): MappedPage {
  const page: MappedPage = { orders: [], rejected: [] };
  records.forEach((raw, index) => {
    const path = pathOf(index);
    try {
      page.orders.push(map(raw, path));
    } catch (error) {
      const validation =
        error instanceof ValidationError
          ? error
          : new ValidationError('unmappable record', [{ path, message: describeError(error) }], {
              cause: error,
            });
      page.rejected.push({ platformOrderId: safeId(idOf, raw), error: validation, raw });
    }
  });
  return page;
}

function safeId(idOf: (raw: unknown) => string | null, raw: unknown): string | null {
  try {
    return idOf(raw);
  } catch {
    return null;
  }
}

/** Reads a top-level id field without trusting the record, for RejectedRecord.platformOrderId. */
export function rawId(raw: unknown, key: string): string | null {
  if (!isRec(raw)) return null;
  const value = raw[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return null;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : `"${truncate(value)}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
