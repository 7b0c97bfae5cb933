import type { TradectlError } from '../errors.js';
import type { StockLine } from './script-args.js';
import {
  AlreadyPurchasedError,
  InsufficientStockError,
  OperationConflictError,
  ReservationError,
  RestoreError,
  UnknownSkuError,
  unexpectedReply,
  VersionConflictError,
} from './stock-errors.js';

/**
 * The numeric answers of the stock scripts (each .lua file lists the ones it gives) and the one
 * place that turns them into typed errors. No error text is ever parsed back from Redis.
 */
export const STOCK_REPLY = {
  OK: 0,
  INSUFFICIENT: 1,
  UNKNOWN_SKU: 2,
  OP_CONFLICT: 3,
  VERSION_CONFLICT: 4,
  ALREADY_PURCHASED: 5,
  RESERVATION_NOT_FOUND: 6,
  RESERVATION_EXPIRED: 7,
  RESERVATION_SETTLED: 8,
  NOT_APPLIED: 9,
  NOT_RESTORABLE: 10,
  /** Internal: sweep expired reservations, then ask again. */
  SWEEP_NEEDED: 11,
  /** Internal: the sweep found a reservation that is not due yet. */
  NOT_DUE: 12,
  /** Internal: the record's lines changed between reading them and the script; read again. */
  STALE_KEYS: 13,
  ALREADY_RESTORED: 14,
} as const;

export type StockReplyCode = (typeof STOCK_REPLY)[keyof typeof STOCK_REPLY];

/** `{code, replayed, detail}`: the shape every stock script returns. */
export interface ScriptReply {
  code: number;
  /** True when this is the stored answer of an earlier call with the same operation id. */
  replayed: boolean;
  detail: string;
}

export function parseReply(script: string, raw: unknown): ScriptReply {
  if (
    Array.isArray(raw) &&
    raw.length === 3 &&
    typeof raw[0] === 'number' &&
    (raw[1] === 0 || raw[1] === 1)
  ) {
    const detail = raw[2];
    // Lua false (a field that was never set) arrives as null.
    if (typeof detail === 'string' || detail === null) {
      return { code: raw[0], replayed: raw[1] === 1, detail: detail ?? '' };
    }
  }
  throw unexpectedReply(script, raw);
}

/** Comma-separated integers of a detail (`"12,7"` → [12, 7]). */
export function detailNumbers(detail: string, from = 0): number[] {
  if (detail === '') return [];
  const parts = detail.split(',');
  const numbers: number[] = [];
  for (let i = from; i < parts.length; i++) numbers.push(Number(parts[i]));
  return numbers;
}

/** What a failure is about, so its error can name the SKU, the id or the version. */
export interface ReplyContext {
  script: string;
  tenant: string;
  /** The operation (or reservation) id of the call. */
  operationId: string;
  /** The kind the caller asked for, for conflicts (`deduct`, `reserve`…). */
  kind: string;
  /** The lines of the request, for line-numbered details. */
  lines?: readonly StockLine[];
  userId?: string;
  expectedVersion?: number;
  /** The operation a restore targets. */
  restores?: string;
}

/**
 * The typed error of a failure answer. Throws TRADECTL_STOCK_SCRIPT_REPLY for a code that is not
 * a failure a caller can meet (OK and the internal codes are handled by the service first).
 */
export function stockErrorFor(reply: ScriptReply, context: ReplyContext): TradectlError {
  const { tenant } = context;
  const lineSku = (index: number): string => context.lines?.[index - 1]?.sku ?? '?';
  switch (reply.code) {
    case STOCK_REPLY.INSUFFICIENT: {
      const [line = 0, available = 0, requested = 0] = detailNumbers(reply.detail);
      return new InsufficientStockError({
        tenant,
        sku: lineSku(line),
        available,
        requested,
        replayed: reply.replayed,
      });
    }
    case STOCK_REPLY.UNKNOWN_SKU:
      return new UnknownSkuError({ tenant, sku: lineSku(Number(reply.detail)) });
    case STOCK_REPLY.OP_CONFLICT:
      return new OperationConflictError({
        tenant,
        operationId: context.operationId,
        storedKind: reply.detail,
        kind: context.kind,
      });
    case STOCK_REPLY.VERSION_CONFLICT:
      return new VersionConflictError({
        tenant,
        sku: lineSku(1),
        expectedVersion: context.expectedVersion ?? -1,
        currentVersion: Number(reply.detail),
      });
    case STOCK_REPLY.ALREADY_PURCHASED:
      return new AlreadyPurchasedError({
        tenant,
        sku: lineSku(1),
        userId: context.userId ?? '?',
        replayed: reply.replayed,
      });
    case STOCK_REPLY.RESERVATION_NOT_FOUND:
      return new ReservationError({ tenant, reservationId: context.operationId, problem: 'not_found' });
    case STOCK_REPLY.RESERVATION_EXPIRED:
      return new ReservationError({ tenant, reservationId: context.operationId, problem: 'expired' });
    case STOCK_REPLY.RESERVATION_SETTLED:
      return new ReservationError({
        tenant,
        reservationId: context.operationId,
        problem: 'settled',
        state: reply.detail,
      });
    case STOCK_REPLY.NOT_APPLIED:
    case STOCK_REPLY.NOT_RESTORABLE:
    case STOCK_REPLY.ALREADY_RESTORED:
      return new RestoreError({
        tenant,
        operationId: context.operationId,
        restores: context.restores ?? '?',
        problem:
          reply.code === STOCK_REPLY.NOT_APPLIED
            ? 'not_applied'
            : reply.code === STOCK_REPLY.NOT_RESTORABLE
              ? 'not_restorable'
              : 'already_restored',
        detail: reply.detail,
      });
    default:
      return unexpectedReply(context.script, [reply.code, reply.replayed ? 1 : 0, reply.detail]);
  }
}
