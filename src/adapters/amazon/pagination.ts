import type { Instant } from '../../core/time.js';
import { isRec } from '../payload.js';
import { encodeQuery, pageSizeWithin } from '../query.js';

/** searchOrders / getOrders page size: 1–100, default 100. */
export const AMAZON_MAX_PAGE_SIZE = 100;

/**
 * Datasets requested inline with every order (Orders 2026-01-01 `includedData`), so one
 * searchOrders call brings items, money, status and addresses: no getOrderItems fan-out.
 */
export const AMAZON_INCLUDED_DATA = [
  'BUYER',
  'RECIPIENT',
  'PROCEEDS',
  'PROMOTION',
  'CANCELLATION',
  'FULFILLMENT',
  'PACKAGES',
] as const;

export interface AmazonSearchQuery {
  from: Instant;
  to: Instant;
  marketplaceIds: readonly string[];
  pageSize?: number;
  /** `pagination.nextToken` of the previous page. */
  token?: string | null;
}

/**
 * The searchOrders query. The window is on the update time (`lastUpdatedAfter/Before`), which
 * catches status changes; `createdAfter` would not. The filters are repeated with the token
 * (the model says it only affects pagination). The token often contains `+ / =` and is
 * percent-encoded exactly once (a raw `+` reads as a space; double encoding is
 * "We could not decode your NextToken").
 */
export function searchOrdersQuery(query: AmazonSearchQuery): string {
  return encodeQuery([
    ['lastUpdatedAfter', query.from],
    ['lastUpdatedBefore', query.to],
    ['marketplaceIds', query.marketplaceIds],
    ['includedData', AMAZON_INCLUDED_DATA],
    ['maxResultsPerPage', pageSizeWithin(query.pageSize, AMAZON_MAX_PAGE_SIZE)],
    ['paginationToken', query.token ?? undefined],
  ]);
}

/** getOrder's query: the same datasets as the listing, so both map identically. */
export function getOrderQuery(): string {
  return encodeQuery([['includedData', AMAZON_INCLUDED_DATA]]);
}

/** `pagination.nextToken` of a searchOrders response; absent or empty on the last page. */
export function searchOrdersNextToken(body: unknown): string | null {
  const pagination = isRec(body) && isRec(body.pagination) ? body.pagination : null;
  const token = pagination?.nextToken;
  return typeof token === 'string' && token !== '' ? token : null;
}

/** Orders v0 getOrders query (PascalCase parameters, `NextToken`). */
export function getOrdersV0Query(query: AmazonSearchQuery): string {
  return encodeQuery([
    ['MarketplaceIds', query.marketplaceIds],
    ['LastUpdatedAfter', query.from],
    ['LastUpdatedBefore', query.to],
    ['MaxResultsPerPage', pageSizeWithin(query.pageSize, AMAZON_MAX_PAGE_SIZE)],
    ['NextToken', query.token ?? undefined],
  ]);
}

/** `payload.NextToken` of a v0 getOrders or getOrderItems response. */
export function v0NextToken(body: unknown): string | null {
  const payload = isRec(body) && isRec(body.payload) ? body.payload : null;
  const token = payload?.NextToken;
  return typeof token === 'string' && token !== '' ? token : null;
}
