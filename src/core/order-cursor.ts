import { createHash } from 'node:crypto';
import { type FieldIssue, ValidationError } from './errors.js';
import type { Instant } from './time.js';
import { isInstant } from './time.js';

/**
 * Keyset pagination of order lists: positions, their order and the opaque cursor that carries
 * one position from a page to the next.
 *
 * Orders sort by (created_at, id): created_at is not unique (platforms report whole seconds, and
 * many orders share one), id is, so the pair is a total order and a page boundary falls between
 * two exact rows. Unlike OFFSET, a keyset neither skips nor repeats rows when orders arrive
 * between two page requests.
 */
export type SortOrder = 'asc' | 'desc';

/** A position in the (created_at, id) order. */
export interface OrderKey {
  createdAt: Instant;
  /** Decimal text of an unsigned 64-bit id (no leading zeros). */
  id: string;
}

const UINT64_MAX = (1n << 64n) - 1n;
const CURSOR_VERSION = 1;

/**
 * Compares decimal ids numerically, exactly as MySQL orders BIGINT UNSIGNED: a shorter number
 * is smaller, equal lengths compare digit by digit. No BigInt, no float (ids pass 2^53).
 */
export function compareDecimalIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ascending (created_at, id). Canonical instants sort lexically in time order. */
export function compareOrderKeysAsc(a: OrderKey, b: OrderKey): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return compareDecimalIds(a.id, b.id);
}

/** The comparator of a sort order: the order rows come back in, and the merge's order. */
export function orderKeyComparator(order: SortOrder): (a: OrderKey, b: OrderKey) => number {
  return order === 'asc' ? compareOrderKeysAsc : (a, b) => compareOrderKeysAsc(b, a);
}

/** True for the canonical decimal text of a value in 0..2^64-1. */
export function isUint64Text(value: unknown): value is string {
  return typeof value === 'string' && /^(0|[1-9]\d{0,19})$/.test(value) && BigInt(value) <= UINT64_MAX;
}

/**
 * The filters a cursor is bound to. A cursor from one query resumed under other filters would
 * silently return a wrong page, so the cursor carries a hash of these and is refused elsewhere.
 */
export interface CursorFilters {
  from?: Instant | undefined;
  to?: Instant | undefined;
  statuses?: readonly string[] | undefined;
  platforms?: readonly string[] | undefined;
  userId?: string | undefined;
}

/** A short, order-insensitive digest of the filters (statuses in any order are the same query). */
export function filterHash(filters: CursorFilters): string {
  const canonical = JSON.stringify([
    filters.from ?? null,
    filters.to ?? null,
    filters.statuses ? [...new Set(filters.statuses)].sort() : null,
    filters.platforms ? [...new Set(filters.platforms)].sort() : null,
    filters.userId === undefined ? null : BigInt(filters.userId).toString(),
  ]);
  return digest(canonical, 16);
}

/** Where the next page starts, and what it is valid for. */
export interface CursorPosition extends OrderKey {
  order: SortOrder;
}

/** An opaque base64url token: version, order, position, filter hash and a checksum of them all. */
export function encodeCursor(position: CursorPosition, filters: string): string {
  const body = [CURSOR_VERSION, position.order, position.createdAt, position.id, filters] as const;
  const payload = JSON.stringify([...body, checksum(body)]);
  return Buffer.from(payload, 'utf8').toString('base64url');
}

/**
 * Reads a cursor made by encodeCursor for the same order and filters. Anything else (truncated,
 * edited, another query's cursor) is a ValidationError naming `after`, never a silent wrong page.
 */
export function decodeCursor(
  text: string,
  expected: { order: SortOrder; filters: string },
  field = 'after',
): CursorPosition {
  const fail = (message: string): never => {
    const issue: FieldIssue = { path: field, message };
    throw new ValidationError('invalid cursor', [issue]);
  };
  if (typeof text !== 'string' || text.length === 0 || text.length > 512 || !/^[A-Za-z0-9_-]+$/.test(text)) {
    return fail('not a cursor returned by a previous page');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return fail('not a cursor returned by a previous page');
  }
  if (!Array.isArray(parsed) || parsed.length !== 6) return fail('not a cursor returned by a previous page');
  const [version, order, createdAt, id, filters, sum] = parsed as unknown[];
  if (version !== CURSOR_VERSION) return fail(`cursor version ${String(version)} is not supported`);
  if (
    (order !== 'asc' && order !== 'desc') ||
    !isInstant(createdAt) ||
    !isUint64Text(id) ||
    typeof filters !== 'string' ||
    sum !== checksum([version, order, createdAt, id, filters])
  ) {
    return fail('the cursor is damaged or was edited');
  }
  if (order !== expected.order)
    return fail(`the cursor continues a ${order} list, not a ${expected.order} one`);
  if (filters !== expected.filters) {
    return fail('the cursor belongs to a query with other filters (from, to, statuses, platforms, userId)');
  }
  return { order, createdAt, id };
}

// Not a signature (there is no secret): it catches truncation and hand edits. A position forged
// with a valid checksum is harmless: any position is a legitimate place to start a page.
function checksum(body: readonly unknown[]): string {
  return digest(JSON.stringify(body), 12);
}

function digest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, length);
}
