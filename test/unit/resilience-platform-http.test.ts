import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccountResilience } from '../../src/adapters/resilience/account-resilience.js';
import { OAuthRefreshAuth, StaticTokenAuth } from '../../src/adapters/resilience/auth.js';
import { classifyHttpFailure } from '../../src/adapters/resilience/classify-http-failure.js';
import type { PlatformError } from '../../src/adapters/resilience/platform-error.js';
import type { RetryPolicy } from '../../src/adapters/resilience/retry.js';
import { usedOfSizeObserver } from '../../src/adapters/resilience/usage-headers.js';
import type { AuthStrategy, PlatformHttpOptions } from '../../src/adapters/types.js';
import type { AccountConfig } from '../../src/core/config.js';
import { Secret } from '../../src/core/secret.js';
import { memoryLogger } from '../helpers/log-sink.js';

const API = 'https://shop1.myshopify.test';
const PATH = '/admin/api/2025-07/orders.json';

function account(id: string): AccountConfig {
  return { platform: 'shopify', id, userId: '1', enabled: true, credentials: {}, options: {} };
}

interface Setup {
  id?: string;
  auth?: AuthStrategy;
  limits?: Record<string, { ratePerSecond: number; burst: number }>;
  breaker?: Parameters<typeof createAccountResilience>[0]['breaker'];
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  http?: Partial<PlatformHttpOptions>;
}

// nock 14 hangs on a plain object here (nock/nock#2789): a Node-style Error with its code works.
function netError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const resilient: ReturnType<typeof createAccountResilience>[] = [];

/** One account's PlatformHttp; waits between retries are recorded, not slept. */
function setup(options: Setup = {}) {
  const waits: number[] = [];
  const { logger, lines } = memoryLogger();
  const resilience = createAccountResilience({
    account: account(options.id ?? 'shop1'),
    manifest: {
      platform: 'shopify',
      defaultLimits: options.limits ?? { default: { ratePerSecond: 1000, burst: 1000 } },
    },
    logger,
    breaker: options.breaker,
    timeoutMs: options.timeoutMs,
    retry: {
      retries: 3,
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms);
      },
      ...options.retry,
    },
  });
  resilient.push(resilience);
  const http = resilience.createHttp({
    baseUrl: `https://${options.id ?? 'shop1'}.myshopify.test`,
    auth: options.auth ?? new StaticTokenAuth({ token: new Secret('shpat_abc') }),
    classify: (failure) => classifyHttpFailure(failure),
    ...options.http,
  });
  return { http, resilience, waits, lines };
}

function stats(resilience: ReturnType<typeof createAccountResilience>) {
  const { platform: _p, account: _a, operation: _o, ...counters } = resilience.stats.snapshot()[0]!;
  return counters;
}

describe('platform http', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(async () => {
    nock.cleanAll();
    await Promise.all(resilient.splice(0).map((r) => r.stop()));
  });

  it('sends an authorized request and counts it', async () => {
    const api = nock(API)
      .get(PATH)
      .matchHeader('x-shopify-access-token', 'shpat_abc')
      .reply(200, { orders: [] });
    const { http, resilience } = setup();
    const response = await http.request({ operation: 'orders.json', method: 'GET', url: PATH });
    expect(response.data).toEqual({ orders: [] });
    expect(api.isDone()).toBe(true);
    expect(stats(resilience)).toEqual({
      requests: 1,
      throttled: 0,
      retries: 0,
      failures: 0,
      authRefreshes: 0,
    });
  });

  it('retries a 5xx and succeeds', async () => {
    nock(API)
      .get(PATH)
      .reply(503)
      .get(PATH)
      .reply(200, { orders: [1] });
    const { http, resilience, waits } = setup();
    const response = await http.request({ operation: 'orders.json', method: 'GET', url: PATH });
    expect(response.data).toEqual({ orders: [1] });
    expect(waits).toEqual([125]);
    expect(stats(resilience)).toMatchObject({ requests: 2, retries: 1, failures: 0 });
  });

  it('does not retry a 4xx data error', async () => {
    const api = nock(API)
      .post(PATH)
      .reply(422, { errors: { email: ['is invalid'] } });
    const { http, resilience, waits } = setup();
    const error = (await http
      .request({ operation: 'orders.json', method: 'POST', url: PATH, data: {} })
      .catch((caught: unknown) => caught)) as PlatformError;
    expect([error.code, error.kind, error.retriable, error.status]).toEqual([
      'TRADECTL_PLATFORM_REJECTED',
      'data',
      false,
      422,
    ]);
    expect(error.details.body).toEqual({ errors: { email: ['is invalid'] } });
    expect(api.isDone()).toBe(true);
    expect(waits).toEqual([]);
    expect(stats(resilience)).toMatchObject({ requests: 1, failures: 1 });
  });

  it('honours Retry-After on 429 and empties the bucket for that long', async () => {
    nock(API)
      .get(PATH)
      .reply(429, { errors: 'Exceeded 2 calls per second for api client.' }, { 'Retry-After': '0.05' })
      .get(PATH)
      .reply(200, { orders: [] });
    const { http, resilience, waits } = setup({
      limits: { default: { ratePerSecond: 2, burst: 40 } },
      retry: { random: () => 0 },
    });
    const started = Date.now();
    await http.request({ operation: 'orders.json', method: 'GET', url: PATH });
    expect(waits).toEqual([50]);
    // The retry's own wait is recorded, not slept: the limiter's pause is what held the repeat back.
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(stats(resilience)).toMatchObject({ requests: 2, throttled: 1, retries: 1 });
  });

  it('lowers the bucket to what the usage header reports', async () => {
    nock(API).get(PATH).reply(200, { orders: [] }, { 'X-Shopify-Shop-Api-Call-Limit': '39/40' });
    const { http, resilience } = setup({
      limits: { default: { ratePerSecond: 2, burst: 40 } },
      http: { observeUsage: usedOfSizeObserver('X-Shopify-Shop-Api-Call-Limit') },
    });
    await http.request({ operation: 'orders.json', method: 'GET', url: PATH });
    const bucket = (await resilience.limiter.snapshot()).buckets[0]!;
    expect(bucket.tokens).toBeLessThanOrEqual(1.5);
  });

  it('records a dropped connection of a non-idempotent write as indeterminate, without retrying', async () => {
    const api = nock(API)
      .post('/admin/api/2025-07/fulfillments.json')
      .replyWithError(netError('ECONNRESET', 'socket hang up'));
    const { http, waits } = setup();
    const error = (await http
      .request({
        operation: 'fulfillments.json',
        method: 'POST',
        url: '/admin/api/2025-07/fulfillments.json',
        data: { tracking_number: '1Z' },
        idempotent: false,
      })
      .catch((caught: unknown) => caught)) as PlatformError;
    expect([error.code, error.indeterminate, error.retriable]).toEqual([
      'TRADECTL_PLATFORM_INDETERMINATE',
      true,
      false,
    ]);
    expect(api.isDone()).toBe(true);
    expect(waits).toEqual([]);
  });

  it('retries a dropped connection of an idempotent request', async () => {
    nock(API)
      .get(PATH)
      .replyWithError(netError('ECONNRESET', 'socket hang up'))
      .get(PATH)
      .reply(200, { orders: [] });
    const { http, waits } = setup();
    await expect(http.request({ operation: 'orders.json', method: 'GET', url: PATH })).resolves.toBeDefined();
    expect(waits.length).toBe(1);
  });

  it('retries a write whose connection was refused: it was never sent', async () => {
    nock(API)
      .post(PATH)
      .replyWithError(netError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'))
      .post(PATH)
      .reply(201, { order: { id: 1 } });
    const { http } = setup();
    const response = await http.request({
      operation: 'orders.json',
      method: 'POST',
      url: PATH,
      idempotent: false,
    });
    expect(response.status).toBe(201);
  });

  it('records a timed-out write as indeterminate and retries a timed-out read', async () => {
    nock(API).post(PATH).delay(300).reply(201, {});
    const write = setup({ timeoutMs: 50 });
    const error = (await write.http
      .request({ operation: 'orders.json', method: 'POST', url: PATH, idempotent: false })
      .catch((caught: unknown) => caught)) as PlatformError;
    expect(error.code).toBe('TRADECTL_PLATFORM_INDETERMINATE');
    nock(API).get(PATH).delay(300).reply(200, {}).get(PATH).reply(200, { orders: [] });
    const read = setup({ timeoutMs: 50 });
    const response = await read.http.request({ operation: 'orders.json', method: 'GET', url: PATH });
    expect(response.data).toEqual({ orders: [] });
    expect(read.waits.length).toBe(1);
  });

  describe('token refresh on 401', () => {
    const TOKEN = 'https://api.ebay.test';
    function ebayAuth() {
      return new OAuthRefreshAuth({
        platform: 'ebay',
        account: 'shop1',
        tokenUrl: `${TOKEN}/identity/v1/oauth2/token`,
        clientId: 'app',
        clientSecret: new Secret('cert'),
        refreshToken: new Secret('refresh'),
        clientAuth: 'basic',
      });
    }

    it('refreshes once and repeats the request with the new token', async () => {
      const tokens = nock(TOKEN)
        .post('/identity/v1/oauth2/token')
        .reply(200, { access_token: 'T1', expires_in: 7200 })
        .post('/identity/v1/oauth2/token')
        .reply(200, { access_token: 'T2', expires_in: 7200 });
      const api = nock(API)
        .get(PATH)
        .matchHeader('authorization', 'Bearer T1')
        .reply(401, { errors: [{ errorId: 1001, message: 'Invalid access token' }] })
        .get(PATH)
        .matchHeader('authorization', 'Bearer T2')
        .reply(200, { orders: [] });
      const { http, resilience, waits } = setup({ auth: ebayAuth() });
      const response = await http.request({ operation: 'orders.json', method: 'GET', url: PATH });
      expect(response.data).toEqual({ orders: [] });
      expect(tokens.isDone() && api.isDone()).toBe(true);
      expect(waits).toEqual([]);
      expect(stats(resilience)).toMatchObject({ requests: 2, authRefreshes: 1, retries: 0 });
    });

    it('gives up on a second 401 with a config error that says to re-authorise', async () => {
      nock(TOKEN)
        .post('/identity/v1/oauth2/token')
        .reply(200, { access_token: 'T1', expires_in: 7200 })
        .post('/identity/v1/oauth2/token')
        .reply(200, { access_token: 'T2', expires_in: 7200 });
      const api = nock(API)
        .get(PATH)
        .times(2)
        .reply(401, { errors: [{ errorId: 1001 }] });
      const { http, resilience } = setup({ auth: ebayAuth() });
      const error = (await http
        .request({ operation: 'orders.json', method: 'GET', url: PATH })
        .catch((caught: unknown) => caught)) as PlatformError;
      expect([error.code, error.kind, error.retriable, error.authExpired]).toEqual([
        'TRADECTL_PLATFORM_AUTH',
        'config',
        false,
        false,
      ]);
      expect(error.hint).toContain('re-authorise the account');
      expect(api.isDone()).toBe(true);
      expect(stats(resilience)).toMatchObject({ requests: 2, authRefreshes: 1, failures: 1 });
    });
  });

  it("opens a failing account's breaker while another account's calls still succeed", async () => {
    const breaker = { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeout: 60_000 };
    const failing = setup({ id: 'down', breaker, retry: { retries: 0 } });
    const healthy = setup({ id: 'up', breaker, retry: { retries: 0 } });
    const down = nock('https://down.myshopify.test').get(PATH).times(5).reply(500);
    const up = nock('https://up.myshopify.test').get(PATH).times(10).reply(200, { orders: [] });
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) {
      await failing.http
        .request({ operation: 'orders.json', method: 'GET', url: PATH })
        .catch((error: PlatformError) =>
          codes.push(error.code === 'TRADECTL_RETRIES_EXHAUSTED' ? 'exhausted' : error.code),
        );
      await expect(
        healthy.http.request({ operation: 'orders.json', method: 'GET', url: PATH }),
      ).resolves.toBeDefined();
    }
    expect(codes).toEqual([...Array(5).fill('exhausted'), ...Array(5).fill('TRADECTL_BREAKER_OPEN')]);
    expect(down.isDone() && up.isDone()).toBe(true);
    expect(failing.resilience.breaker.state).toBe('open');
    expect(healthy.resilience.breaker.state).toBe('closed');
    expect(failing.lines.some((line) => line.level === 'warn' && line.account === 'down')).toBe(true);
  });

  it('does not open the breaker on throttling or 4xx answers', async () => {
    const breaker = { volumeThreshold: 2, errorThresholdPercentage: 10, resetTimeout: 60_000 };
    const { http, resilience } = setup({ breaker, retry: { retries: 0 } });
    nock(API).get(PATH).times(5).reply(429, {}, { 'Retry-After': '0' }).get(PATH).times(5).reply(400);
    for (let i = 0; i < 10; i++) {
      await http.request({ operation: 'orders.json', method: 'GET', url: PATH }).catch(() => undefined);
    }
    expect(resilience.breaker.state).toBe('closed');
    expect(stats(resilience)).toMatchObject({ requests: 10, throttled: 5, failures: 10 });
  });
});
