import { type ErrorKind, TradectlError } from '../../core/errors.js';
import type { ClassifiedError } from '../types.js';

/**
 * Stable codes of the resilience layer (documented in docs/errors.md). What each one asks of the
 * caller:
 *
 * - THROTTLED, UNAVAILABLE, NETWORK, TIMEOUT: transient, retried with backoff; 429 waits at least
 *   the platform's Retry-After. Throttling never counts as a breaker failure.
 * - INDETERMINATE: a non-idempotent write was sent and no answer came; it may have applied, so it
 *   is recorded and checked later, never repeated blindly.
 * - AUTH: credentials revoked or lacking permission (`config`): stop this account, tell the operator.
 * - REJECTED: the platform refused this request as invalid (`data`); retrying cannot help.
 * - BREAKER_OPEN: the account's breaker cuts calls off for a while; the scheduler tries later.
 * - RETRIES_EXHAUSTED: every attempt failed transiently; keeps the attempt count and last cause.
 * - LIMITER_UNAVAILABLE, TOKEN_STORE: our own Redis-backed state could not be reached.
 */
export const PLATFORM_ERROR_CODES = {
  throttled: 'TRADECTL_PLATFORM_THROTTLED',
  unavailable: 'TRADECTL_PLATFORM_UNAVAILABLE',
  network: 'TRADECTL_PLATFORM_NETWORK',
  timeout: 'TRADECTL_PLATFORM_TIMEOUT',
  indeterminate: 'TRADECTL_PLATFORM_INDETERMINATE',
  auth: 'TRADECTL_PLATFORM_AUTH',
  rejected: 'TRADECTL_PLATFORM_REJECTED',
  breakerOpen: 'TRADECTL_BREAKER_OPEN',
  retriesExhausted: 'TRADECTL_RETRIES_EXHAUSTED',
  limiterUnavailable: 'TRADECTL_LIMITER_UNAVAILABLE',
  tokenStore: 'TRADECTL_TOKEN_STORE',
} as const;

/** Where a platform call was going: the labels of every error, log line and counter. */
export interface PlatformCallContext {
  platform: string;
  account: string;
  operation: string;
}

export interface PlatformErrorOptions extends PlatformCallContext {
  kind: ErrorKind;
  retriable?: boolean;
  /** HTTP status, when the platform answered at all. */
  status?: number;
  /** The wait the platform asked for (Retry-After), in ms. */
  retryAfterMs?: number;
  throttled?: boolean;
  authExpired?: boolean;
  /** A write that was sent without an answer: it may or may not have applied. */
  indeterminate?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
  hint?: string;
}

/**
 * A failed platform call, classified. The flags are what the layers act on: `retriable` (retry),
 * `throttled` (limiter pause, not a breaker failure), `authExpired` (refresh the token once),
 * `indeterminate` (record the write as unknown), `kind` (pause the account, quarantine a record).
 */
export class PlatformError extends TradectlError {
  readonly platform: string;
  readonly account: string;
  readonly operation: string;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly throttled: boolean;
  readonly authExpired: boolean;
  readonly indeterminate: boolean;

  constructor(code: string, message: string, options: PlatformErrorOptions) {
    const { platform, account, operation, status } = options;
    super(code, `${platform}/${account} ${operation}: ${message}`, {
      kind: options.kind,
      retriable: options.retriable,
      cause: options.cause,
      hint: options.hint,
      details: {
        platform,
        account,
        operation,
        ...(status === undefined ? {} : { status }),
        ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
        ...options.details,
      },
    });
    this.name = 'PlatformError';
    this.platform = platform;
    this.account = account;
    this.operation = operation;
    this.status = status;
    this.retryAfterMs = options.retryAfterMs;
    this.throttled = options.throttled ?? false;
    this.authExpired = options.authExpired ?? false;
    this.indeterminate = options.indeterminate ?? false;
  }

  /** Builds the error a platform's classifier described. */
  static fromClassified(
    classified: ClassifiedError,
    context: PlatformCallContext & { status?: number; cause?: unknown; hint?: string },
  ): PlatformError {
    return new PlatformError(classified.code, classified.message, {
      ...context,
      kind: classified.kind,
      retriable: classified.retriable,
      retryAfterMs: classified.retryAfterMs,
      throttled: classified.throttled,
      authExpired: classified.authExpired,
      indeterminate: classified.code === PLATFORM_ERROR_CODES.indeterminate,
      details: classified.details,
      hint: context.hint ?? hintFor(classified),
    });
  }
}

/**
 * Every attempt failed with a retriable error. Not retriable itself (the loop that threw it has
 * given up); keeps the class of the last failure so the scheduler can still act on it.
 */
export class RetriesExhaustedError extends TradectlError {
  readonly attempts: number;
  readonly lastError: unknown;

  constructor(attempts: number, lastError: unknown) {
    const last = lastError instanceof TradectlError ? lastError : undefined;
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    super(PLATFORM_ERROR_CODES.retriesExhausted, `gave up after ${attempts} attempts: ${message}`, {
      kind: last?.kind ?? 'transient',
      retriable: false,
      cause: lastError,
      details: { ...last?.details, attempts, lastCode: last?.code },
    });
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
    this.lastError = lastError;
  }
}

export function isPlatformError(error: unknown): error is PlatformError {
  return error instanceof PlatformError;
}

/** Hint for the operator, for the codes whose fix is theirs. */
export function reauthoriseHint(platform: string, account: string): string {
  return (
    `re-authorise the account: run the ${platform} consent flow for account "${account}" again and put the ` +
    'new refresh token in its credentials (config file or environment), then restart the account'
  );
}

function hintFor(classified: ClassifiedError): string | undefined {
  if (classified.code !== PLATFORM_ERROR_CODES.auth || classified.authExpired) return undefined;
  return 'check the credentials and the permissions (scopes, roles) granted to the app for this account';
}
