import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ebayManifest } from '../../../src/adapters/ebay/index.js';
import { ebayOrder, ebayPage } from './fixtures/ebay.js';
import {
  assertAllCalled,
  caught,
  collect,
  connectionReset,
  createAdapter,
  harness,
} from './fixtures/harness.js';

const API = 'https://ebay.sandbox.test';
const window = { from: '2026-03-02T00:00:00.000Z', to: '2026-03-02T12:00:00.000Z' };
const filter = `lastmodifieddate:[${window.from}..${window.to}]`;
const accountRaw = {
  id: 'ebay-uk',
  baseUrl: API,
  tokenUrl: `${API}/identity/v1/oauth2/token`,
  credentials: { clientId: 'App-Id', clientSecret: 'Cert-Id', refreshToken: 'v^1.1#refresh' },
};
const basic = `Basic ${Buffer.from('App-Id:Cert-Id').toString('base64')}`;
const ebayError = (errorId: number, message: string) => ({
  errors: [{ errorId, domain: errorId < 2000 ? 'OAuth' : 'API_FULFILLMENT', category: 'REQUEST', message }],
});

function identity(tokens: string[]) {
  return nock(API)
    .post(
      '/identity/v1/oauth2/token',
      (body) =>
        body.grant_type === 'refresh_token' &&
        body.refresh_token === 'v^1.1#refresh' &&
        body.scope ===
          'https://api.ebay.com/oauth/api_scope/sell.fulfillment https://api.ebay.com/oauth/api_scope/sell.inventory',
    )
    .matchHeader('authorization', basic)
    .times(tokens.length)
    .reply(200, () => ({ access_token: tokens.shift(), expires_in: 7200, token_type: 'User Access Token' }));
}

const adapter = () => {
  const h = harness('ebay', 'ebay-uk');
  return { h, ebay: createAdapter(ebayManifest, h, accountRaw) };
};

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  assertAllCalled();
});

describe('eBay client: getOrders', () => {
  it('pages by offset over the lastmodifieddate window until no next link', async () => {
    identity(['v^1.1#a']);
    const order = (id: string) => ebayOrder({ orderId: id });
    const broken = ebayOrder({ orderId: '12-00000-00004', creationDate: 'soon' });
    nock(API)
      .get('/sell/fulfillment/v1/order')
      .query({ filter, limit: '2', offset: '0' })
      .matchHeader('authorization', 'Bearer v^1.1#a')
      .reply(
        200,
        ebayPage([order('12-00000-00001'), order('12-00000-00002')], { offset: 0, limit: 2, total: 5 }),
      )
      .get('/sell/fulfillment/v1/order')
      .query({ filter, limit: '2', offset: '2' })
      .reply(200, ebayPage([order('12-00000-00003'), broken], { offset: 2, limit: 2, total: 5 }))
      .get('/sell/fulfillment/v1/order')
      .query({ filter, limit: '2', offset: '4' })
      .reply(200, ebayPage([order('12-00000-00005')], { offset: 4, limit: 2, total: 5 }));
    const { ebay } = adapter();
    const pages = await collect(ebay.listOrders({ ...window, pageSize: 2 }));
    expect(pages.map((page) => [page.nextCursor, page.total])).toEqual([
      ['2', 5],
      ['4', 5],
      [null, 5],
    ]);
    expect(pages.flatMap((page) => page.orders.map((o) => o.platformOrderId))).toEqual([
      '12-00000-00001',
      '12-00000-00002',
      '12-00000-00003',
      '12-00000-00005',
    ]);
    expect(pages[1]?.rejected[0]).toMatchObject({ platformOrderId: '12-00000-00004' });
    expect(pages[1]?.rejected[0]?.error.issues[0]?.path).toBe('ebay.orders[1].creationDate');
  });

  it('reads an empty window without an orders array', async () => {
    identity(['v^1.1#a']);
    nock(API)
      .get('/sell/fulfillment/v1/order')
      .query(true)
      .reply(200, { href: 'x', limit: 200, offset: 0, total: 0 });
    const { ebay } = adapter();
    expect(await collect(ebay.listOrders(window))).toEqual([
      { orders: [], rejected: [], nextCursor: null, total: 0 },
    ]);
  });

  it('refreshes after 401 errorId 1001 and repeats the call with the new token', async () => {
    identity(['v^1.1#old', 'v^1.1#new']);
    nock(API)
      .get('/sell/fulfillment/v1/order')
      .query(true)
      .matchHeader('authorization', 'Bearer v^1.1#old')
      .reply(401, ebayError(1001, 'Invalid access token'))
      .get('/sell/fulfillment/v1/order')
      .query(true)
      .matchHeader('authorization', 'Bearer v^1.1#new')
      .reply(200, ebayPage([ebayOrder()]));
    const { ebay } = adapter();
    expect((await collect(ebay.listOrders(window)))[0]?.orders).toHaveLength(1);
  });

  it('backs off after 429 errorId 2001', async () => {
    identity(['v^1.1#a']);
    nock(API)
      .get('/sell/fulfillment/v1/order')
      .query(true)
      .reply(429, ebayError(2001, 'Too many requests'))
      .get('/sell/fulfillment/v1/order')
      .query(true)
      .reply(200, ebayPage([]));
    const { h, ebay } = adapter();
    await collect(ebay.listOrders(window));
    expect(h.penalties).toEqual([{ operation: 'getOrders', ms: undefined }]);
    expect(h.sleeps).toHaveLength(1);
  });

  it('retries a 500 and a dropped connection, then fails a 400 as data', async () => {
    identity(['v^1.1#a']);
    nock(API)
      .get('/sell/fulfillment/v1/order')
      .query(true)
      .reply(500, ebayError(30500, 'System error'))
      .get('/sell/fulfillment/v1/order')
      .query(true)
      .replyWithError(connectionReset())
      .get('/sell/fulfillment/v1/order')
      .query(true)
      .reply(400, ebayError(30800, 'Invalid filter value'));
    const { h, ebay } = adapter();
    const error = await caught(collect(ebay.listOrders(window)));
    expect(error).toMatchObject({ code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data', retriable: false });
    expect(h.sleeps).toHaveLength(2);
  });

  it('refuses a cursor it did not issue', async () => {
    const { ebay } = adapter();
    const error = await caught(collect(ebay.listOrders({ ...window, cursor: 'page-two' })));
    expect(error).toMatchObject({ kind: 'data' });
  });
});

describe('eBay client: getOrder and writes', () => {
  it('fetches one order and answers null for a 404', async () => {
    identity(['v^1.1#a']);
    nock(API)
      .get('/sell/fulfillment/v1/order/12-03955-36441')
      .reply(200, ebayOrder())
      .get('/sell/fulfillment/v1/order/00-00000-00000')
      .reply(404, ebayError(32100, 'Invalid order ID'));
    const { ebay } = adapter();
    expect((await ebay.getOrder({ platformOrderId: '12-03955-36441' }))?.status).toBe('paid');
    expect(await ebay.getOrder({ platformOrderId: '00-00000-00000' })).toBeNull();
  });

  it('sets ship-to-home quantity and reports a failed SKU of a 207 as data', async () => {
    identity(['v^1.1#a']);
    nock(API)
      .post('/sell/inventory/v1/bulk_update_price_quantity', {
        requests: [{ sku: 'TEA-ASSAM-250', shipToLocationAvailability: { quantity: 40 } }],
      })
      .reply(200, { responses: [{ statusCode: 200, sku: 'TEA-ASSAM-250' }] })
      .post('/sell/inventory/v1/bulk_update_price_quantity')
      .reply(207, {
        responses: [
          { statusCode: 400, sku: 'GONE', errors: [{ errorId: 25709, message: 'Invalid value for sku' }] },
        ],
      });
    const { ebay } = adapter();
    expect(await ebay.updateInventory({ sku: 'TEA-ASSAM-250', quantity: 40, idempotencyKey: 'k' })).toEqual({
      status: 'applied',
    });
    const error = await caught(ebay.updateInventory({ sku: 'GONE', quantity: 1, idempotencyKey: 'k2' }));
    expect(error).toMatchObject({ code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data' });
  });

  it('ships every unfulfilled line when no lines are given, reading the fulfillment id from Location', async () => {
    identity(['v^1.1#a']);
    const raw = ebayOrder();
    raw.lineItems[1].lineItemFulfillmentStatus = 'FULFILLED';
    nock(API)
      .get('/sell/fulfillment/v1/order/12-03955-36441')
      .reply(200, raw)
      .post('/sell/fulfillment/v1/order/12-03955-36441/shipping_fulfillment', {
        lineItems: [{ lineItemId: '10000000000001', quantity: 3 }],
        shippedDate: '2026-03-03T08:00:00.000Z',
        shippingCarrierCode: 'ROYAL_MAIL',
        trackingNumber: 'RM123456789GB',
      })
      .reply(201, '', {
        Location: `${API}/sell/fulfillment/v1/order/12-03955-36441/shipping_fulfillment/9405509699937003457459`,
      });
    const { ebay } = adapter();
    const outcome = await ebay.submitTracking({
      platformOrderId: '12-03955-36441',
      carrier: 'ROYAL_MAIL',
      trackingNumber: 'RM123456789GB',
      shippedAt: '2026-03-03T08:00:00.000Z',
      idempotencyKey: 'ship-1',
    });
    expect(outcome).toEqual({ status: 'applied', platformRequestId: '9405509699937003457459' });
  });

  it('records a fulfillment sent without an answer as indeterminate, never repeated', async () => {
    identity(['v^1.1#a']);
    nock(API)
      .post('/sell/fulfillment/v1/order/12-03955-36441/shipping_fulfillment')
      .replyWithError(connectionReset());
    const { h, ebay } = adapter();
    const outcome = await ebay.submitTracking({
      platformOrderId: '12-03955-36441',
      carrier: 'ROYAL_MAIL',
      trackingNumber: 'RM1',
      shippedAt: '2026-03-03T08:00:00.000Z',
      lines: [{ lineId: '10000000000001', quantity: 1 }],
      idempotencyKey: 'ship-2',
    });
    expect(outcome.status).toBe('indeterminate');
    expect(h.sleeps).toEqual([]);
  });
});

describe('eBay manifest', () => {
  it('names every missing credential', () => {
    const issues = ebayManifest.validateOptions({
      platform: 'ebay',
      id: 'e',
      userId: '1',
      enabled: true,
      credentials: {},
      options: { scopes: ['sell.fulfillment'] },
    });
    expect(issues.map((issue) => issue.path)).toEqual([
      'credentials.clientId',
      'credentials.clientSecret',
      'credentials.refreshToken',
      'options.scopes',
    ]);
  });
});
