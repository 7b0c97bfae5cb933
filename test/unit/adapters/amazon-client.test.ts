import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { amazonManifest } from '../../../src/adapters/amazon/index.js';
import type { PlatformError } from '../../../src/adapters/resilience/platform-error.js';
import { ValidationError } from '../../../src/core/errors.js';
import { exampleOrder, getOrderExamples, pendingOrder, v0Examples } from './fixtures/amazon.js';
import {
  assertAllCalled,
  caught,
  collect,
  connectionReset,
  createAdapter,
  harness,
} from './fixtures/harness.js';

const SP = 'https://sp.sandbox.test';
const LWA = 'https://lwa.sandbox.test';
const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const window = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T11:00:00.000Z' };
const accountRaw = {
  id: 'amz-1',
  baseUrl: SP,
  tokenUrl: `${LWA}/auth/o2/token`,
  credentials: {
    clientId: 'amzn1.application-oa2-client.x',
    clientSecret: 'lwa-secret',
    refreshToken: 'Atzr|refresh',
  },
  options: { marketplaceIds: ['ATVPDKIKX0DER'], sellerId: 'A2SELLER', region: 'na' },
};
const expired = {
  errors: [
    {
      code: 'Unauthorized',
      message: 'Access to requested resource is denied.',
      details: 'The access token you provided has expired.',
    },
  ],
};
const quota = {
  errors: [{ code: 'QuotaExceeded', message: 'You exceeded your quota for the requested resource.' }],
};

function lwa(tokens: string[]) {
  return nock(LWA)
    .post(
      '/auth/o2/token',
      (body) =>
        body.grant_type === 'refresh_token' &&
        body.refresh_token === 'Atzr|refresh' &&
        body.client_id === 'amzn1.application-oa2-client.x' &&
        body.client_secret === 'lwa-secret',
    )
    .times(tokens.length)
    .reply(200, () => ({ access_token: tokens.shift(), token_type: 'bearer', expires_in: 3600 }));
}

const adapter = (raw: Record<string, unknown> = accountRaw) => {
  const h = harness('amazon', 'amz-1', () => NOW);
  return { h, amazon: createAdapter(amazonManifest, h, raw) };
};

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  assertAllCalled();
});

describe('Amazon client: searchOrders', () => {
  it('pages with nextToken encoded exactly once, filters repeated, items inline', async () => {
    lwa(['Atza|one']);
    const second = exampleOrder();
    second.orderId = '123-4567890-0000002';
    nock(SP)
      .get('/orders/2026-01-01/orders')
      .query({
        lastUpdatedAfter: window.from,
        lastUpdatedBefore: window.to,
        marketplaceIds: 'ATVPDKIKX0DER',
        includedData: 'BUYER,RECIPIENT,PROCEEDS,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES',
        maxResultsPerPage: '100',
      })
      .matchHeader('x-amz-access-token', 'Atza|one')
      .reply(
        200,
        { orders: [exampleOrder()], pagination: { nextToken: 'tok+en/2==' } },
        { 'x-amzn-RateLimit-Limit': '0.0056' },
      )
      .get(
        (uri) =>
          uri.startsWith('/orders/2026-01-01/orders?') && uri.endsWith('&paginationToken=tok%2Ben%2F2%3D%3D'),
      )
      .reply(200, { orders: [second, pendingOrder()], lastUpdatedBefore: window.to });
    const { h, amazon } = adapter();
    const pages = await collect(amazon.listOrders(window));
    expect(pages.map((page) => page.nextCursor)).toEqual(['tok+en/2==', null]);
    expect(pages.flatMap((page) => page.orders.map((order) => order.platformOrderId))).toEqual([
      '123-4567890-1234567',
      '123-4567890-0000002',
      '203-0000000-0000001',
    ]);
    expect(h.corrections[0]).toEqual({ operation: 'searchOrders', correction: { ratePerSecond: 0.0056 } });
  });

  it('refuses a window ending less than two minutes ago without calling Amazon', async () => {
    const { amazon } = adapter();
    const error = await caught(
      collect(amazon.listOrders({ from: window.from, to: '2026-03-01T11:59:00.000Z' })),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe('to');
  });

  it('refreshes the LWA token after a 403 "expired" and repeats the call once', async () => {
    lwa(['Atza|old', 'Atza|new']);
    nock(SP)
      .get('/orders/2026-01-01/orders')
      .query(true)
      .matchHeader('x-amz-access-token', 'Atza|old')
      .reply(403, expired)
      .get('/orders/2026-01-01/orders')
      .query(true)
      .matchHeader('x-amz-access-token', 'Atza|new')
      .reply(200, { orders: [exampleOrder()] });
    const { h, amazon } = adapter();
    const pages = await collect(amazon.listOrders(window));
    expect(pages[0]?.orders).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
  });

  it('backs off after 429 QuotaExceeded and empties the operation bucket', async () => {
    lwa(['Atza|one']);
    nock(SP)
      .get('/orders/2026-01-01/orders')
      .query(true)
      .reply(429, quota)
      .get('/orders/2026-01-01/orders')
      .query(true)
      .reply(200, { orders: [] });
    const { h, amazon } = adapter();
    await collect(amazon.listOrders(window));
    expect(h.penalties).toEqual([{ operation: 'searchOrders', ms: undefined }]);
    expect(h.sleeps).toHaveLength(1);
  });

  it('retries 500 and 503, not 400 InvalidInput', async () => {
    lwa(['Atza|one']);
    nock(SP)
      .get('/orders/2026-01-01/orders')
      .query(true)
      .reply(500, { errors: [{ code: 'InternalFailure', message: 'internal' }] })
      .get('/orders/2026-01-01/orders')
      .query(true)
      .reply(503, { errors: [] })
      .get('/orders/2026-01-01/orders')
      .query(true)
      .reply(400, { errors: [{ code: 'InvalidInput', message: 'We could not decode your NextToken.' }] });
    const { h, amazon } = adapter();
    const error = await caught(collect(amazon.listOrders(window)));
    expect(error).toMatchObject({ code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data', retriable: false });
    expect((error as PlatformError).message).toContain('We could not decode your NextToken');
    expect(h.sleeps).toHaveLength(2);
  });

  it('stops the account with a re-authorisation hint when LWA says invalid_grant', async () => {
    nock(LWA).post('/auth/o2/token').reply(400, {
      error: 'invalid_grant',
      error_description: 'The request has an invalid grant parameter',
    });
    const { amazon } = adapter();
    const error = await caught(collect(amazon.listOrders(window)));
    expect(error).toMatchObject({ code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', retriable: false });
    expect((error as PlatformError).hint).toMatch(/re-authorise/);
  });
});

describe('Amazon client: getOrder and writes', () => {
  it('fetches an order with the same datasets and answers null for a 404', async () => {
    lwa(['Atza|one']);
    const [example] = getOrderExamples();
    nock(SP)
      .get('/orders/2026-01-01/orders/202-1234567-8901234')
      .query({ includedData: 'BUYER,RECIPIENT,PROCEEDS,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES' })
      .reply(200, example)
      .get('/orders/2026-01-01/orders/000-0000000-0000000')
      .query(true)
      .reply(404, { errors: [{ code: 'NotFound', message: 'Order not found' }] });
    const { amazon } = adapter();
    expect((await amazon.getOrder({ platformOrderId: '202-1234567-8901234' }))?.currency).toBe('GBP');
    expect(await amazon.getOrder({ platformOrderId: '000-0000000-0000000' })).toBeNull();
  });

  it('patches the fulfillment_availability quantity of the listing', async () => {
    lwa(['Atza|one']);
    nock(SP)
      .patch('/listings/2021-08-01/items/A2SELLER/MUG-1', {
        productType: 'PRODUCT',
        patches: [
          {
            op: 'replace',
            path: '/attributes/fulfillment_availability',
            value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 12 }],
          },
        ],
      })
      .query({ marketplaceIds: 'ATVPDKIKX0DER', includedData: 'issues' })
      .reply(200, { sku: 'MUG-1', status: 'ACCEPTED', submissionId: 'f1dc2914', issues: [] })
      .patch('/listings/2021-08-01/items/A2SELLER/BAD')
      .query(true)
      .reply(200, {
        sku: 'BAD',
        status: 'INVALID',
        submissionId: 'a1c5',
        issues: [
          { code: '90000900', message: 'The attributes are invalid.', severity: 'ERROR', categories: [] },
        ],
      });
    const { amazon } = adapter();
    expect(await amazon.updateInventory({ sku: 'MUG-1', quantity: 12, idempotencyKey: 'k' })).toEqual({
      status: 'applied',
      platformRequestId: 'f1dc2914',
    });
    const error = await caught(amazon.updateInventory({ sku: 'BAD', quantity: 1, idempotencyKey: 'k2' }));
    expect(error).toMatchObject({ code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data' });
  });

  it('confirms a shipment with a package reference derived from the idempotency key', async () => {
    lwa(['Atza|one']);
    let sent: Record<string, unknown> | undefined;
    nock(SP)
      .post('/orders/v0/orders/123-4567890-1234567/shipmentConfirmation', (body) => {
        sent = body;
        return true;
      })
      .times(2)
      .reply(204, '', { 'x-amzn-RequestId': 'req-1' });
    const { amazon } = adapter();
    const input = {
      platformOrderId: '123-4567890-1234567',
      carrier: 'UPS',
      trackingNumber: '1Z999AA1',
      shippedAt: '2026-03-01T10:00:00.000Z',
      lines: [{ lineId: '12345678901234', quantity: 2 }],
      idempotencyKey: 'ship-123',
    };
    expect(await amazon.submitTracking(input)).toEqual({ status: 'applied', platformRequestId: 'req-1' });
    const first = structuredClone(sent);
    await amazon.submitTracking(input);
    expect(sent).toEqual(first);
    expect(first).toMatchObject({
      marketplaceId: 'ATVPDKIKX0DER',
      packageDetail: {
        packageReferenceId: expect.stringMatching(/^[1-9]\d*$/),
        carrierCode: 'UPS',
        trackingNumber: '1Z999AA1',
        shipDate: '2026-03-01T10:00:00.000Z',
        orderItems: [{ orderItemId: '12345678901234', quantity: 2 }],
      },
    });
  });

  it('records a confirmation sent without an answer as indeterminate', async () => {
    lwa(['Atza|one']);
    nock(SP)
      .post('/orders/v0/orders/123-4567890-1234567/shipmentConfirmation')
      .replyWithError(connectionReset());
    const { h, amazon } = adapter();
    const outcome = await amazon.submitTracking({
      platformOrderId: '123-4567890-1234567',
      carrier: 'UPS',
      trackingNumber: '1Z',
      shippedAt: '2026-03-01T10:00:00.000Z',
      lines: [{ lineId: '12345678901234', quantity: 1 }],
      idempotencyKey: 'ship-9',
    });
    expect(outcome.status).toBe('indeterminate');
    expect(h.sleeps).toEqual([]);
  });
});

describe('Amazon client: deprecated Orders v0', () => {
  it('lists getOrders pages and fetches each order’s items', async () => {
    lwa(['Atza|one']);
    const { order, items } = v0Examples();
    order.PurchaseDate = '2026-03-01T01:00:00Z';
    order.LastUpdateDate = '2026-03-01T02:00:00Z';
    nock(SP)
      .get('/orders/v0/orders')
      .query({
        MarketplaceIds: 'ATVPDKIKX0DER',
        LastUpdatedAfter: window.from,
        LastUpdatedBefore: window.to,
        MaxResultsPerPage: '100',
      })
      .reply(200, { payload: { Orders: [order], NextToken: 'v0/next=' } })
      .get('/orders/v0/orders/902-1845936-5435065/orderItems')
      .reply(200, {
        payload: { AmazonOrderId: '902-1845936-5435065', OrderItems: items.slice(0, 1), NextToken: 'i2' },
      })
      .get('/orders/v0/orders/902-1845936-5435065/orderItems')
      .query({ NextToken: 'i2' })
      .reply(200, { payload: { AmazonOrderId: '902-1845936-5435065', OrderItems: [] } })
      .get((uri) => uri.startsWith('/orders/v0/orders?') && uri.endsWith('NextToken=v0%2Fnext%3D'))
      .reply(200, { payload: { Orders: [] } });
    const { amazon } = adapter({ ...accountRaw, options: { ...accountRaw.options, ordersApi: 'v0' } });
    const pages = await collect(amazon.listOrders(window));
    expect(pages.map((page) => page.nextCursor)).toEqual(['v0/next=', null]);
    expect(pages[0]?.orders[0]).toMatchObject({ platformOrderId: '902-1845936-5435065', status: 'paid' });
    expect(pages[0]?.orders[0]?.lines).toHaveLength(1);
  });
});

describe('Amazon manifest', () => {
  it('names every missing credential and option', () => {
    const issues = amazonManifest.validateOptions({
      platform: 'amazon',
      id: 'a',
      userId: '1',
      enabled: true,
      credentials: {},
      options: { region: 'us', ordersApi: 'v1' },
    });
    expect(issues.map((issue) => issue.path)).toEqual([
      'credentials.clientId',
      'credentials.clientSecret',
      'credentials.refreshToken',
      'options.marketplaceIds',
      'options.region',
      'options.ordersApi',
    ]);
  });
});
