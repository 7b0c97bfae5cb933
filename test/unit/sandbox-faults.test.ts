import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { accountOf, amazonToken, call, ebayToken } from '../helpers/sandbox-client.js';

const START = Date.parse('2026-03-01T12:00:00.000Z');
const UNLIMITED = {
  shopify: { rest: { kind: 'bucket', rate: 2, burst: 1_000_000 } },
  amazon: { searchOrders: { kind: 'bucket', rate: 0.0056, burst: 1_000_000 } },
} as const;

describe('sandbox: injected faults and late updates', { timeout: 60_000 }, () => {
  const running: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((entry) => entry.close()));
  });

  async function start(options: SandboxOptions): Promise<{ sandbox: Sandbox; clock: ManualClock }> {
    const clock = new ManualClock(START);
    const sandbox = await startSandbox({
      port: 0,
      seed: 9,
      ordersPerAccount: 300,
      clock,
      limits: UNLIMITED,
      ...options,
    });
    running.push(sandbox);
    return { sandbox, clock };
  }

  async function amazonStatuses(sandbox: Sandbox, count: number): Promise<number[]> {
    const seller = accountOf(sandbox, 'amazon');
    const token = await amazonToken(seller);
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const response = await call(
        `${seller.baseUrl}/orders/2026-01-01/orders?lastUpdatedAfter=2026-02-20T00:00:00Z&maxResultsPerPage=1`,
        {
          headers: { 'x-amz-access-token': token },
        },
      );
      statuses.push(response.status);
      if (response.status >= 500)
        expect(['InternalFailure', 'ServiceUnavailable']).toContain(response.body.errors[0].code);
    }
    return statuses;
  }

  it('fails about the configured share of requests with 500/503 in the platform envelope, the same ones for the same seed', async () => {
    const faults = { amazon: { error5xx: 0.2, rate429: 0.1 } };
    const first = await amazonStatuses((await start({ accounts: 'amazon:1', faults })).sandbox, 250);
    const errors = first.filter((status) => status >= 500).length;
    const throttled = first.filter((status) => status === 429).length;
    // 250 draws: 50 ± 6 expected 5xx and 25 ± 5 expected 429s (one standard deviation).
    expect(errors).toBeGreaterThan(30);
    expect(errors).toBeLessThan(75);
    expect(throttled).toBeGreaterThan(10);
    expect(throttled).toBeLessThan(45);
    expect(new Set(first.filter((status) => status >= 500))).toEqual(new Set([500, 503]));
    const second = await amazonStatuses((await start({ accounts: 'amazon:1', faults })).sandbox, 250);
    expect(second).toEqual(first);
  });

  it('drops connections at the configured share and counts each drop', async () => {
    const { sandbox } = await start({ accounts: 'shopify:1', faults: { shopify: { drop: 0.25 } } });
    const shop = accountOf(sandbox, 'shopify');
    let failed = 0;
    for (let i = 0; i < 120; i++) {
      try {
        const response = await fetch(`${shop.baseUrl}/admin/api/2025-01/orders.json?limit=5&status=any`, {
          headers: { 'X-Shopify-Access-Token': shop.credentials.accessToken! },
        });
        JSON.parse(await response.text());
      } catch {
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(15);
    expect(failed).toBeLessThan(50);
    expect(sandbox.stats().buckets[0]!.dropped).toBe(failed);
  });

  it('breaks one named field in a share of records while the rest of the page stays intact', async () => {
    const { sandbox } = await start({ accounts: 'ebay:1', faults: { ebay: { malformed: 0.1 } } });
    const seller = accountOf(sandbox, 'ebay');
    const token = await ebayToken(seller);
    const filter = encodeURIComponent('lastmodifieddate:[2026-01-01T00:00:00.000Z..]');
    const page = await call(`${seller.baseUrl}/sell/fulfillment/v1/order?filter=${filter}&limit=200`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const broken = sandbox.stats().malformed;
    expect(broken.length).toBeGreaterThan(5);
    expect(broken.length).toBeLessThan(40);
    const truth = new Map(sandbox.groundTruth('ebay', seller.account).map((order) => [order.orderId, order]));
    let intact = 0;
    for (const record of page.body.orders as Record<string, unknown>[]) {
      const entry = broken.find(
        (item) => item.orderId === (record.orderId ?? null) && record.orderId !== undefined,
      );
      if (record.orderId === undefined || entry) continue;
      expect(record).toEqual(truth.get(record.orderId));
      intact++;
    }
    expect(intact + broken.length).toBe(page.body.orders.length);
    const fields = new Set(broken.map((item) => item.field));
    expect(
      [...fields].every((field) =>
        [
          'orderId',
          'lastModifiedDate',
          'pricingSummary.total.currency',
          'lineItems[0].lineItemCost.value',
        ].includes(field),
      ),
    ).toBe(true);
  });

  it('switches faults and grants at run time through the /_sandbox endpoints', async () => {
    const { sandbox } = await start({ accounts: 'shopify:1' });
    const shop = accountOf(sandbox, 'shopify');
    const get = () =>
      call(`${shop.baseUrl}/admin/api/2025-01/orders.json?limit=1`, {
        headers: { 'X-Shopify-Access-Token': shop.credentials.accessToken! },
      });
    const post = (path: string, body?: unknown) =>
      call(`${sandbox.url}/_sandbox/${path}`, {
        method: 'POST',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await post('faults?platform=shopify', { error5xx: 1 })).status).toBe(200);
    expect((await get()).status).toBeGreaterThanOrEqual(500);
    expect((await post('faults?platform=*', {})).status).toBe(200);
    expect((await get()).status).toBe(200);
    expect((await post('faults?platform=shopify', { error5xx: 2 })).status).toBe(400);
    await post(`revoke?platform=shopify&account=${shop.account}`);
    expect((await get()).status).toBe(401);
    await post(`restore?platform=shopify&account=${shop.account}`);
    expect((await get()).status).toBe(200);
    const truth = await call(`${sandbox.url}/_sandbox/truth?platform=shopify&account=${shop.account}`);
    expect(truth.body.orders).toHaveLength(300);
  });

  it('adds the configured latency', async () => {
    const { sandbox } = await start({ accounts: 'shopify:1', faults: { shopify: { latencyMs: 120 } } });
    const shop = accountOf(sandbox, 'shopify');
    const began = performance.now();
    await call(`${shop.baseUrl}/admin/api/2025-01/orders.json?limit=1`, {
      headers: { 'X-Shopify-Access-Token': shop.credentials.accessToken! },
    });
    expect(performance.now() - began).toBeGreaterThanOrEqual(115);
  });

  it('shows a late update only after its delay, carrying an update time already in the past', async () => {
    const { sandbox, clock } = await start({ accounts: 'ebay:1', visibilityLagMs: { ebay: 60_000 } });
    const seller = accountOf(sandbox, 'ebay');
    const token = await ebayToken(seller);
    const open = sandbox
      .groundTruth('ebay', seller.account)
      .find(
        (order) => order.orderPaymentStatus === 'PAID' && order.orderFulfillmentStatus === 'NOT_STARTED',
      )!;
    clock.advance(5_000);
    const updatedAt = clock.now();
    expect(
      sandbox.updateOrder('ebay', seller.account, open.orderId as string, { late: true, transition: 'ship' }),
    ).toBe(true);
    const since = encodeURIComponent(`lastmodifieddate:[${new Date(updatedAt - 1000).toISOString()}..]`);
    const list = () =>
      call(`${seller.baseUrl}/sell/fulfillment/v1/order?filter=${since}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await list()).body.total).toBe(0);
    expect(sandbox.stats().updates.pendingVisibility).toBe(1);
    expect(
      sandbox.groundTruth('ebay', seller.account).find((order) => order.orderId === open.orderId)!
        .orderFulfillmentStatus,
    ).toBe('FULFILLED');
    clock.advance(60_000);
    const visible = await list();
    expect(visible.body.total).toBe(1);
    expect(visible.body.orders[0].lastModifiedDate).toBe(new Date(updatedAt).toISOString());
    expect(Date.parse(visible.body.orders[0].lastModifiedDate)).toBeLessThan(clock.now() - 50_000);
  });

  it('changes an order of the window between two pages when asked to', async () => {
    const { sandbox } = await start({
      accounts: 'shopify:1',
      faults: { shopify: { paginationMutation: 1 } },
    });
    const shop = accountOf(sandbox, 'shopify');
    const before = sandbox.stats().updates.applied;
    let url: string | null =
      `${shop.baseUrl}/admin/api/2025-01/orders.json?limit=50&status=any&order=updated_at%20asc`;
    let pages = 0;
    while (url) {
      const page = await call(url, { headers: { 'X-Shopify-Access-Token': shop.credentials.accessToken! } });
      pages++;
      url = /<([^>]+)>;\s*rel="next"/.exec(page.headers.get('link') ?? '')?.[1] ?? null;
    }
    expect(pages).toBeGreaterThan(5);
    expect(sandbox.stats().updates.applied - before).toBeGreaterThanOrEqual(pages - 1);
  });
});
