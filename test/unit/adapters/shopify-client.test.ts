import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../../src/adapters/resilience/platform-error.js';
import { shopifyManifest } from '../../../src/adapters/shopify/index.js';
import { ValidationError } from '../../../src/core/errors.js';
import {
  assertAllCalled,
  caught,
  collect,
  connectionReset,
  createAdapter,
  harness,
} from './fixtures/harness.js';
import { shopifyOrder } from './fixtures/shopify.js';

const SHOP = 'https://jsmith.myshopify.com';
const API = '/admin/api/2025-07';
const window = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' };
const staticAccount = {
  id: 'shop-1',
  credentials: { accessToken: 'shpat_static' },
  options: { shopDomain: 'jsmith', locationId: 655441491 },
};
const link = (rels: [string, string][]) =>
  rels
    .map(([rel, info]) => `<${SHOP}${API}/orders.json?limit=250&page_info=${info}>; rel="${rel}"`)
    .join(', ');
const callLimit = { 'X-Shopify-Shop-Api-Call-Limit': '1/40' };

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  assertAllCalled();
});

describe('Shopify client: listing orders', () => {
  it('pages through Link rel="next" only, sending only limit and page_info after the first page', async () => {
    const h = harness('shopify', 'shop-1');
    const bad = shopifyOrder({ id: 3, total_price: 'twelve' });
    nock(SHOP)
      .get(`${API}/orders.json`)
      .query({ status: 'any', limit: '250', updated_at_min: window.from, updated_at_max: window.to })
      .matchHeader('x-shopify-access-token', 'shpat_static')
      .reply(200, { orders: [shopifyOrder({ id: 1 })] }, { ...callLimit, Link: link([['next', 'p2']]) })
      .get(`${API}/orders.json`)
      .query({ limit: '250', page_info: 'p2' })
      .reply(
        200,
        { orders: [shopifyOrder({ id: 2 }), bad] },
        {
          Link: link([
            ['previous', 'p1'],
            ['next', 'p3'],
          ]),
        },
      )
      .get(`${API}/orders.json`)
      .query({ limit: '250', page_info: 'p3' })
      .reply(200, { orders: [shopifyOrder({ id: 4 })] }, { Link: link([['previous', 'p2']]) });

    const pages = await collect(createAdapter(shopifyManifest, h, staticAccount).listOrders(window));
    expect(pages.map((page) => page.nextCursor)).toEqual(['p2', 'p3', null]);
    expect(pages.flatMap((page) => page.orders.map((order) => order.platformOrderId))).toEqual([
      '1',
      '2',
      '4',
    ]);
    expect(pages[1]?.rejected[0]?.platformOrderId).toBe('3');
    expect(pages[1]?.rejected[0]?.error.issues[0]?.path).toBe('shopify.orders[1].total_price');
    expect(pages[0]?.orders[0]?.marketplace).toBe('jsmith.myshopify.com');
  });

  it('resumes from a cursor with page_info alone', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .get(`${API}/orders.json`)
      .query({ limit: '50', page_info: 'resume' })
      .reply(200, { orders: [] });
    const pages = await collect(
      createAdapter(shopifyManifest, h, staticAccount).listOrders({
        ...window,
        cursor: 'resume',
        pageSize: 50,
      }),
    );
    expect(pages).toEqual([{ orders: [], rejected: [], nextCursor: null }]);
  });

  it('waits at least Retry-After after a 429 and empties the bucket for that long', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .get(`${API}/orders.json`)
      .query(true)
      .reply(
        429,
        {
          errors:
            'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
        },
        { 'Retry-After': '2.0' },
      )
      .get(`${API}/orders.json`)
      .query(true)
      .reply(200, { orders: [shopifyOrder()] });
    const pages = await collect(createAdapter(shopifyManifest, h, staticAccount).listOrders(window));
    expect(pages[0]?.orders).toHaveLength(1);
    expect(h.penalties).toEqual([{ operation: 'orders.json', ms: 2000 }]);
    expect(h.sleeps).toHaveLength(1);
    expect(h.sleeps[0]).toBeGreaterThanOrEqual(2000);
  });

  it('retries 5xx and dropped connections on reads', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .get(`${API}/orders.json`)
      .query(true)
      .reply(503, { errors: 'Service Unavailable' })
      .get(`${API}/orders.json`)
      .query(true)
      .replyWithError(connectionReset())
      .get(`${API}/orders.json`)
      .query(true)
      .reply(200, { orders: [shopifyOrder()] });
    const pages = await collect(createAdapter(shopifyManifest, h, staticAccount).listOrders(window));
    expect(pages[0]?.orders).toHaveLength(1);
    expect(h.sleeps).toHaveLength(2);
  });

  it('repeats a 401 once; a static token rejected again is a configuration error', async () => {
    const h = harness('shopify', 'shop-1');
    const invalid = {
      errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
    };
    nock(SHOP).get(`${API}/orders.json`).query(true).times(2).reply(401, invalid);
    const error = await caught(collect(createAdapter(shopifyManifest, h, staticAccount).listOrders(window)));
    expect(error).toBeInstanceOf(PlatformError);
    expect(error).toMatchObject({ code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', retriable: false });
    expect(h.scheduled).toEqual(['orders.json', 'orders.json']);
  });

  it('refreshes an expiring token after a 401 and repeats the call with the new one', async () => {
    const h = harness('shopify', 'shop-2');
    const tokens = ['shpat_first', 'shpat_second'];
    nock(SHOP)
      .post(
        '/admin/oauth/access_token',
        (body) => body.grant_type === 'refresh_token' && body.refresh_token === 'shprt_1',
      )
      .times(2)
      .reply(200, () => ({ access_token: tokens.shift(), expires_in: 3600, refresh_token: 'shprt_1' }))
      .get(`${API}/orders.json`)
      .query(true)
      .matchHeader('x-shopify-access-token', 'shpat_first')
      .reply(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' })
      .get(`${API}/orders.json`)
      .query(true)
      .matchHeader('x-shopify-access-token', 'shpat_second')
      .reply(200, { orders: [shopifyOrder()] });
    const adapter = createAdapter(shopifyManifest, h, {
      id: 'shop-2',
      credentials: { refreshToken: 'shprt_1', clientId: 'app-id', clientSecret: 'app-secret' },
      options: { shopDomain: 'jsmith.myshopify.com' },
    });
    const pages = await collect(adapter.listOrders(window));
    expect(pages[0]?.orders).toHaveLength(1);
  });

  it('does not retry an access-denied 403', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .get(`${API}/orders.json`)
      .query(true)
      .reply(403, { errors: 'This action requires merchant approval for read_orders scope.' });
    const error = await caught(collect(createAdapter(shopifyManifest, h, staticAccount).listOrders(window)));
    expect(error).toMatchObject({ code: 'TRADECTL_PLATFORM_AUTH', kind: 'config' });
    expect(h.sleeps).toEqual([]);
  });
});

describe('Shopify client: single orders and writes', () => {
  it('fetches one order and answers null for an unknown one', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .get(`${API}/orders/450789469.json`)
      .reply(200, { order: shopifyOrder() })
      .get(`${API}/orders/1.json`)
      .reply(404, { errors: 'Not Found' });
    const adapter = createAdapter(shopifyManifest, h, staticAccount);
    expect((await adapter.getOrder({ platformOrderId: '450789469' }))?.status).toBe('paid');
    expect(await adapter.getOrder({ platformOrderId: '1' })).toBeNull();
  });

  it('sets the available quantity at the configured location', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .post(`${API}/inventory_levels/set.json`, {
        location_id: 655441491,
        inventory_item_id: 808950810,
        available: 7,
      })
      .reply(200, { inventory_level: { available: 7 } }, { 'X-Request-Id': 'req-9' });
    const outcome = await createAdapter(shopifyManifest, h, staticAccount).updateInventory({
      sku: 'IPOD2008GREEN',
      listingId: '808950810',
      quantity: 7,
      idempotencyKey: 'k1',
    });
    expect(outcome).toEqual({ status: 'applied', platformRequestId: 'req-9' });
  });

  it('rejects a 422 as data, without retrying', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .post(`${API}/inventory_levels/set.json`)
      .reply(422, { errors: { available: ['must be less than 1000000000'] } });
    const error = await caught(
      createAdapter(shopifyManifest, h, staticAccount).updateInventory({
        sku: 's',
        listingId: '1',
        quantity: 1_000_000_000,
        idempotencyKey: 'k',
      }),
    );
    expect(error).toMatchObject({ code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data', retriable: false });
    expect(h.sleeps).toEqual([]);
  });

  it('needs the inventory item id to set inventory', async () => {
    const h = harness('shopify', 'shop-1');
    const error = await caught(
      createAdapter(shopifyManifest, h, staticAccount).updateInventory({
        sku: 's',
        quantity: 1,
        idempotencyKey: 'k',
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe('listingId');
  });

  it('fulfils the requested lines on the open fulfillment orders with tracking', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .get(`${API}/orders/450789469/fulfillment_orders.json`)
      .reply(200, {
        fulfillment_orders: [
          {
            id: 1,
            status: 'closed',
            line_items: [{ id: 11, line_item_id: 466157049, fulfillable_quantity: 0 }],
          },
          {
            id: 2,
            status: 'open',
            line_items: [
              { id: 21, line_item_id: 466157049, fulfillable_quantity: 1 },
              { id: 22, line_item_id: 518995019, fulfillable_quantity: 2 },
            ],
          },
        ],
      })
      .post(`${API}/fulfillments.json`, {
        fulfillment: {
          line_items_by_fulfillment_order: [
            { fulfillment_order_id: 2, fulfillment_order_line_items: [{ id: 22, quantity: 2 }] },
          ],
          tracking_info: { number: '1Z999', company: 'UPS' },
          notify_customer: false,
        },
      })
      .reply(201, { fulfillment: { id: 255858046, status: 'success' } });
    const outcome = await createAdapter(shopifyManifest, h, staticAccount).submitTracking({
      platformOrderId: '450789469',
      carrier: 'UPS',
      trackingNumber: '1Z999',
      shippedAt: '2026-01-03T10:00:00.000Z',
      lines: [{ lineId: '518995019', quantity: 2 }],
      idempotencyKey: 'ship-1',
    });
    expect(outcome).toEqual({ status: 'applied', platformRequestId: '255858046' });
  });

  it('reports a fulfillment sent without an answer as indeterminate and does not repeat it', async () => {
    const h = harness('shopify', 'shop-1');
    nock(SHOP)
      .get(`${API}/orders/450789469/fulfillment_orders.json`)
      .reply(200, { fulfillment_orders: [{ id: 2, status: 'open', line_items: [] }] })
      .post(`${API}/fulfillments.json`)
      .replyWithError(connectionReset());
    const outcome = await createAdapter(shopifyManifest, h, staticAccount).submitTracking({
      platformOrderId: '450789469',
      carrier: 'UPS',
      trackingNumber: '1Z999',
      shippedAt: '2026-01-03T10:00:00.000Z',
      idempotencyKey: 'ship-2',
    });
    expect(outcome.status).toBe('indeterminate');
    expect(h.scheduled.filter((operation) => operation === 'fulfillments.json')).toHaveLength(1);
  });
});

describe('Shopify manifest', () => {
  it('names every missing field of an account', () => {
    const issues = shopifyManifest.validateOptions({
      platform: 'shopify',
      id: 'x',
      userId: '1',
      enabled: true,
      credentials: {},
      options: { apiVersion: 'latest', locationId: 'main' },
    });
    expect(issues.map((issue) => issue.path)).toEqual([
      'credentials.accessToken',
      'options.shopDomain',
      'options.apiVersion',
      'options.locationId',
    ]);
  });
});
