import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { accountOf, amazonToken, call } from '../helpers/sandbox-client.js';

const START = Date.parse('2026-03-01T12:00:00.000Z');

describe('sandbox: rate limits and request accounting', { timeout: 60_000 }, () => {
  let sandbox: Sandbox | undefined;
  afterEach(() => sandbox?.close());

  async function start(options: SandboxOptions): Promise<{ sandbox: Sandbox; clock: ManualClock }> {
    const clock = new ManualClock(START);
    sandbox = await startSandbox({ port: 0, seed: 2, ordersPerAccount: 50, clock, ...options });
    return { sandbox, clock };
  }

  function shopifyCall(target: Sandbox) {
    const shop = accountOf(target, 'shopify');
    return () =>
      call(`${shop.baseUrl}/admin/api/2025-01/orders.json?limit=1&status=any`, {
        headers: { 'X-Shopify-Access-Token': shop.credentials.accessToken! },
      });
  }

  it('answers a client hammering Shopify with 429, Retry-After 2.0 and a full call-limit header', async () => {
    const { sandbox, clock } = await start({ accounts: 'shopify:1' });
    const get = shopifyCall(sandbox);
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) {
      const response = await get();
      expect(response.status).toBe(200);
      seen.push(response.headers.get('x-shopify-shop-api-call-limit')!);
    }
    expect(seen.slice(0, 3)).toEqual(['1/40', '2/40', '3/40']);
    expect(seen.at(-1)).toBe('40/40');
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2.0');
    expect(refused.headers.get('x-shopify-shop-api-call-limit')).toBe('40/40');
    expect(refused.body).toEqual({
      errors:
        'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
    });
    clock.advance(1000);
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(429);
    const stats = sandbox.stats();
    expect(stats.exceeded).toBe(true);
    const bucket = stats.buckets.find((entry) => entry.platform === 'shopify')!;
    expect(bucket).toMatchObject({ bucket: 'rest', allowed: 42, throttled: 2, forced429: 0 });
    expect(bucket.operations['orders.json']).toBe(44);
  });

  it('scales refill rates (not bursts) by the rate scale, and says so in its headers', async () => {
    const { sandbox, clock } = await start({
      accounts: 'shopify:1,amazon:1',
      rateScale: { shopify: 10, amazon: 100 },
    });
    const get = shopifyCall(sandbox);
    for (let i = 0; i < 40; i++) await get();
    const refused = await get();
    expect(refused.headers.get('retry-after')).toBe('0.2');
    clock.advance(1000);
    let admitted = 0;
    while ((await get()).status === 200) admitted++;
    expect(admitted).toBe(20);

    const seller = accountOf(sandbox, 'amazon');
    const token = await amazonToken(seller);
    const search = () =>
      call(`${seller.baseUrl}/orders/2026-01-01/orders?lastUpdatedAfter=2026-01-01T00:00:00Z`, {
        headers: { 'x-amz-access-token': token },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await search()).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(20);
    const throttled = await search();
    expect(throttled.status).toBe(429);
    expect(throttled.body.errors[0].code).toBe('QuotaExceeded');
    expect(throttled.headers.get('x-amzn-ratelimit-limit')).toBeNull();
    expect(throttled.headers.get('x-amzn-requestid')).toBeTruthy();
    clock.advance(10_000);
    const again = await search();
    expect(again.status).toBe(200);
    expect(again.headers.get('x-amzn-ratelimit-limit')).toBe('0.56');
  });

  it('reports full utilisation and no excess for a client that paces itself exactly at the limit', async () => {
    const { sandbox, clock } = await start({ accounts: 'shopify:1' });
    const get = shopifyCall(sandbox);
    for (let i = 0; i < 40; i++) expect((await get()).status).toBe(200);
    for (let i = 0; i < 30; i++) {
      clock.advance(500);
      expect((await get()).status).toBe(200);
    }
    const bucket = sandbox.stats().buckets[0]!;
    expect(sandbox.stats().exceeded).toBe(false);
    expect(bucket.budget).toBe(40 + 2 * 15);
    expect(bucket.utilisation).toBeCloseTo(1, 5);
    // The burst and the first paced request (half a second later) share one clock second.
    expect(bucket.peakPerSecond).toBe(41);
  });

  it('admits a request that arrives within the configured tolerance before its token is due', async () => {
    const strict = await start({ accounts: 'shopify:1' });
    const lenient = await startSandbox({
      port: 0,
      seed: 2,
      ordersPerAccount: 50,
      accounts: 'shopify:1',
      clock: strict.clock,
      throttleToleranceMs: 100,
    });
    try {
      const strictGet = shopifyCall(strict.sandbox);
      const lenientGet = shopifyCall(lenient);
      for (let i = 0; i < 40; i++) {
        await strictGet();
        await lenientGet();
      }
      strict.clock.advance(420);
      expect((await strictGet()).status).toBe(429);
      expect((await lenientGet()).status).toBe(200);
    } finally {
      await lenient.close();
    }
  });

  it('counts injected 429s apart from the limiter, so a storm is not an excess', async () => {
    const { sandbox } = await start({ accounts: 'shopify:1', faults: { shopify: { force429Next: 3 } } });
    const get = shopifyCall(sandbox);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get()).status);
    expect(statuses).toEqual([429, 429, 429, 200, 200]);
    const stats = sandbox.stats();
    expect(stats.exceeded).toBe(false);
    expect(stats.buckets[0]).toMatchObject({ allowed: 5, throttled: 0, forced429: 3 });
    sandbox.resetStats();
    expect(sandbox.stats().buckets).toEqual([]);
  });

  it('serves the accounting as JSON at /_sandbox/stats', async () => {
    const { sandbox } = await start({ accounts: 'shopify:1' });
    await shopifyCall(sandbox)();
    const stats = await call(`${sandbox.url}/_sandbox/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body.buckets[0]).toMatchObject({ platform: 'shopify', account: 'us-store', allowed: 1 });
    const health = await call(`${sandbox.url}/_sandbox/health`);
    expect(health.body).toMatchObject({ status: 'ok', accounts: 1, orders: 50 });
  });
});
