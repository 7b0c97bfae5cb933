import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type Sandbox, type SandboxAccount, startSandbox } from '../../src/sandbox/index.js';
import { accountOf, call, ebayToken } from '../helpers/sandbox-client.js';

const START = Date.parse('2026-03-01T12:00:00.000Z');

describe('sandbox: eBay Sell Fulfillment', { timeout: 60_000 }, () => {
  let sandbox: Sandbox;
  let clock: ManualClock;
  let seller: SandboxAccount;
  let token: string;
  let orders: string;

  beforeAll(async () => {
    clock = new ManualClock(START);
    sandbox = await startSandbox({ port: 0, seed: 3, ordersPerAccount: 900, accounts: 'ebay:2', clock });
    seller = accountOf(sandbox, 'ebay');
    token = await ebayToken(seller);
    orders = `${seller.baseUrl}/sell/fulfillment/v1/order`;
  });
  afterAll(() => sandbox.close());

  const get = (url: string, accessToken = token) =>
    call(url, { headers: { authorization: `Bearer ${accessToken}` } });
  const window = (from: string, to: string) => encodeURIComponent(`lastmodifieddate:[${from}..${to}]`);

  it('pages by offset through a lastmodifieddate window, returning every order exactly once', async () => {
    const from = '2026-02-05T00:00:00.000Z';
    const to = '2026-02-26T00:00:00.000Z';
    const ids: string[] = [];
    let url: string | undefined = `${orders}?filter=${window(from, to)}&limit=200`;
    let pages = 0;
    let total = -1;
    while (url) {
      const page = await get(url);
      expect(page.status).toBe(200);
      expect(page.body.href).toBe(url);
      total = page.body.total;
      ids.push(...page.body.orders.map((order: { orderId: string }) => order.orderId));
      if (pages > 0) expect(page.body.prev).toContain('offset=');
      pages++;
      url = page.body.next;
    }
    const truth = sandbox
      .groundTruth('ebay', seller.account)
      .filter(
        (order) => (order.lastModifiedDate as string) >= from && (order.lastModifiedDate as string) <= to,
      )
      .map((order) => order.orderId as string);
    expect(truth.length).toBeGreaterThan(300);
    expect(total).toBe(truth.length);
    expect(pages).toBe(Math.ceil(truth.length / 200));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...truth].sort());
  });

  it('renders the documented shape: {value, currency} money, ms-precision UTC times, status enums', async () => {
    const page = await get(
      `${orders}?filter=${window('2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z')}&limit=200`,
    );
    const order = page.body.orders[0];
    expect(order.orderId).toMatch(/^\d{2}-\d{5}-\d{5}$/);
    expect(order.lastModifiedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(order.pricingSummary.total).toEqual({
      value: expect.stringMatching(/^\d+\.\d{2}$/),
      currency: 'USD',
    });
    expect(order.cancelStatus.cancelRequests).toEqual([]);
    const values = (field: string) =>
      new Set(page.body.orders.map((entry: Record<string, unknown>) => entry[field]));
    expect(
      [...values('orderFulfillmentStatus')].every((value) =>
        ['NOT_STARTED', 'IN_PROGRESS', 'FULFILLED'].includes(value as string),
      ),
    ).toBe(true);
    expect(values('orderPaymentStatus').has('PAID')).toBe(true);
  });

  it('rejects a limit above 200 with errorId 31100 and bad filters with their documented ids', async () => {
    const tooMany = await get(`${orders}?limit=201`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]).toMatchObject({
      errorId: 31100,
      domain: 'API_FULFILLMENT',
      category: 'REQUEST',
    });
    expect((await get(`${orders}?filter=${encodeURIComponent('colour:[x..]')}`)).body.errors[0].errorId).toBe(
      30700,
    );
    expect(
      (await get(`${orders}?filter=${encodeURIComponent('lastmodifieddate:[yesterday..]')}`)).body.errors[0]
        .errorId,
    ).toBe(30810);
    expect(
      (await get(`${orders}?filter=${window('2026-02-02T00:00:00.000Z', '2026-02-01T00:00:00.000Z')}`)).body
        .errors[0].errorId,
    ).toBe(30840);
    expect(
      (await get(`${orders}?filter=${window('2026-02-02T00:00:00.000Z', '2027-01-01T00:00:00.000Z')}`)).body
        .errors[0].errorId,
    ).toBe(30850);
    const combo = encodeURIComponent('orderfulfillmentstatus:{NOT_STARTED|FULFILLED}');
    expect((await get(`${orders}?filter=${combo}`)).body.errors[0].errorId).toBe(30800);
  });

  it('filters by fulfilment status with the supported combinations', async () => {
    const filter = encodeURIComponent(
      'creationdate:[2026-01-01T00:00:00.000Z..],orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}',
    );
    const page = await get(`${orders}?filter=${filter}&limit=200`);
    expect(page.status).toBe(200);
    expect(page.body.orders.length).toBeGreaterThan(0);
    for (const order of page.body.orders) expect(order.orderFulfillmentStatus).not.toBe('FULFILLED');
  });

  it('answers an expired token with 401 errorId 1001 and issues tokens only for the right client', async () => {
    sandbox.expireTokens('ebay', seller.account);
    const expired = await get(`${orders}?limit=1`);
    expect(expired.status).toBe(401);
    expect(expired.body.errors[0]).toMatchObject({ errorId: 1001, message: 'Invalid access token' });
    const wrongClient = await call(seller.tokenUrl!, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('someone:else').toString('base64')}` },
      body: 'grant_type=refresh_token&refresh_token=x',
    });
    expect(wrongClient.status).toBe(401);
    expect(wrongClient.body.error).toBe('invalid_client');
    sandbox.revokeGrant('ebay', seller.account);
    await expect(ebayToken(seller)).rejects.toThrow(/invalid_grant/);
    sandbox.restoreGrant('ebay', seller.account);
    token = await ebayToken(seller);
    const refreshed = await call(`${orders}?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(refreshed.status).toBe(200);
  });

  it('shows cancel requests on getOrder only, ships a line (201 + Location) and updates stock with 207 for unknown SKUs', async () => {
    const truth = sandbox.groundTruth('ebay', seller.account);
    const requested = truth.find(
      (order) => (order.cancelStatus as { cancelState: string }).cancelState !== 'NONE_REQUESTED',
    );
    expect(requested).toBeDefined();
    const detail = await get(`${orders}/${requested!.orderId}`);
    expect(detail.body.cancelStatus.cancelRequests.length).toBe(1);
    const open = truth.find(
      (order) =>
        order.orderFulfillmentStatus === 'NOT_STARTED' &&
        order.orderPaymentStatus === 'PAID' &&
        (order.cancelStatus as { cancelState: string }).cancelState === 'NONE_REQUESTED',
    )!;
    const line = (open.lineItems as { lineItemId: string; quantity: number }[])[0]!;
    clock.advance(1234);
    const shipped = await call(`${orders}/${open.orderId}/shipping_fulfillment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        lineItems: [{ lineItemId: line.lineItemId, quantity: line.quantity }],
        shippingCarrierCode: 'USPS',
        trackingNumber: '9400',
      }),
    });
    expect(shipped.status).toBe(201);
    expect(shipped.headers.get('location')).toMatch(
      new RegExp(`/order/${open.orderId}/shipping_fulfillment/\\d+$`),
    );
    const after = await get(`${orders}/${open.orderId}`);
    expect(after.body.lastModifiedDate).toBe(new Date(clock.now()).toISOString());
    expect(['IN_PROGRESS', 'FULFILLED']).toContain(after.body.orderFulfillmentStatus);
    const listed = await get(shipped.headers.get('location')!);
    expect(listed.body.shipmentTrackingNumber).toBe('9400');

    const bulk = await call(`${seller.baseUrl}/sell/inventory/v1/bulk_update_price_quantity`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        requests: [
          { sku: 'MUG-CER-350-WHT', shipToLocationAvailability: { quantity: 12 } },
          { sku: 'NO-SUCH-SKU', shipToLocationAvailability: { quantity: 1 } },
        ],
      }),
    });
    expect(bulk.status).toBe(207);
    expect(bulk.body.responses.map((entry: { statusCode: number }) => entry.statusCode)).toEqual([200, 404]);
    expect(sandbox.inventory('ebay', seller.account)['MUG-CER-350-WHT']).toBe(12);
  });
});
