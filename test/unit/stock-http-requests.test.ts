import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { createHttpApi } from '../../src/workers/http-api.js';
import { AUTH, api, fakeStock, OTHER_TOKEN, TOKEN } from '../helpers/http-api-fixture.js';
import { memoryLogger } from '../helpers/log-sink.js';

describe('stock HTTP API: authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer tok_wrong_0000000000' }],
    ['a token prefix', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
  ])('answers 401 without telling why for %s, before reading the body', async (_name, headers) => {
    const { stock, calls } = fakeStock();
    const { app } = api(stock);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/stock/deduct',
      headers: { ...headers, 'idempotency-key': 'op-1' },
      payload: { lines: [{ sku: 'SKU-1', quantity: -1 }] },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="tradectl"');
    expect(response.json()).toEqual({
      error: { code: 'TRADECTL_HTTP_UNAUTHORIZED', message: 'missing or invalid bearer token' },
    });
    expect(response.body).not.toContain(TOKEN);
    expect(calls).toEqual([]);
  });

  it('accepts every configured token (rotation) and the scheme in any case', async () => {
    const { stock } = fakeStock({
      get: () => ({ tenant: 'default', sku: 'A', available: 1, reserved: 0, version: 1 }),
    });
    const { app } = api(stock);
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${OTHER_TOKEN}`]) {
      const response = await app.inject({ method: 'GET', url: '/v1/stock/A', headers: { authorization } });
      expect(response.statusCode).toBe(200);
    }
  });

  it('refuses to serve the stock API without a token configured', () => {
    const { stock } = fakeStock();
    expect(() =>
      createHttpApi({
        logger: memoryLogger().logger,
        stock,
        readiness: async () => ({ ok: true, checks: {} }),
        metricsRegistry: new Registry(),
        authTokens: [],
      }),
    ).toThrow(ConfigError);
  });
});

describe('stock HTTP API: bad requests never reach the stock service', () => {
  const cases: [string, Record<string, string>, unknown, { path: string; message: RegExp }][] = [
    [
      'a negative quantity',
      { 'idempotency-key': 'op-1' },
      { lines: [{ sku: 'A', quantity: -2 }] },
      { path: 'lines[0].quantity', message: /at least 1/ },
    ],
    [
      'a fractional quantity',
      { 'idempotency-key': 'op-1' },
      { lines: [{ sku: 'A', quantity: 1.5 }] },
      { path: 'lines[0].quantity', message: /whole number/ },
    ],
    [
      'a quantity as text',
      { 'idempotency-key': 'op-1' },
      { lines: [{ sku: 'A', quantity: '2' }] },
      { path: 'lines[0].quantity', message: /expected a number/ },
    ],
    [
      'a SKU with a space',
      { 'idempotency-key': 'op-1' },
      { lines: [{ sku: 'A B', quantity: 1 }] },
      { path: 'lines[0].sku', message: /SKU/ },
    ],
    [
      'no lines',
      { 'idempotency-key': 'op-1' },
      { lines: [] },
      { path: 'lines', message: /at least one line/ },
    ],
    [
      'a misspelt field',
      { 'idempotency-key': 'op-1' },
      { lines: [{ sku: 'A', quantitiy: 1 }] },
      { path: 'lines[0].quantitiy', message: /unknown field/ },
    ],
    [
      'no operation id at all',
      {},
      { lines: [{ sku: 'A', quantity: 1 }] },
      { path: 'Idempotency-Key', message: /required/ },
    ],
    [
      'header and body ids that differ',
      { 'idempotency-key': 'op-1' },
      { operationId: 'op-2', lines: [{ sku: 'A', quantity: 1 }] },
      { path: 'Idempotency-Key', message: /does not match/ },
    ],
    [
      'an id with a space',
      { 'idempotency-key': 'op 1' },
      { lines: [{ sku: 'A', quantity: 1 }] },
      { path: 'Idempotency-Key', message: /expected 1-128/ },
    ],
  ];

  it.each(cases)('answers 400 naming the field for %s', async (_name, headers, payload, issue) => {
    const { stock, calls } = fakeStock();
    const { app } = api(stock);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/stock/deduct',
      headers: { ...AUTH, ...headers },
      payload: payload as object,
    });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.error.code).toBe('TRADECTL_INVALID_INPUT');
    expect(body.error.issues).toContainEqual({
      path: issue.path,
      message: expect.stringMatching(issue.message),
    });
    expect(calls).toEqual([]);
  });

  it('answers 400 for malformed JSON and 415 for a body that is not JSON', async () => {
    const { stock, calls } = fakeStock();
    const { app } = api(stock);
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/stock/deduct',
      headers: { ...AUTH, 'content-type': 'application/json', 'idempotency-key': 'op-1' },
      payload: '{"lines": [',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.issues[0].path).toBe('body');
    const text = await app.inject({
      method: 'POST',
      url: '/v1/stock/deduct',
      headers: { ...AUTH, 'content-type': 'text/plain', 'idempotency-key': 'op-1' },
      payload: 'SKU-1=2',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.issues).toEqual([
      { path: 'Content-Type', message: 'expected application/json' },
    ]);
    expect(calls).toEqual([]);
  });

  it('checks PUT and PATCH bodies: version and quantities', async () => {
    const { stock, calls } = fakeStock();
    const { app } = api(stock);
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/stock/SKU-1',
      headers: { ...AUTH, 'idempotency-key': 'set-1' },
      payload: { available: -1 },
    });
    expect(put.statusCode).toBe(400);
    expect(
      put
        .json()
        .error.issues.map((issue: { path: string }) => issue.path)
        .sort(),
    ).toEqual(['available', 'expectedVersion']);
    const patch = await app.inject({
      method: 'PATCH',
      url: '/v1/stock/SKU-1',
      headers: { ...AUTH, 'idempotency-key': 'adj-1' },
      payload: { expectedVersion: 3, delta: 0 },
    });
    expect(patch.json().error.issues).toEqual([{ path: 'delta', message: 'must not be zero' }]);
    expect(calls).toEqual([]);
  });
});
