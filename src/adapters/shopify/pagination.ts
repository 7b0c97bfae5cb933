import type { Instant } from '../../core/time.js';
import { encodeQuery, pageSizeWithin } from '../query.js';

/** orders.json page size: default 50, maximum 250. */
export const SHOPIFY_MAX_PAGE_SIZE = 250;

/**
 * Parses an RFC 8288 `Link` header into rel -> URL. Shopify sends
 * `<https://…page_info=abc>; rel="previous", <https://…page_info=def>; rel="next"` and the
 * order of the entries is not fixed: the next page is the URL whose rel is `next`, never simply
 * the first or last URL in the header (the bug n8n's Shopify node had). URLs may contain commas
 * (`fields=id,name`), so entries are split on `<…>` boundaries, not on commas.
 */
export function parseLinkHeader(header: string | null | undefined): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  const entry = /<([^>]*)>([^<]*)/g;
  for (const match of header.matchAll(entry)) {
    const [, url = '', params = ''] = match;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params);
    const names = (rel?.[1] ?? rel?.[2] ?? '').split(/\s+/).filter(Boolean);
    for (const name of names) {
      const key = name.toLowerCase();
      if (!(key in links)) links[key] = url.trim();
    }
  }
  return links;
}

/** The `page_info` cursor of the next page, or null on the last page. */
export function nextPageInfo(header: string | null | undefined): string | null {
  const next = parseLinkHeader(header).next;
  if (!next) return null;
  try {
    return new URL(next, 'https://shop.invalid').searchParams.get('page_info') || null;
  } catch {
    return null;
  }
}

export interface ShopifyOrdersQuery {
  from: Instant;
  to: Instant;
  pageSize?: number;
  /** Present on every page after the first. */
  pageInfo?: string | null;
}

/**
 * The orders.json query. The first page carries the window (`updated_at_min/max`) and
 * `status=any` (the default `open` would hide closed and cancelled orders); later pages carry
 * only `limit` and `page_info`, because Shopify freezes the filters into the cursor and
 * answers 400 when any other filter accompanies `page_info`.
 */
export function shopifyOrdersQuery(query: ShopifyOrdersQuery): string {
  const limit = pageSizeWithin(query.pageSize, SHOPIFY_MAX_PAGE_SIZE);
  if (query.pageInfo) {
    return encodeQuery([
      ['limit', limit],
      ['page_info', query.pageInfo],
    ]);
  }
  return encodeQuery([
    ['status', 'any'],
    ['limit', limit],
    ['updated_at_min', query.from],
    ['updated_at_max', query.to],
  ]);
}
