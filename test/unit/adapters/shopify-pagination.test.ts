import { describe, expect, it } from 'vitest';
import {
  nextPageInfo,
  parseLinkHeader,
  shopifyOrdersQuery,
} from '../../../src/adapters/shopify/pagination.js';

const base = 'https://jsmith.myshopify.com/admin/api/2025-07/orders.json';

describe('Shopify Link header', () => {
  it.each([
    ['only a next link', `<${base}?limit=250&page_info=abc123>; rel="next"`, 'abc123'],
    [
      'previous before next (n8n followed the first URL)',
      `<${base}?limit=250&page_info=prev1>; rel="previous", <${base}?limit=250&page_info=next2>; rel="next"`,
      'next2',
    ],
    [
      'next before previous',
      `<${base}?page_info=next3&limit=250>; rel="next", <${base}?page_info=prev3&limit=250>; rel="previous"`,
      'next3',
    ],
    ['only a previous link: the last page', `<${base}?limit=250&page_info=prev4>; rel="previous"`, null],
    ['no header', undefined, null],
    ['an empty header', '', null],
    ['commas inside a URL', `<${base}?fields=id,updated_at&limit=50&page_info=c%2Cd>; rel="next"`, 'c,d'],
    ['unquoted rel and odd spacing', `<${base}?page_info=x9>;rel=next`, 'x9'],
    ['rel with several values', `<${base}?page_info=multi>; rel="next last"`, 'multi'],
    ['a next link without page_info', `<${base}?limit=250>; rel="next"`, null],
  ])('%s', (_name, header, expected) => {
    expect(nextPageInfo(header)).toBe(expected);
  });

  it('parses every relation of the header', () => {
    expect(
      parseLinkHeader(`<${base}?page_info=p>; rel="previous", <${base}?page_info=n>; rel="next"`),
    ).toEqual({
      previous: `${base}?page_info=p`,
      next: `${base}?page_info=n`,
    });
  });
});

describe('Shopify orders.json query', () => {
  it('asks the first page for every status in the update window at the maximum page size', () => {
    const query = new URLSearchParams(
      shopifyOrdersQuery({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' }),
    );
    expect(Object.fromEntries(query)).toEqual({
      status: 'any',
      limit: '250',
      updated_at_min: '2026-01-01T00:00:00.000Z',
      updated_at_max: '2026-01-02T00:00:00.000Z',
    });
  });

  it('sends only limit and page_info after the first page, page_info encoded once', () => {
    const query = shopifyOrdersQuery({
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-01-02T00:00:00.000Z',
      pageSize: 50,
      pageInfo: 'eyJsYXN0X2lkIjo0NTA3ODk0Njl9+/=',
    });
    expect(query).toBe('limit=50&page_info=eyJsYXN0X2lkIjo0NTA3ODk0Njl9%2B%2F%3D');
  });

  it.each([
    [undefined, '250'],
    [1000, '250'],
    [0, '1'],
    [75, '75'],
  ])('caps page size %s at %s', (pageSize, limit) => {
    const query = new URLSearchParams(shopifyOrdersQuery({ from: 'a', to: 'b', pageSize }));
    expect(query.get('limit')).toBe(limit);
  });
});
