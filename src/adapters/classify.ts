import { classifyHttpFailure, headerValue, parseRetryAfter } from './resilience/classify-http-failure.js';
import { PLATFORM_ERROR_CODES as CODES } from './resilience/platform-error.js';
import type { ClassifiedError, HttpFailure } from './types.js';

/**
 * Table-driven classification of platform failures, shared by every adapter's `errors.ts`.
 * Each platform lists its own rules (first match wins) and says how to read its error
 * envelope; a failure no rule matches (and every network failure) falls back to the shared
 * classification of the resilience layer. The platform's codes and messages always travel in
 * `details`; what is not understood is never retried and keeps the raw body.
 */

/** What a platform's error envelope says, read once per failure. */
export interface PlatformErrorInfo {
  /** Platform error codes (`QuotaExceeded`, eBay errorIds as text). */
  codes: string[];
  /** Messages and details joined, for text rules and the error message. */
  text: string;
}

/** The outcome classes a rule can assign. */
export type ErrorClass = 'authExpired' | 'authRejected' | 'throttled' | 'unavailable' | 'rejected';

export interface ClassifyRule {
  /** One status, a list, or a predicate (`(s) => s >= 500`). */
  status: number | readonly number[] | ((status: number) => boolean);
  /** Matches only when the envelope carries this platform code. */
  code?: string;
  /** Matches only when the envelope's text matches. */
  text?: RegExp;
  is: ErrorClass;
  /** Why, in words (the platform's own message is appended). */
  why: string;
  /** What the operator can do, for configuration errors. */
  hint?: string;
}

type ClassShape = Pick<ClassifiedError, 'code' | 'kind' | 'retriable' | 'authExpired' | 'throttled'>;

const CLASSES: Readonly<Record<ErrorClass, ClassShape>> = {
  // The choke point refreshes the token once and repeats; a second rejection stays config.
  authExpired: { code: CODES.auth, kind: 'config', retriable: false, authExpired: true },
  authRejected: { code: CODES.auth, kind: 'config', retriable: false },
  // Throttling is transient and never a breaker failure.
  throttled: { code: CODES.throttled, kind: 'transient', retriable: true, throttled: true },
  unavailable: { code: CODES.unavailable, kind: 'transient', retriable: true },
  // The platform refused this request as it is (validation, not found, conflict): data.
  rejected: { code: CODES.rejected, kind: 'data', retriable: false },
};

const MAX_BODY_CHARS = 2000;

export interface PlatformClassifier {
  platform: string;
  rules: readonly ClassifyRule[];
  read(data: unknown): PlatformErrorInfo;
}

/** Classifies one failure with a platform's table; null for a successful response. */
export function classifyWithTable(table: PlatformClassifier, failure: HttpFailure): ClassifiedError | null {
  // Network failures carry no envelope: the shared classification decides (a response cut off
  // mid-body included).
  if (failure.type === 'network') return classifyHttpFailure(failure);
  const { status } = failure;
  if (status >= 200 && status < 400) return null;
  const info = table.read(failure.data);
  const rule = table.rules.find((candidate) => matches(candidate, status, info));
  const said = info.text ? `: ${truncate(info.text, 300)}` : '';
  const details = {
    status,
    platformCodes: info.codes,
    body: rawBody(failure.data),
    ...(rule?.hint ? { hint: rule.hint } : {}),
  };
  if (!rule) {
    // Not in the table: the shared classes decide, the platform's words are kept.
    const shared = classifyHttpFailure(failure);
    if (!shared) return null;
    return { ...shared, message: `${table.platform} ${shared.message}${said}`, details };
  }
  const result: ClassifiedError = {
    ...CLASSES[rule.is],
    message: `${table.platform} ${status} ${rule.why}${said}`,
    details,
  };
  if (rule.is === 'throttled' || rule.is === 'unavailable') {
    const retryAfterMs = parseRetryAfter(headerValue(failure.headers, 'retry-after'));
    if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  }
  return result;
}

function matches(rule: ClassifyRule, status: number, info: PlatformErrorInfo): boolean {
  const statusOk =
    typeof rule.status === 'function'
      ? rule.status(status)
      : typeof rule.status === 'number'
        ? rule.status === status
        : rule.status.includes(status);
  if (!statusOk) return false;
  if (rule.code !== undefined && !info.codes.includes(rule.code)) return false;
  if (rule.text !== undefined && !rule.text.test(info.text)) return false;
  return true;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// The raw body stays for diagnosis, bounded so an HTML error page cannot flood the logs.
function rawBody(data: unknown): string {
  let text: string;
  try {
    text = typeof data === 'string' ? data : (JSON.stringify(data) ?? String(data));
  } catch {
    text = String(data);
  }
  return truncate(text, MAX_BODY_CHARS);
}
