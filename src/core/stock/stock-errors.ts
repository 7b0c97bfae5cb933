import { TradectlError } from '../errors.js';

/**
 * The typed errors of the stock API. Each answer a script can give maps to one of these in
 * reply-codes.ts (numeric codes, never parsed strings). The HTTP layer maps them to statuses:
 * insufficient stock and conflicts are 409, unknown SKUs and reservations 404.
 */

/** A line asked for more than is available. Stored as the operation's answer: a retry repeats it. */
export class InsufficientStockError extends TradectlError {
  readonly sku: string;
  readonly available: number;
  readonly requested: number;

  constructor(input: {
    tenant: string;
    sku: string;
    available: number;
    requested: number;
    replayed: boolean;
  }) {
    super(
      'TRADECTL_STOCK_INSUFFICIENT',
      `insufficient stock for ${input.sku}: ${input.requested} requested, ${input.available} available`,
      { kind: 'data', details: { ...input } },
    );
    this.name = 'InsufficientStockError';
    this.sku = input.sku;
    this.available = input.available;
    this.requested = input.requested;
  }
}

/** The SKU has no stock in Redis (never set, or Redis lost it and it was not warmed up). */
export class UnknownSkuError extends TradectlError {
  readonly sku: string;

  constructor(input: { tenant: string; sku: string }) {
    super('TRADECTL_STOCK_UNKNOWN_SKU', `unknown SKU ${input.sku} (tenant ${input.tenant})`, {
      kind: 'data',
      details: { ...input },
      hint: 'create it with tradectl stock set, or load Redis from MySQL with tradectl stock warmup',
    });
    this.name = 'UnknownSkuError';
    this.sku = input.sku;
  }
}

/** A compare-and-set write expected another version: someone changed the SKU in between. */
export class VersionConflictError extends TradectlError {
  readonly sku: string;
  readonly expectedVersion: number;
  readonly currentVersion: number;

  constructor(input: { tenant: string; sku: string; expectedVersion: number; currentVersion: number }) {
    super(
      'TRADECTL_STOCK_VERSION_CONFLICT',
      `${input.sku} is at version ${input.currentVersion}, not ${input.expectedVersion}: it changed since it was read`,
      { kind: 'data', details: { ...input }, hint: 'read the SKU again and decide on its current state' },
    );
    this.name = 'VersionConflictError';
    this.sku = input.sku;
    this.expectedVersion = input.expectedVersion;
    this.currentVersion = input.currentVersion;
  }
}

/** An operation id came back with a different request (or another kind of operation). */
export class OperationConflictError extends TradectlError {
  readonly operationId: string;

  constructor(input: { tenant: string; operationId: string; storedKind: string; kind: string }) {
    super(
      'TRADECTL_STOCK_OPERATION_CONFLICT',
      `operation id ${input.operationId} was already used for another request (${input.storedKind})`,
      { kind: 'data', details: { ...input }, hint: 'use a new operation id for a new request' },
    );
    this.name = 'OperationConflictError';
    this.operationId = input.operationId;
  }
}

/** The flash-sale rule: this user already bought this SKU. */
export class AlreadyPurchasedError extends TradectlError {
  constructor(input: { tenant: string; sku: string; userId: string; replayed: boolean }) {
    super('TRADECTL_STOCK_ALREADY_PURCHASED', `user ${input.userId} already bought ${input.sku}`, {
      kind: 'data',
      details: { ...input },
    });
    this.name = 'AlreadyPurchasedError';
  }
}

export type ReservationProblem = 'not_found' | 'expired' | 'settled';

const RESERVATION_CODES: Record<ReservationProblem, string> = {
  not_found: 'TRADECTL_STOCK_RESERVATION_NOT_FOUND',
  expired: 'TRADECTL_STOCK_RESERVATION_EXPIRED',
  settled: 'TRADECTL_STOCK_RESERVATION_SETTLED',
};

/** A reservation cannot do what was asked: unknown, expired before its confirm, or settled otherwise. */
export class ReservationError extends TradectlError {
  readonly reservationId: string;
  readonly problem: ReservationProblem;

  constructor(input: { tenant: string; reservationId: string; problem: ReservationProblem; state?: string }) {
    const text: Record<ReservationProblem, string> = {
      not_found: 'does not exist (unknown, refused, or past its retention)',
      expired: 'expired before it was confirmed; its stock went back to available',
      settled: `is already ${input.state ?? 'settled'}`,
    };
    super(RESERVATION_CODES[input.problem], `reservation ${input.reservationId} ${text[input.problem]}`, {
      kind: 'data',
      details: { ...input },
    });
    this.name = 'ReservationError';
    this.reservationId = input.reservationId;
    this.problem = input.problem;
  }
}

export type RestoreProblem = 'not_applied' | 'not_restorable' | 'already_restored';

const RESTORE_CODES: Record<RestoreProblem, string> = {
  not_applied: 'TRADECTL_STOCK_NOT_APPLIED',
  not_restorable: 'TRADECTL_STOCK_NOT_RESTORABLE',
  already_restored: 'TRADECTL_STOCK_ALREADY_RESTORED',
};

/** A restore was refused: the target never took stock, cannot be restored, or already was. */
export class RestoreError extends TradectlError {
  readonly problem: RestoreProblem;

  constructor(input: {
    tenant: string;
    operationId: string;
    restores: string;
    problem: RestoreProblem;
    detail: string;
  }) {
    const text: Record<RestoreProblem, string> = {
      not_applied: 'never took stock (unknown, refused, or past the idempotency window)',
      not_restorable: `sold nothing that can be given back (${input.detail})`,
      already_restored: `was already restored by ${input.detail}`,
    };
    super(RESTORE_CODES[input.problem], `operation ${input.restores} ${text[input.problem]}`, {
      kind: 'data',
      details: { ...input },
    });
    this.name = 'RestoreError';
    this.problem = input.problem;
  }
}

/** Redis could not be reached or failed: retrying is safe, a change with the same operation id. */
export function stockUnavailable(operation: string, cause: unknown): TradectlError {
  return new TradectlError('TRADECTL_STOCK_UNAVAILABLE', `${operation}: Redis is unavailable`, {
    kind: 'transient',
    cause,
    hint: 'retry once Redis answers; a change retried with the same operation id never applies twice',
  });
}

/** A script answered something its contract does not allow: a bug, or a foreign script version. */
export function unexpectedReply(script: string, reply: unknown): TradectlError {
  return new TradectlError('TRADECTL_STOCK_SCRIPT_REPLY', `${script} gave an unexpected reply`, {
    kind: 'internal',
    details: { script, reply: JSON.stringify(reply)?.slice(0, 200) },
  });
}
