import { type FieldIssue, ValidationError } from '../errors.js';
import { TENANT_PATTERN } from './keys.js';
import type { StockLine } from './script-args.js';

/**
 * Checks every stock request before it reaches Redis, naming each bad field by its path
 * (`lines[1].quantity`), so a bad request changes nothing and says why.
 */

/** Internal SKUs: no spaces, `|` or `,` (they separate fields in records); up to 128 characters. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#+-]{0,127}$/;
/** Operation, reservation and user ids: UUIDs, order ids, `platform:account:order:line`… */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
/**
 * Quantities and stock levels stay below 10^12, far beyond any real stock, so sums computed in
 * Lua (doubles) stay exact integers.
 */
export const MAX_STOCK = 1_000_000_000_000;
/** Lines per operation: each is a key of one script call. */
export const MAX_LINES = 100;
/** Longest reservation hold: a week. */
export const MAX_HOLD_MS = 7 * 24 * 60 * 60 * 1000;

/** The request itself must be an object; anything else is refused before its fields are read. */
export function requireRequest(input: unknown, what: string): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(what, [{ path: '', message: `expected an object, got ${describe(input)}` }]);
  }
}

export class IssueList {
  readonly issues: FieldIssue[] = [];

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  throwIfAny(what: string): void {
    if (this.issues.length > 0) throw new ValidationError(what, this.issues);
  }

  id(value: unknown, path: string): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      this.add(path, `expected 1-128 letters, digits or . _ : @ / -, got ${describe(value)}`);
    }
    return value as string;
  }

  sku(value: unknown, path: string): string {
    if (typeof value !== 'string' || !SKU_PATTERN.test(value)) {
      this.add(path, `expected a SKU of 1-128 letters, digits or . _ : / # + -, got ${describe(value)}`);
    }
    return value as string;
  }

  tenant(value: unknown, path = 'tenant'): string {
    if (typeof value !== 'string' || !TENANT_PATTERN.test(value)) {
      this.add(path, `expected 1-64 letters, digits, - or _, got ${describe(value)}`);
    }
    return value as string;
  }

  /** A positive integer up to MAX_STOCK. */
  quantity(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_STOCK) {
      this.add(path, `expected a positive integer, got ${describe(value)}`);
    }
    return value as number;
  }

  /** A non-negative integer up to MAX_STOCK (a stock level, a version). */
  count(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_STOCK) {
      this.add(path, `expected a non-negative integer, got ${describe(value)}`);
    }
    return value as number;
  }

  /** A non-negative safe integer (versions grow with every change). */
  version(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.add(path, `expected a non-negative integer version, got ${describe(value)}`);
    }
    return value as number;
  }

  /** A non-zero integer within ±MAX_STOCK. */
  delta(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value === 0 || Math.abs(value) > MAX_STOCK) {
      this.add(path, `expected a non-zero integer, got ${describe(value)}`);
    }
    return value as number;
  }

  holdMs(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_HOLD_MS) {
      this.add(
        path,
        `expected a whole number of milliseconds from 1 to ${MAX_HOLD_MS}, got ${describe(value)}`,
      );
    }
    return value as number;
  }

  /**
   * An order's lines: 1..MAX_LINES, each a valid SKU and quantity. Lines of the same SKU are
   * added up (two listings of one order may map to the same internal SKU), keeping the order
   * in which each SKU first appears.
   */
  lines(value: unknown, path = 'lines'): StockLine[] {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_LINES) {
      this.add(
        path,
        `expected 1 to ${MAX_LINES} lines, got ${Array.isArray(value) ? value.length : describe(value)}`,
      );
      return [];
    }
    const lines: StockLine[] = [];
    let bySku: Map<string, StockLine> | undefined;
    for (let i = 0; i < value.length; i++) {
      const raw = value[i] as { sku?: unknown; quantity?: unknown } | null;
      if (typeof raw !== 'object' || raw === null) {
        this.add(`${path}[${i}]`, `expected { sku, quantity }, got ${describe(raw)}`);
        continue;
      }
      const sku = this.sku(raw.sku, `${path}[${i}].sku`);
      const quantity = this.quantity(raw.quantity, `${path}[${i}].quantity`);
      if (value.length === 1) return [{ sku, quantity }];
      bySku ??= new Map();
      const seen = bySku.get(sku);
      if (seen) seen.quantity += quantity;
      else {
        const line = { sku, quantity };
        bySku.set(sku, line);
        lines.push(line);
      }
    }
    for (const [index, line] of lines.entries()) {
      if (line.quantity > MAX_STOCK)
        this.add(`${path}[${index}].quantity`, `${line.sku} adds up to more than ${MAX_STOCK}`);
    }
    return lines;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
