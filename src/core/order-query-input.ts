import { type FieldIssue, ValidationError } from './errors.js';
import { ORDER_STATUSES, type OrderStatus } from './order.js';
import { decodeCursor, filterHash, type OrderKey, type SortOrder } from './order-cursor.js';
import type { OrderListFilters } from './order-query-sql.js';
import { isPlatform, PLATFORMS, type Platform } from './platforms.js';
import { type Instant, isInstant } from './time.js';

/** What a caller (CLI, HTTP API, another tool) asks the operations query for. */
export interface OrderQuery {
  /** Inclusive lower bound on createdAt. */
  from?: Instant | undefined;
  /** Exclusive upper bound on createdAt. */
  to?: Instant | undefined;
  /** Any of these statuses; absent means any status. */
  statuses?: readonly OrderStatus[] | undefined;
  /** Any of these platforms; absent means any platform. */
  platforms?: readonly Platform[] | undefined;
  /** One owning user (decimal string): only that user's shard is read. */
  userId?: string | undefined;
  /** Page size, 1..1000. */
  limit: number;
  /** By createdAt, then id (numerically). */
  order: SortOrder;
  /** `nextCursor` of the previous page, from the same filters and order. */
  after?: string | undefined;
}

export const MAX_PAGE_SIZE = 1000;

export interface NormalizedQuery {
  filters: OrderListFilters;
  order: SortOrder;
  limit: number;
  after: OrderKey | undefined;
}

/** Checks every field and reports all problems at once, each named by its field. */
export function normalizeQuery(query: OrderQuery): NormalizedQuery {
  const issues: FieldIssue[] = [];
  const { limit, order } = query;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    issues.push({ path: 'limit', message: `expected an integer from 1 to ${MAX_PAGE_SIZE}` });
  }
  if (order !== 'asc' && order !== 'desc') issues.push({ path: 'order', message: 'expected asc or desc' });
  for (const field of ['from', 'to'] as const) {
    const value = query[field];
    if (value !== undefined && !isInstant(value)) {
      issues.push({ path: field, message: 'expected a UTC instant like 2026-01-31T23:59:59.123Z' });
    }
  }
  if (isInstant(query.from) && isInstant(query.to) && query.from >= query.to) {
    issues.push({ path: 'to', message: 'must be later than from (from is inclusive, to exclusive)' });
  }
  const statuses = checkList(query.statuses, 'statuses', isStatus, ORDER_STATUSES, issues);
  const platforms = checkList(query.platforms, 'platforms', isPlatform, PLATFORMS, issues);
  let userId: string | undefined;
  if (query.userId !== undefined) {
    if (typeof query.userId === 'string' && /^\d{1,19}$/.test(query.userId)) {
      userId = BigInt(query.userId).toString();
    } else issues.push({ path: 'userId', message: 'expected a non-negative integer as a decimal string' });
  }
  const filters: OrderListFilters = { from: query.from, to: query.to, statuses, platforms, userId };
  let after: OrderKey | undefined;
  if (query.after !== undefined && issues.length === 0) {
    try {
      after = decodeCursor(query.after, { order, filters: filterHash(filters) });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ValidationError('invalid order query', issues);
  return { filters, order, limit, after };
}

function checkList<T extends string>(
  values: readonly T[] | undefined,
  field: string,
  valid: (value: unknown) => boolean,
  known: readonly string[],
  issues: FieldIssue[],
): T[] | undefined {
  if (values === undefined) return undefined;
  if (!Array.isArray(values) || values.length === 0) {
    issues.push({ path: field, message: 'expected at least one value (leave it out to mean any)' });
    return undefined;
  }
  values.forEach((value, index) => {
    if (!valid(value)) {
      const message = `unknown value ${JSON.stringify(value)}: expected one of ${known.join(', ')}`;
      issues.push({ path: `${field}[${index}]`, message });
    }
  });
  return [...new Set(values)].sort();
}

function isStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}
