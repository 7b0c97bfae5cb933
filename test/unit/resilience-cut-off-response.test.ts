import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccountResilience } from '../../src/adapters/resilience/account-resilience.js';
import { StaticTokenAuth } from '../../src/adapters/resilience/auth.js';
import type { PlatformError } from '../../src/adapters/resilience/platform-error.js';
import { classifyShopifyFailure } from '../../src/adapters/shopify/errors.js';
import type { AccountConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';

// A real socket, not nock: what axios reports for a body cut off mid-way (ERR_BAD_RESPONSE
// "stream has been aborted") is what the shared classifier has to recognise.

const ACCOUNT: AccountConfig = {
  platform: 'shopify',
  id: 'cut',
  userId: '1',
  enabled: true,
  credentials: {},
  options: {},
};

let server: Server;
let baseUrl = '';
/** How many of the next requests get half a body and a dead connection. */
let cutNext = 0;
const received: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    req.resume();
    const body = JSON.stringify({ orders: Array.from({ length: 50 }, (_, id) => ({ id })) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    if (cutNext > 0) {
      cutNext -= 1;
      res.write(body.slice(0, body.length / 2));
      setImmediate(() => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const resilient: ReturnType<typeof createAccountResilience>[] = [];
afterEach(async () => {
  cutNext = 0;
  received.length = 0;
  await Promise.all(resilient.splice(0).map((entry) => entry.stop()));
});

function setup() {
  const waits: number[] = [];
  const resilience = createAccountResilience({
    account: ACCOUNT,
    manifest: { platform: 'shopify', defaultLimits: { default: { ratePerSecond: 1000, burst: 1000 } } },
    logger: silentLogger(),
    retry: {
      retries: 3,
      sleep: async (ms) => {
        waits.push(ms);
      },
    },
  });
  resilient.push(resilience);
  const http = resilience.createHttp({
    baseUrl,
    auth: new StaticTokenAuth({ token: new Secret('shpat_cut') }),
    classify: classifyShopifyFailure,
  });
  return { http, waits, resilience };
}

describe('a response cut off mid-body', () => {
  it('is a transient network failure that a read retries', async () => {
    cutNext = 1;
    const { http, waits, resilience } = setup();
    const response = await http.request<{ orders: unknown[] }>({
      operation: 'orders.json',
      method: 'GET',
      url: '/orders.json',
    });
    expect(response.data.orders).toHaveLength(50);
    expect(received).toEqual(['GET /orders.json', 'GET /orders.json']);
    expect(waits).toHaveLength(1);
    expect(resilience.stats.snapshot()[0]).toMatchObject({ requests: 2, retries: 1, failures: 0 });
  });

  it('counts as a breaker failure and ends the retries as the last cause', async () => {
    cutNext = 4;
    const { http, resilience } = setup();
    const error = (await http
      .request({ operation: 'orders.json', method: 'GET', url: '/orders.json' })
      .catch((caught: unknown) => caught)) as PlatformError & { lastError: PlatformError };
    expect(error.code).toBe('TRADECTL_RETRIES_EXHAUSTED');
    expect(error.lastError).toMatchObject({
      code: 'TRADECTL_PLATFORM_NETWORK',
      kind: 'transient',
      retriable: true,
      details: expect.objectContaining({ networkCode: 'ERR_BAD_RESPONSE', cutOff: true }),
    });
    expect(resilience.breaker.snapshot().stats.failures).toBe(4);
  });

  it('leaves a non-idempotent write indeterminate instead of repeating it', async () => {
    cutNext = 1;
    const { http, waits } = setup();
    const error = (await http
      .request({
        operation: 'fulfillments.json',
        method: 'POST',
        url: '/fulfillments.json',
        data: {},
        idempotent: false,
      })
      .catch((caught: unknown) => caught)) as PlatformError;
    expect([error.code, error.indeterminate, error.retriable]).toEqual([
      'TRADECTL_PLATFORM_INDETERMINATE',
      true,
      false,
    ]);
    expect(received).toEqual(['POST /fulfillments.json']);
    expect(waits).toEqual([]);
  });
});
