import { describe, expect, it } from 'vitest';
import {
  getOrdersV0Query,
  searchOrdersNextToken,
  searchOrdersQuery,
  v0NextToken,
} from '../../../src/adapters/amazon/pagination.js';

const window = { from: '2026-02-01T00:00:00.000Z', to: '2026-02-01T06:00:00.000Z' };

describe('Amazon searchOrders query', () => {
  it('filters on the update window with items and money inline, marketplaces comma-separated', () => {
    const query = searchOrdersQuery({ ...window, marketplaceIds: ['ATVPDKIKX0DER', 'A2EUQ1WTGCTBG2'] });
    expect(query).toBe(
      'lastUpdatedAfter=2026-02-01T00%3A00%3A00.000Z&lastUpdatedBefore=2026-02-01T06%3A00%3A00.000Z' +
        '&marketplaceIds=ATVPDKIKX0DER,A2EUQ1WTGCTBG2' +
        '&includedData=BUYER,RECIPIENT,PROCEEDS,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES&maxResultsPerPage=100',
    );
  });

  it.each([
    ['a plain token', '2YgYW55IGNhcm5hbCBwbGVhc3VyZS4', '2YgYW55IGNhcm5hbCBwbGVhc3VyZS4'],
    ['a token with + / =', 'ab+cd/ef==', 'ab%2Bcd%2Fef%3D%3D'],
    ['a token already containing %', 'a%2Bb', 'a%252Bb'],
    ['a token with spaces', 'a b', 'a%20b'],
  ])('encodes %s exactly once', (_name, token, encoded) => {
    const query = searchOrdersQuery({ ...window, marketplaceIds: ['ATVPDKIKX0DER'], token });
    expect(query.endsWith(`&paginationToken=${encoded}`)).toBe(true);
    expect(new URLSearchParams(query).get('paginationToken')).toBe(token);
  });

  it.each([
    [{ pagination: { nextToken: 'T1' } }, 'T1'],
    [{ pagination: {} }, null],
    [{ pagination: { nextToken: '' } }, null],
    [{ orders: [] }, null],
    [null, null],
  ])('reads the next token of %j', (body, token) => {
    expect(searchOrdersNextToken(body)).toBe(token);
  });
});

describe('Amazon Orders v0 query', () => {
  it('uses the PascalCase parameters and NextToken', () => {
    const query = getOrdersV0Query({
      ...window,
      marketplaceIds: ['ATVPDKIKX0DER'],
      pageSize: 20,
      token: 'x+y=',
    });
    expect(Object.fromEntries(new URLSearchParams(query))).toEqual({
      MarketplaceIds: 'ATVPDKIKX0DER',
      LastUpdatedAfter: window.from,
      LastUpdatedBefore: window.to,
      MaxResultsPerPage: '20',
      NextToken: 'x+y=',
    });
    expect(v0NextToken({ payload: { NextToken: 'N2', Orders: [] } })).toBe('N2');
    expect(v0NextToken({ payload: { Orders: [] } })).toBeNull();
  });
});
