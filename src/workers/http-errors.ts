import { type FieldIssue, TradectlError, ValidationError } from '../core/errors.js';
import {
  AlreadyPurchasedError,
  InsufficientStockError,
  OperationConflictError,
  ReservationError,
  RestoreError,
  UnknownSkuError,
  VersionConflictError,
} from '../core/stock/stock-errors.js';

/**
 * How the HTTP API answers a failure: one mapper from errors to statuses and JSON bodies, so every
 * route answers the same way (docs/stock-http.md). Bodies carry the error's code, message, and
 * its field issues or details (sku, available, requested...), which never hold secrets; a failure
 * that is not a known error is a 500 saying only where to look, its cause stays in the log.
 */

export interface HttpErrorBody {
  error: {
    code: string;
    message: string;
    /** One entry per bad field, by path (`lines[0].quantity`, `Idempotency-Key`). */
    issues?: readonly FieldIssue[];
    /** What the caller can act on: `sku`, `available`, `requested`, `currentVersion`... */
    details?: Record<string, unknown>;
    hint?: string;
  };
}

export interface HttpErrorAnswer {
  status: number;
  body: HttpErrorBody;
  headers: Record<string, string>;
}

export const HTTP_UNAUTHORIZED = 'TRADECTL_HTTP_UNAUTHORIZED';
export const HTTP_NOT_FOUND = 'TRADECTL_HTTP_NOT_FOUND';
export const HTTP_INTERNAL = 'TRADECTL_HTTP_INTERNAL';

/** The answer to a request without a valid bearer token: the same whatever was wrong with it. */
export function unauthorized(): HttpErrorAnswer {
  return {
    status: 401,
    body: { error: { code: HTTP_UNAUTHORIZED, message: 'missing or invalid bearer token' } },
    headers: { 'www-authenticate': 'Bearer realm="tradectl"' },
  };
}

export function routeNotFound(method: string, url: string): HttpErrorAnswer {
  const path = url.split('?')[0] ?? '';
  return {
    status: 404,
    body: {
      error: {
        code: HTTP_NOT_FOUND,
        message: `no route ${method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`,
      },
    },
    headers: {},
  };
}

/** Status and body of any error a route or fastify raised. */
export function httpErrorFor(error: unknown): HttpErrorAnswer {
  if (error instanceof ValidationError) {
    return answer(400, { code: error.code, message: error.message, issues: error.issues });
  }
  if (error instanceof TradectlError) {
    const status = statusOf(error);
    if (status !== undefined) {
      const body: HttpErrorBody['error'] = {
        code: error.code,
        message: error.message,
        details: publicDetails(error),
      };
      if (error.hint) body.hint = error.hint;
      const headers: Record<string, string> = status === 503 ? { 'retry-after': '1' } : {};
      // A stored refusal (insufficient stock, already purchased) repeated for a retried id.
      if (error.details.replayed === true) headers['idempotent-replayed'] = 'true';
      return { status, body: { error: body }, headers };
    }
  }
  // fastify's own refusals (malformed JSON, wrong content type, body too large) carry a 4xx.
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const issue =
      (error as { code?: unknown }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? { path: 'Content-Type', message: 'expected application/json' }
        : { path: 'body', message: (error as Error).message };
    return answer(statusCode, {
      code: 'TRADECTL_INVALID_INPUT',
      message: 'invalid request',
      issues: [issue],
    });
  }
  return answer(500, { code: HTTP_INTERNAL, message: 'internal error: see the worker log' });
}

/** True when the error is the server's fault (logged with its cause), not the caller's. */
export function isServerFault(answer: HttpErrorAnswer): boolean {
  return answer.status >= 500;
}

function statusOf(error: TradectlError): number | undefined {
  if (error instanceof UnknownSkuError) return 404;
  if (error instanceof ReservationError) return error.problem === 'not_found' ? 404 : 409;
  if (
    error instanceof InsufficientStockError ||
    error instanceof VersionConflictError ||
    error instanceof OperationConflictError ||
    error instanceof AlreadyPurchasedError ||
    error instanceof RestoreError
  ) {
    return 409;
  }
  if (error.code === 'TRADECTL_STOCK_UNAVAILABLE') return 503;
  return undefined;
}

// The stock errors' details are ids and numbers the caller sent or may see (tenant, sku,
// available, requested, versions); the unavailable error has none. Nothing else is passed on.
function publicDetails(error: TradectlError): Record<string, unknown> | undefined {
  return Object.keys(error.details).length === 0 ? undefined : { ...error.details };
}

function answer(status: number, error: HttpErrorBody['error']): HttpErrorAnswer {
  return { status, body: { error }, headers: {} };
}
