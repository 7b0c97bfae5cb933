import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIsoInstant } from '../../src/core/time.js';
import { ManualClock, type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { accountOf, call, nextLink } from '../helpers/sandbox-client.js';

const START = Date.parse('2026-03-01T12:00:00.000Z');

describe('sandbox: Shopify Admin REST orders', { timeout: 60_000 }, () => {
  let sandbox: Sandbox;
  let clock: ManualClock;
  let base: string;
  let headers: Record<string, string>;

  beforeAll(async () => {
    clock = new ManualClock(START);
    sandbox = await startSandbox({
      port: 0,
      seed: 11,
      ordersPerAccount: 1500,
      accounts: 'shopify:2',
      clock,
      // The clock stands still here, so the bucket would never leak: these tests are not about limits.
      limits: { shopify: { rest: { kind: 'bucket', rate: 2, burst: 1_000_000 } } },
    });
    const shop = accountOf(sandbox, 'shopify');
    base = `${shop.baseUrl}/admin/api/2025-01`;
    headers = { 'X-Shopify-Access-Token': shop.credentials.accessToken! };
  });
  afterAll(() => sandbox.close());

  async function listWindow(query: string): Promise<{ ids: number[]; pages: number }> {
    const ids: number[] = [];
    let url: string | null = `${base}/orders.json?${query}`;
    let pages = 0;
    while (url) {
      const page = await call(url, { headers });
      expect(page.status).toBe(200);
      ids.push(...page.body.orders.map((order: { id: number }) => order.id));
      pages++;
      url = nextLink(page.headers.get('link'));
    }
    return { ids, pages };
  }

  it('pages through an updated_at window with page_info, returning every order exactly once', async () => {
    const min = '2026-02-10T00:00:00-05:00';
    const max = '2026-02-25T00:00:00-05:00';
    const { ids, pages } = await listWindow(
      `status=any&limit=100&order=updated_at%20asc&updated_at_min=${encodeURIComponent(min)}&updated_at_max=${encodeURIComponent(max)}`,
    );
    const truth = sandbox
      .groundTruth('shopify', 'us-store')
      .filter((order) => {
        const updated = parseIsoInstant(order.updated_at);
        return updated >= parseIsoInstant(min) && updated <= parseIsoInstant(max);
      })
      .map((order) => order.id as number);
    expect(truth.length).toBeGreaterThan(200);
    expect(pages).toBe(Math.ceil(truth.length / 100));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...truth].sort());
  });

  it('serves orders in the documented shape: shop offset times, decimal-string money, statuses', async () => {
    const page = await call(`${base}/orders.json?status=any&limit=250`, { headers });
    const order = page.body.orders[0];
    expect(order.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-0[45]:00$/);
    expect(order.total_price).toMatch(/^\d+\.\d{2}$/);
    expect(order.currency).toBe('USD');
    expect(order.line_items[0]).toMatchObject({
      sku: expect.any(String),
      price: expect.stringMatching(/^\d+\.\d{2}$/),
    });
    expect(typeof order.line_items[0].fulfillable_quantity).toBe('number');
    const statuses = new Set(
      page.body.orders.map((entry: { financial_status: string }) => entry.financial_status),
    );
    expect(statuses.has('paid')).toBe(true);
    expect(page.headers.get('x-shopify-shop-api-call-limit')).toMatch(/^\d+\/1000000$/);
  });

  it('rejects a page_info request that repeats a filter, as Shopify does', async () => {
    const first = await call(`${base}/orders.json?status=any&limit=5`, { headers });
    const next = nextLink(first.headers.get('link'))!;
    const refused = await call(`${next}&status=any`, { headers });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.status).toMatch(/cannot be passed when page_info is present/);
    const garbled = await call(`${base}/orders.json?page_info=not-a-cursor`, { headers });
    expect(garbled.status).toBe(400);
  });

  it('offers a previous link that leads back to the first page', async () => {
    const first = await call(`${base}/orders.json?status=any&limit=7&order=updated_at%20asc`, { headers });
    const second = await call(nextLink(first.headers.get('link'))!, { headers });
    const previous = /<([^>]+)>;\s*rel="previous"/.exec(second.headers.get('link') ?? '')?.[1];
    const back = await call(previous!, { headers });
    expect(back.body.orders.map((order: { id: number }) => order.id)).toEqual(
      first.body.orders.map((order: { id: number }) => order.id),
    );
  });

  it('defaults to status=open, hiding closed and cancelled orders', async () => {
    const open = await listWindow('limit=250');
    const any = await listWindow('limit=250&status=any');
    expect(open.ids.length).toBeLessThan(any.ids.length);
    const truth = sandbox.groundTruth('shopify', 'us-store');
    const openTruth = truth.filter((order) => order.closed_at === null && order.cancelled_at === null);
    expect(open.ids.length).toBe(openTruth.length);
  });

  it('answers 401 with the documented body for a wrong access token', async () => {
    const refused = await call(`${base}/orders.json`, {
      headers: { 'X-Shopify-Access-Token': 'shpat_wrong' },
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
    });
  });

  it('shows an order changed between two pages again on a later page (a duplicate, never a loss)', async () => {
    const first = await call(`${base}/orders.json?status=any&limit=50&order=updated_at%20asc`, { headers });
    const changed = first.body.orders.find((order: { id: number; financial_status: string }) =>
      sandbox.updateOrder('shopify', 'us-store', String(order.id), { late: false }),
    );
    expect(changed).toBeDefined();
    const rest: number[] = [];
    let url = nextLink(first.headers.get('link'));
    while (url) {
      const page = await call(url, { headers });
      rest.push(...page.body.orders.map((order: { id: number }) => order.id));
      url = nextLink(page.headers.get('link'));
    }
    expect(rest).toContain(changed.id);
  });

  it('gets one order, creates a fulfillment that becomes an order update, and sets inventory', async () => {
    const truth = sandbox.groundTruth('shopify', 'eu-store');
    const target = truth.find((order) => order.fulfillment_status === null && order.cancelled_at === null)!;
    const token = accountOf(sandbox, 'shopify', 1).credentials.accessToken!;
    const shopHeaders = { 'X-Shopify-Access-Token': token, 'content-type': 'application/json' };
    const one = await call(`${base}/orders/${target.id}.json`, { headers: shopHeaders });
    expect(one.body.order.id).toBe(target.id);
    expect(one.body.order.currency).toBe('EUR');

    const fulfillmentOrders = await call(`${base}/orders/${target.id}/fulfillment_orders.json`, {
      headers: shopHeaders,
    });
    const fo = fulfillmentOrders.body.fulfillment_orders[0];
    expect(fo.status).toBe('open');
    clock.advance(5_000);
    const created = await call(`${base}/fulfillments.json`, {
      method: 'POST',
      headers: shopHeaders,
      body: JSON.stringify({
        fulfillment: {
          line_items_by_fulfillment_order: [{ fulfillment_order_id: fo.id }],
          tracking_info: { number: '1Z999', company: 'UPS' },
        },
      }),
    });
    expect(created.status).toBe(201);
    expect(created.body.fulfillment.tracking_number).toBe('1Z999');
    const after = await call(`${base}/orders/${target.id}.json`, { headers: shopHeaders });
    expect(after.body.order.fulfillment_status).toBe('fulfilled');
    expect(parseIsoInstant(after.body.order.updated_at)).toBe(new Date(clock.now()).toISOString());
    const again = await call(`${base}/fulfillments.json`, {
      method: 'POST',
      headers: shopHeaders,
      body: JSON.stringify({
        fulfillment: { line_items_by_fulfillment_order: [{ fulfillment_order_id: fo.id }] },
      }),
    });
    expect(again.status).toBe(422);

    const products = await call(`${base}/products.json`, { headers: shopHeaders });
    const variant = products.body.products[0].variants[0];
    const location = (await call(`${base}/locations.json`, { headers: shopHeaders })).body.locations[0];
    const set = await call(`${base}/inventory_levels/set.json`, {
      method: 'POST',
      headers: shopHeaders,
      body: JSON.stringify({
        location_id: location.id,
        inventory_item_id: variant.inventory_item_id,
        available: 7,
      }),
    });
    expect(set.status).toBe(200);
    expect(sandbox.inventory('shopify', 'eu-store')[variant.sku]).toBe(7);
  });
});
