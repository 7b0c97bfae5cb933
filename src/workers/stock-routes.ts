import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnknownSkuError } from '../core/stock/stock-errors.js';
import type { StockService } from '../core/stock/stock-service.js';
import {
  adjustBody,
  deductBody,
  deductOnceBody,
  IDEMPOTENCY_HEADER,
  operationIdOf,
  parseRequestPart,
  reserveBody,
  restoreBody,
  setBody,
  settleBody,
  skuParams,
  tenantQuery,
} from './stock-http-schemas.js';

/** What the stock routes call: the StockService, or a fake of the same shape in tests. */
export type StockApi = Pick<
  StockService,
  | 'tenant'
  | 'get'
  | 'deduct'
  | 'deductOncePerUser'
  | 'reserve'
  | 'confirm'
  | 'release'
  | 'restore'
  | 'set'
  | 'adjust'
>;

/**
 * The stock API under /v1/stock (docs/stock-http.md): each route parses its request (400 naming
 * the field), takes the operation id from the Idempotency-Key header or the body, calls the
 * StockService once, and answers its result as JSON; errors go through http-errors.ts. A
 * replayed answer (the operation was applied before) is marked `Idempotent-Replayed: true`.
 * Authentication is the caller's (http-api.ts registers these behind the bearer check).
 */
export function registerStockRoutes(app: FastifyInstance, stock: StockApi): void {
  app.get('/v1/stock/:sku', async (request) => {
    const { sku } = parseRequestPart(skuParams, request.params, 'params');
    const { tenant } = parseRequestPart(tenantQuery, request.query, 'query');
    const level = await stock.get({ sku, tenant });
    if (level === null) throw new UnknownSkuError({ tenant: tenant ?? stock.tenant, sku });
    return level;
  });

  app.post('/v1/stock/deduct', async (request, reply) => {
    const body = parseRequestPart(deductBody, request.body, 'body');
    const operationId = operationIdOf(idempotencyKey(request), body.operationId, 'operationId');
    return replayed(reply, await stock.deduct({ operationId, lines: body.lines, tenant: body.tenant }));
  });

  app.post('/v1/stock/deduct-once', async (request, reply) => {
    const body = parseRequestPart(deductOnceBody, request.body, 'body');
    const operationId = operationIdOf(idempotencyKey(request), body.operationId, 'operationId');
    const { userId, sku, quantity = 1, tenant } = body;
    return replayed(reply, await stock.deductOncePerUser({ operationId, userId, sku, quantity, tenant }));
  });

  app.post('/v1/stock/reserve', async (request, reply) => {
    const body = parseRequestPart(reserveBody, request.body, 'body');
    const reservationId = operationIdOf(idempotencyKey(request), body.reservationId, 'reservationId');
    const { lines, ttlMs, tenant } = body;
    return replayed(reply, await stock.reserve({ reservationId, lines, ttlMs, tenant }));
  });

  // Settling is idempotent by the reservation itself: its id is the operation id.
  for (const action of ['confirm', 'release'] as const) {
    app.post(`/v1/stock/${action}`, async (request, reply) => {
      const body = parseRequestPart(settleBody, request.body, 'body');
      const reservationId = operationIdOf(idempotencyKey(request), body.reservationId, 'reservationId');
      return replayed(reply, await stock[action]({ reservationId, tenant: body.tenant }));
    });
  }

  app.post('/v1/stock/restore', async (request, reply) => {
    const body = parseRequestPart(restoreBody, request.body, 'body');
    const operationId = operationIdOf(idempotencyKey(request), body.operationId, 'operationId');
    return replayed(
      reply,
      await stock.restore({ operationId, restores: body.restores, tenant: body.tenant }),
    );
  });

  app.put('/v1/stock/:sku', async (request, reply) => {
    const { sku } = parseRequestPart(skuParams, request.params, 'params');
    const body = parseRequestPart(setBody, request.body, 'body');
    const operationId = operationIdOf(idempotencyKey(request), body.operationId, 'operationId');
    const { expectedVersion, available, tenant } = body;
    return replayed(reply, await stock.set({ operationId, sku, expectedVersion, available, tenant }));
  });

  app.patch('/v1/stock/:sku', async (request, reply) => {
    const { sku } = parseRequestPart(skuParams, request.params, 'params');
    const body = parseRequestPart(adjustBody, request.body, 'body');
    const operationId = operationIdOf(idempotencyKey(request), body.operationId, 'operationId');
    const { expectedVersion, delta, tenant } = body;
    return replayed(reply, await stock.adjust({ operationId, sku, expectedVersion, delta, tenant }));
  });
}

function idempotencyKey(request: FastifyRequest): string | string[] | undefined {
  return request.headers[IDEMPOTENCY_HEADER];
}

function replayed<T extends { replayed: boolean }>(reply: FastifyReply, result: T): T {
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return result;
}
