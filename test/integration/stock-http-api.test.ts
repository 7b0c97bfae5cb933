import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { createHttpApi, type HttpApi } from '../../src/workers/http-api.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

const TOKEN = 'http-api-test-token-0123456789';

let fixture: StockFixture;
let api: HttpApi;
let url: string;

beforeAll(async () => {
  fixture = await createStockFixture();
  api = createHttpApi({
    logger: silentLogger(),
    stock: fixture.service(),
    readiness: async () => ({ ok: true, checks: {} }),
    metricsRegistry: new Registry(),
    authTokens: [new Secret(TOKEN)],
  });
  ({ url } = await api.listen(0, '127.0.0.1'));
});

afterAll(async () => {
  await api?.close();
  await fixture?.close();
});

async function call(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; key?: string; token?: string | null; contentType?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKEN}`;
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) };
}

const streamKey = (tenant = 'default') => tenantKeys(fixture.keyPrefix, tenant).stream;
const opKey = (id: string) => tenantKeys(fixture.keyPrefix, 'default').operation(id);

describe('stock HTTP API against Redis', () => {
  it('refuses bad requests with clear 4xx errors, and they change nothing', async () => {
    expect(
      (
        await call('PUT', '/v1/stock/PLAIN', {
          key: 'plain-set',
          body: { expectedVersion: 0, available: 10 },
        })
      ).status,
    ).toBe(200);
    const before = {
      stock: await fixture.redisStock('PLAIN'),
      stream: await fixture.redis.xlen(streamKey()),
    };
    const line = (quantity: unknown, sku = 'PLAIN') => ({ lines: [{ sku, quantity }] });
    const cases = [
      { name: 'negative', key: 'bad-1', body: line(-1), status: 400, path: 'lines[0].quantity' },
      { name: 'fractional', key: 'bad-2', body: line(0.5), status: 400, path: 'lines[0].quantity' },
      { name: 'zero', key: 'bad-3', body: line(0), status: 400, path: 'lines[0].quantity' },
      { name: 'no id', key: undefined, body: line(1), status: 400, path: 'Idempotency-Key' },
      {
        name: 'mismatched ids',
        key: 'bad-4',
        body: { operationId: 'bad-5', ...line(1) },
        status: 400,
        path: 'Idempotency-Key',
      },
      { name: 'no lines', key: 'bad-6', body: {}, status: 400, path: 'lines' },
    ];
    for (const bad of cases) {
      const answer = await call('POST', '/v1/stock/deduct', { key: bad.key, body: bad.body });
      expect(answer.status, bad.name).toBe(bad.status);
      expect(answer.json.error.code, bad.name).toBe('TRADECTL_INVALID_INPUT');
      expect(
        answer.json.error.issues.map((issue: { path: string }) => issue.path),
        bad.name,
      ).toContain(bad.path);
    }
    const unknown = await call('POST', '/v1/stock/deduct', { key: 'bad-7', body: line(1, 'NO-SUCH-SKU') });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({
      code: 'TRADECTL_STOCK_UNKNOWN_SKU',
      details: { sku: 'NO-SUCH-SKU' },
    });
    const wrongToken = await call('POST', '/v1/stock/deduct', {
      key: 'bad-8',
      body: line(1),
      token: 'not-the-token-0000000000',
    });
    expect(wrongToken.status).toBe(401);
    expect(wrongToken.text).not.toContain(TOKEN);
    const noToken = await call('POST', '/v1/stock/deduct', { key: 'bad-9', body: line(1), token: null });
    expect(noToken.status).toBe(401);
    const malformed = await call('POST', '/v1/stock/deduct', {
      key: 'bad-10',
      raw: '{"lines":[{"sku":"PLAIN",',
    });
    expect(malformed.status).toBe(400);

    expect(await fixture.redisStock('PLAIN')).toEqual(before.stock);
    expect(await fixture.redis.xlen(streamKey())).toBe(before.stream);
    // Not even an idempotency record: the same ids may be used for a good request later.
    for (let i = 1; i <= 10; i++) expect(await fixture.redis.exists(opKey(`bad-${i}`))).toBe(0);
  });

  it('answers a retried Idempotency-Key with the first answer and deducts once', async () => {
    await call('PUT', '/v1/stock/RETRY', { key: 'retry-set', body: { expectedVersion: 0, available: 10 } });
    const first = await call('POST', '/v1/stock/deduct', {
      key: 'order-1',
      body: { lines: [{ sku: 'RETRY', quantity: 3 }] },
    });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      replayed: false,
      lines: [{ sku: 'RETRY', quantity: 3, available: 7 }],
    });
    for (let attempt = 0; attempt < 5; attempt++) {
      const again = await call('POST', '/v1/stock/deduct', {
        key: 'order-1',
        body: { lines: [{ sku: 'RETRY', quantity: 3 }] },
      });
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.json).toEqual({ ...first.json, replayed: true });
    }
    expect(await fixture.redisStock('RETRY')).toMatchObject({ available: 7, version: 2 });
    // The same key with another request is a conflict, not a second sale.
    const reused = await call('POST', '/v1/stock/deduct', {
      key: 'order-1',
      body: { lines: [{ sku: 'RETRY', quantity: 1 }] },
    });
    expect(reused.status).toBe(409);
    expect(reused.json.error.code).toBe('TRADECTL_STOCK_OPERATION_CONFLICT');
    // A refusal is an answer too: repeated, even after stock came back.
    const refused = await call('POST', '/v1/stock/deduct', {
      key: 'order-2',
      body: { lines: [{ sku: 'RETRY', quantity: 50 }] },
    });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({
      code: 'TRADECTL_STOCK_INSUFFICIENT',
      details: { available: 7, requested: 50 },
    });
    await call('PATCH', '/v1/stock/RETRY', { key: 'retry-top-up', body: { expectedVersion: 2, delta: 100 } });
    const refusedAgain = await call('POST', '/v1/stock/deduct', {
      key: 'order-2',
      body: { lines: [{ sku: 'RETRY', quantity: 50 }] },
    });
    expect(refusedAgain.status).toBe(409);
    expect(refusedAgain.json.error.details).toMatchObject({ available: 7, requested: 50, replayed: true });
    expect(refusedAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(await fixture.redisStock('RETRY')).toMatchObject({ available: 107 });
  });

  it('holds, confirms and releases reservations; restores a sale once', async () => {
    await call('PUT', '/v1/stock/CART', { key: 'cart-set', body: { expectedVersion: 0, available: 5 } });
    const held = await call('POST', '/v1/stock/reserve', {
      key: 'cart-1',
      body: { lines: [{ sku: 'CART', quantity: 2 }], ttlMs: 60_000 },
    });
    expect(held.status).toBe(200);
    expect(held.json).toMatchObject({ operationId: 'cart-1', lines: [{ available: 3 }] });
    expect((await call('POST', '/v1/stock/confirm', { body: { reservationId: 'cart-1' } })).json.state).toBe(
      'confirmed',
    );
    const late = await call('POST', '/v1/stock/release', { key: 'cart-1', body: {} });
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('TRADECTL_STOCK_RESERVATION_SETTLED');
    expect(
      (await call('POST', '/v1/stock/release', { body: { reservationId: 'no-such-cart' } })).status,
    ).toBe(404);

    const sale = await call('POST', '/v1/stock/deduct', {
      key: 'sale-1',
      body: { lines: [{ sku: 'CART', quantity: 1 }] },
    });
    expect(sale.json.lines[0].available).toBe(2);
    const restored = await call('POST', '/v1/stock/restore', {
      key: 'undo-sale-1',
      body: { restores: 'sale-1' },
    });
    expect(restored.status).toBe(200);
    expect(restored.json.lines[0].available).toBe(3);
    const twice = await call('POST', '/v1/stock/restore', {
      key: 'undo-sale-1-again',
      body: { restores: 'sale-1' },
    });
    expect(twice.status).toBe(409);
    expect(twice.json.error.code).toBe('TRADECTL_STOCK_ALREADY_RESTORED');
  });

  it('sets only at the expected version, and scopes SKUs by tenant', async () => {
    const created = await call('PUT', '/v1/stock/SHARED', {
      key: 'acme-set',
      body: { tenant: 'acme', expectedVersion: 0, available: 4 },
    });
    expect(created.json).toMatchObject({ tenant: 'acme', version: 1, available: 4 });
    expect((await call('GET', '/v1/stock/SHARED?tenant=acme')).json).toMatchObject({
      tenant: 'acme',
      available: 4,
    });
    expect((await call('GET', '/v1/stock/SHARED')).status).toBe(404);
    const stale = await call('PUT', '/v1/stock/SHARED', {
      key: 'acme-set-2',
      body: { tenant: 'acme', expectedVersion: 0, available: 9 },
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error).toMatchObject({
      code: 'TRADECTL_STOCK_VERSION_CONFLICT',
      details: { currentVersion: 1 },
    });
    expect(await fixture.redisStock('SHARED', 'acme')).toMatchObject({ available: 4, version: 1 });
  });

  it('leaves MySQL equal to Redis once the ledger drains', async () => {
    await fixture.drain().drainUntilIdle();
    for (const [sku, tenant] of [
      ['PLAIN', 'default'],
      ['RETRY', 'default'],
      ['CART', 'default'],
      ['SHARED', 'acme'],
    ] as const) {
      const sides = await bothSides(fixture, sku, tenant);
      expect(sides.mysql, sku).toEqual(sides.redis);
    }
  });
});
