import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type Sandbox, type SandboxAccount, startSandbox } from '../../src/sandbox/index.js';
import { ALL_AMAZON_DATA, accountOf, amazonToken, call, type Received } from '../helpers/sandbox-client.js';

const START = Date.parse('2026-03-01T12:00:00.000Z');

describe('sandbox: Amazon SP-API Orders 2026-01-01', { timeout: 60_000 }, () => {
  let sandbox: Sandbox;
  let clock: ManualClock;
  let seller: SandboxAccount;
  let token: string;
  let search: string;

  beforeAll(async () => {
    clock = new ManualClock(START);
    sandbox = await startSandbox({
      port: 0,
      seed: 5,
      ordersPerAccount: 800,
      accounts: 'amazon:3',
      clock,
      tokenLifetimeSec: { amazon: 600 },
      // The clock stands still, so buckets would never refill: these tests are not about limits.
      limits: { amazon: { searchOrders: { kind: 'bucket', rate: 0.0056, burst: 100_000 } } },
    });
    seller = accountOf(sandbox, 'amazon');
    token = await amazonToken(seller);
    search = `${seller.baseUrl}/orders/2026-01-01/orders`;
  });
  afterAll(() => sandbox.close());

  const get = (url: string, accessToken = token) =>
    call(url, { headers: { 'x-amz-access-token': accessToken } });

  it('issues LWA tokens for the right client and refuses a wrong secret or a revoked grant', async () => {
    expect(token).toMatch(/^Atza\|/);
    const form = (secret: string) =>
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: seller.credentials.refreshToken!,
        client_id: seller.credentials.clientId!,
        client_secret: secret,
      }).toString();
    const wrong = await call(seller.tokenUrl!, {
      method: 'POST',
      body: form('nope'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const other = accountOf(sandbox, 'amazon', 2);
    sandbox.revokeGrant('amazon', other.account);
    await expect(amazonToken(other)).rejects.toThrow(/invalid_grant/);
    sandbox.restoreGrant('amazon', other.account);
    await expect(amazonToken(other)).resolves.toMatch(/^Atza\|/);
  });

  it('pages with nextToken through a lastUpdated window, returning every order exactly once', async () => {
    const after = '2026-02-01T00:00:00Z';
    const before = '2026-02-27T00:00:00Z';
    const ids: string[] = [];
    let url = `${search}?lastUpdatedAfter=${after}&lastUpdatedBefore=${before}&marketplaceIds=${seller.marketplaceId}&maxResultsPerPage=50&includedData=FULFILLMENT`;
    let pages = 0;
    for (;;) {
      const page = await get(url);
      expect(page.status).toBe(200);
      expect(page.body.lastUpdatedBefore).toBe(before);
      ids.push(...page.body.orders.map((order: { orderId: string }) => order.orderId));
      pages++;
      const next = page.body.pagination?.nextToken;
      if (!next) break;
      expect(next).toMatch(/\+/);
      expect(next).toMatch(/\//);
      expect(next).toMatch(/=$/);
      url = `${search}?paginationToken=${encodeURIComponent(next)}&maxResultsPerPage=50&includedData=FULFILLMENT`;
    }
    const truth = sandbox
      .groundTruth('amazon', seller.account)
      .filter(
        (order) => (order.lastUpdatedTime as string) >= after && (order.lastUpdatedTime as string) <= before,
      )
      .map((order) => order.orderId as string);
    expect(truth.length).toBeGreaterThan(100);
    expect(pages).toBe(Math.ceil(truth.length / 50));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...truth].sort());
  });

  it('refuses a nextToken that was not percent-encoded', async () => {
    const first = await get(`${search}?lastUpdatedAfter=2026-01-01T00:00:00Z&maxResultsPerPage=5`);
    const raw = first.body.pagination.nextToken as string;
    const refused = await get(`${search}?paginationToken=${raw}`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].code).toBe('InvalidInput');
    expect(refused.body.errors[0].message).toMatch(/could not decode your NextToken/);
    expect(refused.headers.get('x-amzn-ratelimit-limit')).toBe('0.0056');
  });

  it('enforces the two-minute rule on lastUpdatedBefore and echoes the bound it used', async () => {
    const tooLate = new Date(clock.now() - 60_000).toISOString();
    const refused = await get(`${search}?lastUpdatedAfter=2026-02-01T00:00:00Z&lastUpdatedBefore=${tooLate}`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].code).toBe('InvalidInput');
    const open = await get(`${search}?lastUpdatedAfter=2026-02-28T00:00:00Z`);
    expect(open.status).toBe(200);
    expect(open.body.lastUpdatedBefore).toBe(
      new Date(clock.now() - 120_000).toISOString().replace('.000Z', 'Z'),
    );
    const mixed = await get(
      `${search}?createdAfter=2026-02-01T00:00:00Z&lastUpdatedBefore=2026-02-02T00:00:00Z`,
    );
    expect(mixed.status).toBe(400);
    const neither = await get(search);
    expect(neither.status).toBe(400);
  });

  it('renders the model shape: status in fulfillment, money {amount, currencyCode}, no prices while pending', async () => {
    const page = await get(
      `${search}?createdAfter=2026-01-01T00:00:00Z&maxResultsPerPage=100&includedData=${ALL_AMAZON_DATA}`,
    );
    const orders = page.body.orders as Received['body'][];
    const shipped = orders.find((order) => order.fulfillment.fulfillmentStatus === 'SHIPPED')!;
    expect(shipped.orderId).toMatch(/^\d{3}-\d{7}-\d{7}$/);
    expect(shipped.lastUpdatedTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(shipped.proceeds.grandTotal).toEqual({
      amount: expect.stringMatching(/^\d+\.\d{2}$/),
      currencyCode: 'USD',
    });
    expect(shipped.orderItems[0].product.price.unitPrice.currencyCode).toBe('USD');
    expect(shipped.packages.length).toBeGreaterThan(0);
    expect(shipped.recipient.deliveryAddress.countryCode).toBe('US');
    const pending = orders.find((order) => order.fulfillment.fulfillmentStatus === 'PENDING')!;
    expect(pending.proceeds).toBeUndefined();
    expect(pending.orderItems[0].product.price).toBeUndefined();
    expect(pending.recipient).toBeUndefined();
    const lean = await get(`${search}?createdAfter=2026-01-01T00:00:00Z&maxResultsPerPage=1`);
    expect(lean.body.orders[0].fulfillment).toBeUndefined();
    const japan = accountOf(sandbox, 'amazon', 2);
    const yen = await get(
      `${search}?createdAfter=2026-01-01T00:00:00Z&includedData=PROCEEDS,FULFILLMENT&fulfillmentStatuses=SHIPPED&maxResultsPerPage=1`,
      await amazonToken(japan),
    );
    expect(yen.body.orders[0].proceeds.grandTotal.amount).toMatch(/^\d+$/);
    expect(yen.body.orders[0].proceeds.grandTotal.currencyCode).toBe('JPY');
  });

  it('answers an expired token with 403 and the exact details clients key their refresh on', async () => {
    const short = await amazonToken(seller);
    clock.advance(601_000);
    const expired = await get(`${search}?lastUpdatedAfter=2026-02-01T00:00:00Z`, short);
    expect(expired.status).toBe(403);
    expect(expired.body.errors[0]).toMatchObject({
      code: 'Unauthorized',
      details: 'The access token you provided has expired.',
    });
    expect(expired.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(expired.headers.get('x-amzn-ratelimit-limit')).toBeNull();
    const fresh = await amazonToken(seller);
    sandbox.expireTokens('amazon', seller.account);
    expect((await get(`${search}?lastUpdatedAfter=2026-02-01T00:00:00Z`, fresh)).status).toBe(403);
    const missing = await call(`${search}?lastUpdatedAfter=2026-02-01T00:00:00Z`);
    expect(missing.body.errors[0].code).toBe('MissingAuthenticationToken');
    token = await amazonToken(seller);
  });

  it('gets one order, confirms a shipment (204) that shows up as an update, and patches a listing', async () => {
    const unshipped = sandbox
      .groundTruth('amazon', seller.account)
      .find(
        (order) => (order.fulfillment as { fulfillmentStatus: string }).fulfillmentStatus === 'UNSHIPPED',
      )!;
    const one = await get(`${search}/${unshipped.orderId}?includedData=FULFILLMENT`);
    expect(one.body.order.orderId).toBe(unshipped.orderId);
    clock.advance(1000);
    const items = (unshipped.orderItems as { orderItemId: string; quantityOrdered: number }[]).map(
      (item) => ({
        orderItemId: item.orderItemId,
        quantity: item.quantityOrdered,
      }),
    );
    const confirm = () =>
      call(`${seller.baseUrl}/orders/v0/orders/${unshipped.orderId}/shipmentConfirmation`, {
        method: 'POST',
        headers: { 'x-amz-access-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({
          marketplaceId: seller.marketplaceId,
          packageDetail: {
            packageReferenceId: '1',
            carrierCode: 'UPS',
            trackingNumber: '1Z1',
            shipDate: new Date(clock.now()).toISOString(),
            orderItems: items,
          },
        }),
      });
    const confirmed = await confirm();
    expect(confirmed.status).toBe(204);
    const after = await get(`${search}/${unshipped.orderId}?includedData=FULFILLMENT,PACKAGES`);
    expect(after.body.order.fulfillment.fulfillmentStatus).toBe('SHIPPED');
    expect(after.body.order.packages.at(-1).trackingNumber).toBe('1Z1');
    // A retry of the same package (same packageReferenceId) is answered 204 and changes nothing.
    expect((await confirm()).status).toBe(204);
    const repeated = await get(`${search}/${unshipped.orderId}?includedData=PACKAGES`);
    expect(repeated.body.order.packages).toHaveLength(after.body.order.packages.length);

    const sku = (unshipped.orderItems as { product: { sellerSku: string } }[])[0]!.product.sellerSku;
    const patched = await call(
      `${seller.baseUrl}/listings/2021-08-01/items/${seller.sellerId}/${encodeURIComponent(sku)}?marketplaceIds=${seller.marketplaceId}`,
      {
        method: 'PATCH',
        headers: { 'x-amz-access-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({
          productType: 'PRODUCT',
          patches: [
            {
              op: 'replace',
              path: '/attributes/fulfillment_availability',
              value: [{ fulfillment_channel_code: 'DEFAULT', quantity: 3 }],
            },
          ],
        }),
      },
    );
    expect(patched.body).toMatchObject({ sku, status: 'ACCEPTED', issues: [] });
    expect(sandbox.inventory('amazon', seller.account)[sku]).toBe(3);
  });
});
