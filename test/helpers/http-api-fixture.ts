import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { createHttpApi, type HttpApi, type ReadinessReport } from '../../src/workers/http-api.js';
import type { StockApi } from '../../src/workers/stock-routes.js';
import { memoryLogger } from './log-sink.js';

/**
 * The worker's HTTP API in-process (fastify inject, no socket) over a fake StockApi, for unit
 * tests of routing, auth, validation and error mapping. APIs made here are closed after each test.
 */

export const TOKEN = 'tok_0123456789abcdef';
export const OTHER_TOKEN = 'tok_rotated_fedcba9876';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

type Calls = { method: string; input: unknown }[];

/** A StockApi whose methods answer what the test scripts; any other call fails the test. */
export function fakeStock(answers: Partial<Record<keyof StockApi, (input: never) => unknown>> = {}) {
  const calls: Calls = [];
  const methods = [
    'get',
    'deduct',
    'deductOncePerUser',
    'reserve',
    'confirm',
    'release',
    'restore',
    'set',
    'adjust',
  ] as const;
  const stock = { tenant: 'default' } as Record<string, unknown>;
  for (const method of methods) {
    stock[method] = async (input: unknown) => {
      calls.push({ method, input });
      const answer = answers[method];
      if (!answer) throw new Error(`unexpected call to ${method}`);
      return answer(input as never);
    };
  }
  return { stock: stock as unknown as StockApi, calls };
}

const apis: HttpApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});

export function api(
  stock: StockApi | undefined,
  options: { readiness?: () => Promise<ReadinessReport>; timeoutMs?: number } = {},
) {
  const { logger, lines } = memoryLogger('info');
  const registry = new Registry();
  const created = createHttpApi({
    logger,
    ...(stock ? { stock } : {}),
    readiness: options.readiness ?? (async () => ({ ok: true, checks: { redis: { ok: true } } })),
    readinessTimeoutMs: options.timeoutMs ?? 2000,
    metricsRegistry: registry,
    authTokens: [new Secret(TOKEN), new Secret(OTHER_TOKEN)],
  });
  apis.push(created);
  return { app: created.app, lines, registry };
}

export const deductResult = (operationId: string, replayed = false) => ({
  tenant: 'default',
  operationId,
  replayed,
  lines: [{ sku: 'SKU-1', quantity: 2, available: 8, version: 3 }],
});
