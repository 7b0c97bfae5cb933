import type { Instant } from '../../core/time.js';
import { isRec } from '../payload.js';
import { encodeQuery, pageSizeWithin } from '../query.js';

/** getOrders page size: default 50, maximum 200 (above: error 31100). */
export const EBAY_MAX_PAGE_SIZE = 200;

/**
 * `lastmodifieddate:[from..to]`, both ends inclusive, ISO-8601 UTC with milliseconds. The
 * brackets must travel percent-encoded (`%5B`, `%5D`), which encodeQuery does.
 */
export function lastModifiedFilter(from: Instant, to: Instant): string {
  return `lastmodifieddate:[${from}..${to}]`;
}

export interface EbayOrdersQuery {
  from: Instant;
  to: Instant;
  pageSize?: number;
  offset?: number;
}

export function ebayOrdersQuery(query: EbayOrdersQuery): string {
  return encodeQuery([
    ['filter', lastModifiedFilter(query.from, query.to)],
    ['limit', pageSizeWithin(query.pageSize, EBAY_MAX_PAGE_SIZE)],
    ['offset', query.offset ?? 0],
  ]);
}

/**
 * The offset of the next page, or null on the last one. eBay sends `next` (the full URI of the
 * next page) only when there is one; its `offset` is taken as is, else offset + orders seen.
 * An empty page ends the listing even if `next` is present, so a platform bug cannot loop.
 */
export function ebayNextOffset(body: unknown, currentOffset: number): number | null {
  if (!isRec(body)) return null;
  const orders = Array.isArray(body.orders) ? body.orders : [];
  if (typeof body.next !== 'string' || body.next === '' || orders.length === 0) return null;
  const fromNext = offsetOf(body.next);
  const next = fromNext ?? currentOffset + orders.length;
  return next > currentOffset ? next : null;
}

/** Parses a cursor this adapter returned (a decimal offset). */
export function parseEbayCursor(cursor: string | undefined): number | null {
  if (cursor === undefined) return 0;
  return /^\d{1,9}$/.test(cursor) ? Number(cursor) : null;
}

function offsetOf(uri: string): number | null {
  try {
    const value = new URL(uri, 'https://api.ebay.invalid').searchParams.get('offset');
    return value !== null && /^\d+$/.test(value) ? Number(value) : null;
  } catch {
    return null;
  }
}
