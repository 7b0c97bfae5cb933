import { describe, expect, it } from 'vitest';
import {
  InsufficientStockError,
  ReservationError,
  stockUnavailable,
  UnknownSkuError,
  VersionConflictError,
} from '../../src/core/stock/stock-errors.js';
import { AUTH, api, deductResult, fakeStock, TOKEN } from '../helpers/http-api-fixture.js';

describe('stock HTTP API: answers', () => {
  it('takes the operation id from the header and marks a replayed answer', async () => {
    const { stock, calls } = fakeStock({
      deduct: (input: { operationId: string }) => deductResult(input.operationId, true),
    });
    const { app } = api(stock);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/stock/deduct',
      headers: { ...AUTH, 'idempotency-key': 'order-9:1' },
      payload: { lines: [{ sku: 'SKU-1', quantity: 2 }] },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['idempotent-replayed']).toBe('true');
    expect(response.json()).toEqual(deductResult('order-9:1', true));
    expect(calls).toEqual([
      {
        method: 'deduct',
        input: { operationId: 'order-9:1', lines: [{ sku: 'SKU-1', quantity: 2 }], tenant: undefined },
      },
    ]);
  });

  it('accepts the body operationId alone, and a header that agrees with it', async () => {
    const { stock, calls } = fakeStock({
      deduct: (input: { operationId: string }) => deductResult(input.operationId),
    });
    const { app } = api(stock);
    for (const headers of [AUTH, { ...AUTH, 'idempotency-key': 'op-7' }]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/stock/deduct',
        headers,
        payload: { operationId: 'op-7', tenant: 'acme', lines: [{ sku: 'SKU-1', quantity: 2 }] },
      });
      expect(response.statusCode).toBe(200);
    }
    expect(calls.map((call) => call.input)).toEqual([
      { operationId: 'op-7', tenant: 'acme', lines: [{ sku: 'SKU-1', quantity: 2 }] },
      { operationId: 'op-7', tenant: 'acme', lines: [{ sku: 'SKU-1', quantity: 2 }] },
    ]);
  });

  it.each<[string, () => Error, number, Record<string, unknown>]>([
    [
      'insufficient stock',
      () =>
        new InsufficientStockError({
          tenant: 'default',
          sku: 'SKU-1',
          available: 1,
          requested: 2,
          replayed: false,
        }),
      409,
      {
        code: 'TRADECTL_STOCK_INSUFFICIENT',
        details: expect.objectContaining({ sku: 'SKU-1', available: 1, requested: 2 }),
      },
    ],
    [
      'an unknown SKU',
      () => new UnknownSkuError({ tenant: 'default', sku: 'SKU-1' }),
      404,
      { code: 'TRADECTL_STOCK_UNKNOWN_SKU' },
    ],
    [
      'a version conflict',
      () =>
        new VersionConflictError({ tenant: 'default', sku: 'SKU-1', expectedVersion: 1, currentVersion: 4 }),
      409,
      { code: 'TRADECTL_STOCK_VERSION_CONFLICT', details: expect.objectContaining({ currentVersion: 4 }) },
    ],
    [
      'an unknown reservation',
      () => new ReservationError({ tenant: 'default', reservationId: 'r1', problem: 'not_found' }),
      404,
      { code: 'TRADECTL_STOCK_RESERVATION_NOT_FOUND' },
    ],
    [
      'Redis down',
      () => stockUnavailable('deduct', new Error('ECONNREFUSED')),
      503,
      { code: 'TRADECTL_STOCK_UNAVAILABLE' },
    ],
  ])('maps %s to its status', async (_name, make, status, error) => {
    const { stock } = fakeStock({
      deduct: () => {
        throw make();
      },
    });
    const { app } = api(stock);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/stock/deduct',
      headers: { ...AUTH, 'idempotency-key': 'op-1' },
      payload: { lines: [{ sku: 'SKU-1', quantity: 2 }] },
    });
    expect(response.statusCode).toBe(status);
    expect(response.json().error).toMatchObject(error);
    if (status === 503) expect(response.headers['retry-after']).toBe('1');
  });

  it('answers a bug with a bare 500 and logs the cause, never echoing its message', async () => {
    const { stock } = fakeStock({
      deduct: () => {
        throw new Error(`connect failed for redis://:${TOKEN}@db`);
      },
    });
    const { app, lines } = api(stock);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/stock/deduct',
      headers: { ...AUTH, 'idempotency-key': 'op-1' },
      payload: { lines: [{ sku: 'SKU-1', quantity: 2 }] },
    });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: { code: 'TRADECTL_HTTP_INTERNAL', message: 'internal error: see the worker log' },
    });
    expect(lines.some((line) => line.msg === 'request failed')).toBe(true);
  });

  it('reads a SKU by path (URL-encoded) and tenant query, 404 when Redis has none', async () => {
    const { stock, calls } = fakeStock({
      get: (input: { sku: string }) =>
        input.sku === 'BOX/1'
          ? { tenant: 'acme', sku: 'BOX/1', available: 4, reserved: 1, version: 9 }
          : null,
    });
    const { app } = api(stock);
    const found = await app.inject({ method: 'GET', url: '/v1/stock/BOX%2F1?tenant=acme', headers: AUTH });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toEqual({ tenant: 'acme', sku: 'BOX/1', available: 4, reserved: 1, version: 9 });
    const missing = await app.inject({ method: 'GET', url: '/v1/stock/NOPE?tenant=acme', headers: AUTH });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({
      code: 'TRADECTL_STOCK_UNKNOWN_SKU',
      details: { tenant: 'acme', sku: 'NOPE' },
    });
    expect(calls.map((call) => call.input)).toEqual([
      { sku: 'BOX/1', tenant: 'acme' },
      { sku: 'NOPE', tenant: 'acme' },
    ]);
  });

  it('uses a reservation id as the operation id of reserve, confirm and release', async () => {
    const settled = (input: { reservationId: string }) => ({
      ...deductResult(input.reservationId),
      state: 'released',
    });
    const { stock, calls } = fakeStock({
      reserve: (input: { reservationId: string }) => ({
        ...deductResult(input.reservationId),
        expiresAt: '2026-01-01T00:00:00.000Z',
      }),
      release: settled,
    });
    const { app } = api(stock);
    const reserve = await app.inject({
      method: 'POST',
      url: '/v1/stock/reserve',
      headers: { ...AUTH, 'idempotency-key': 'cart-1' },
      payload: { lines: [{ sku: 'SKU-1', quantity: 2 }], ttlMs: 60_000 },
    });
    expect(reserve.statusCode).toBe(200);
    const release = await app.inject({
      method: 'POST',
      url: '/v1/stock/release',
      headers: AUTH,
      payload: { reservationId: 'cart-1' },
    });
    expect(release.json().state).toBe('released');
    expect(calls.map((call) => call.input)).toEqual([
      { reservationId: 'cart-1', lines: [{ sku: 'SKU-1', quantity: 2 }], ttlMs: 60_000, tenant: undefined },
      { reservationId: 'cart-1', tenant: undefined },
    ]);
  });
});

describe('health, readiness and metrics', () => {
  it('serves /healthz and /metrics without a token, and counts requests by route template', async () => {
    const { stock } = fakeStock({ get: () => null });
    const { app } = api(stock);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    await app.inject({ method: 'GET', url: '/v1/stock/A', headers: AUTH });
    await app.inject({ method: 'GET', url: '/v1/stock/B', headers: AUTH });
    await app.inject({ method: 'GET', url: '/v1/stock/B' });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toContain(
      'tradectl_http_requests_total{method="GET",route="/v1/stock/:sku",status="404"} 2',
    );
    expect(metrics.body).toContain('tradectl_http_auth_failures_total 1');
    expect(metrics.body).toContain('tradectl_http_request_duration_seconds_bucket');
  });

  it('answers /readyz 200 or 503 from the checks, and 503 when they hang', async () => {
    const down = api(undefined, {
      readiness: async () => ({ ok: false, checks: { redis: { ok: false, message: 'ECONNREFUSED' } } }),
    });
    const response = await down.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ ok: false, checks: { redis: { ok: false, message: 'ECONNREFUSED' } } });
    const hung = api(undefined, { readiness: () => new Promise(() => undefined), timeoutMs: 20 });
    const late = await hung.app.inject({ method: 'GET', url: '/readyz' });
    expect(late.statusCode).toBe(503);
    expect(late.json().checks.readiness.message).toMatch(/no answer within 20 ms/);
  });

  it('serves no /v1 routes without a stock service', async () => {
    const { app } = api(undefined);
    const response = await app.inject({ method: 'GET', url: '/v1/stock/A', headers: AUTH });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('TRADECTL_HTTP_NOT_FOUND');
  });
});
