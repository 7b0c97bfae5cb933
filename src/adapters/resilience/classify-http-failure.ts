import { NOT_SENT_CODES } from '../../core/network-codes.js';
import type { ClassifiedError, HttpFailure } from '../types.js';
import { PLATFORM_ERROR_CODES as CODES } from './platform-error.js';

/**
 * The classification every platform shares; each platform's table in its `errors.ts` handles
 * its own envelopes first (Amazon's 403 "token expired", Shopify GraphQL's 200 THROTTLED) and
 * falls back to this:
 *
 * | failure                                   | code          | kind      | retriable |
 * |-------------------------------------------|---------------|-----------|-----------|
 * | 2xx                                       | (none)        |           |           |
 * | 429                                       | THROTTLED     | transient | yes, after Retry-After |
 * | 5xx                                       | UNAVAILABLE   | transient | yes       |
 * | 408, timeouts (ECONNABORTED, ETIMEDOUT)   | TIMEOUT       | transient | yes       |
 * | ECONNRESET, ECONNREFUSED, socket hang up… | NETWORK       | transient | yes       |
 * | response cut off mid-body (axios           | NETWORK       | transient | yes       |
 * |   ERR_BAD_RESPONSE "stream has been aborted")|             |           |           |
 * | unknown network error code                | NETWORK       | transient | no        |
 * | 401                                       | AUTH (expired)| config    | no, refresh once |
 * | 403                                       | AUTH          | config    | no        |
 * | other 4xx, 1xx/3xx                        | REJECTED      | data      | no        |
 *
 * Whether a network failure of a non-idempotent write is indeterminate is decided by the caller,
 * which knows the request (see platform-http.ts).
 */
export function classifyHttpFailure(
  failure: HttpFailure,
  options: { now?: () => number } = {},
): ClassifiedError | null {
  if (failure.type === 'network') return classifyNetwork(failure);
  const { status } = failure;
  if (status >= 200 && status < 300) return null;
  const details = { status, body: truncateBody(failure.data) };
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headerValue(failure.headers, 'retry-after'), options.now?.());
    return {
      code: CODES.throttled,
      kind: 'transient',
      retriable: true,
      throttled: true,
      retryAfterMs,
      message: `throttled (429)${retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`}`,
      details,
    };
  }
  if (status >= 500) {
    const retryAfterMs = parseRetryAfter(headerValue(failure.headers, 'retry-after'), options.now?.());
    return {
      code: CODES.unavailable,
      kind: 'transient',
      retriable: true,
      retryAfterMs,
      message: `platform error ${status}`,
      details,
    };
  }
  if (status === 408) {
    return {
      code: CODES.timeout,
      kind: 'transient',
      retriable: true,
      message: 'request timeout (408)',
      details,
    };
  }
  if (status === 401) {
    return {
      code: CODES.auth,
      kind: 'config',
      retriable: false,
      authExpired: true,
      message: 'credentials rejected (401)',
      details,
    };
  }
  if (status === 403) {
    return { code: CODES.auth, kind: 'config', retriable: false, message: 'access denied (403)', details };
  }
  return {
    code: CODES.rejected,
    kind: 'data',
    retriable: false,
    message: `request rejected (${status})`,
    details,
  };
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
// Never connected (NOT_SENT_CODES), or the connection broke: both heal by themselves.
const TRANSIENT_NETWORK_CODES = new Set([
  ...NOT_SENT_CODES,
  'ECONNRESET',
  'EPIPE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function classifyNetwork(failure: Extract<HttpFailure, { type: 'network' }>): ClassifiedError {
  const code = failure.code;
  const details = { networkCode: code, requestSent: failure.requestSent };
  if ((code && TIMEOUT_CODES.has(code)) || /timeout/i.test(failure.message)) {
    return { code: CODES.timeout, kind: 'transient', retriable: true, message: failure.message, details };
  }
  if (isCutOff(failure)) {
    return {
      code: CODES.network,
      kind: 'transient',
      retriable: true,
      message: `network error: response cut off (${failure.message})`,
      details: { ...details, cutOff: true },
    };
  }
  // Node reports a peer closing mid-response as "socket hang up", sometimes without a code.
  const known = (code && TRANSIENT_NETWORK_CODES.has(code)) || /socket hang up/i.test(failure.message);
  return {
    code: CODES.network,
    kind: 'transient',
    // An unknown code is more likely our bug (bad URL, bad option) than the network's: not retried.
    retriable: Boolean(known),
    message: `network error ${code ?? ''} ${failure.message}`.replace(/\s+/g, ' ').trim(),
    details,
  };
}

/**
 * The connection died after the status line, before the body ended: axios rejects with
 * ERR_BAD_RESPONSE "stream has been aborted" (fetch/undici say "terminated"). The request was
 * sent, so a non-idempotent write is indeterminate (platform-http.ts); a read is simply repeated.
 * ERR_BAD_RESPONSE also reports a body over maxContentLength, which no retry fixes: only the
 * cut-off messages count.
 */
function isCutOff(failure: Extract<HttpFailure, { type: 'network' }>): boolean {
  return failure.code === 'ERR_BAD_RESPONSE' && /\b(aborted|terminated)\b/i.test(failure.message);
}

/**
 * Retry-After as milliseconds from now: delta-seconds (`2`, or Shopify's fractional `2.0`) or an
 * HTTP date. Absent, unparseable or in the past: undefined (a date in the past asks for no wait).
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Case-insensitive header lookup (axios lower-cases, nock and tests may not). */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

const MAX_BODY_CHARS = 2000;

// The raw body stays in the error for diagnosis, but a 5 MB HTML error page must not.
function truncateBody(data: unknown): unknown {
  if (typeof data === 'string') {
    return data.length > MAX_BODY_CHARS ? `${data.slice(0, MAX_BODY_CHARS)}…(${data.length} chars)` : data;
  }
  if (data === null || data === undefined || typeof data !== 'object') return data;
  try {
    const text = JSON.stringify(data);
    return text.length > MAX_BODY_CHARS ? `${text.slice(0, MAX_BODY_CHARS)}…(${text.length} chars)` : data;
  } catch {
    return '[unserialisable body]';
  }
}
