import { describe, expect, it } from 'vitest';
import {
  ebayNextOffset,
  ebayOrdersQuery,
  lastModifiedFilter,
  parseEbayCursor,
} from '../../../src/adapters/ebay/pagination.js';

describe('eBay getOrders query', () => {
  it('filters on lastmodifieddate with brackets percent-encoded', () => {
    expect(lastModifiedFilter('2026-03-01T00:00:00.000Z', '2026-03-01T01:00:00.000Z')).toBe(
      'lastmodifieddate:[2026-03-01T00:00:00.000Z..2026-03-01T01:00:00.000Z]',
    );
    const query = ebayOrdersQuery({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-01T01:00:00.000Z',
      offset: 400,
    });
    expect(query).toBe(
      'filter=lastmodifieddate%3A%5B2026-03-01T00%3A00%3A00.000Z..2026-03-01T01%3A00%3A00.000Z%5D&limit=200&offset=400',
    );
    expect(new URLSearchParams(query).get('filter')).toBe(
      'lastmodifieddate:[2026-03-01T00:00:00.000Z..2026-03-01T01:00:00.000Z]',
    );
  });
});

describe('eBay next offset', () => {
  const next = (offset: number) => `https://api.ebay.com/sell/fulfillment/v1/order?limit=2&offset=${offset}`;
  it.each([
    ['next URI present', { next: next(4), orders: [{}, {}] }, 2, 4],
    ['last page: no next', { orders: [{}] }, 4, null],
    [
      'next without offset: offset + orders',
      { next: 'https://api.ebay.com/sell/fulfillment/v1/order?limit=2', orders: [{}, {}] },
      2,
      4,
    ],
    ['empty page with next: stop rather than loop', { next: next(6), orders: [] }, 4, null],
    ['next pointing backwards: stop', { next: next(0), orders: [{}] }, 4, null],
    ['not an object', 'oops', 0, null],
  ])('%s', (_name, body, current, expected) => {
    expect(ebayNextOffset(body, current)).toBe(expected);
  });

  it.each([
    [undefined, 0],
    ['0', 0],
    ['200', 200],
    ['-1', null],
    ['abc', null],
  ])('parses cursor %s', (cursor, offset) => {
    expect(parseEbayCursor(cursor)).toBe(offset);
  });
});
