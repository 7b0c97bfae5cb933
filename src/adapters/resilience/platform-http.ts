import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { Logger } from '../../core/logger.js';
import { NOT_SENT_CODES } from '../../core/network-codes.js';
import type { AuthStrategy, ErrorClassifier, HttpFailure, PlatformHttp, PlatformRequest } from '../types.js';
import type { PlatformBreaker } from './breaker.js';
import { classifyHttpFailure } from './classify-http-failure.js';
import { HttpStats, type PlatformHttpMetrics, teeMetrics } from './http-stats.js';
import { PLATFORM_ERROR_CODES as CODES, PlatformError, reauthoriseHint } from './platform-error.js';
import type { RateLimiter } from './rate-limiter.js';
import { type RetryPolicy, retry } from './retry.js';
import { normaliseHeaders, type UsageObserver } from './usage-headers.js';

export interface CreatePlatformHttpOptions {
  platform: string;
  account: string;
  /** The API root requests are relative to (the adapter applies the account's override). */
  baseUrl: string;
  auth: AuthStrategy;
  classify: ErrorClassifier;
  /** The account's limiter: one bucket per operation class. */
  limiter: RateLimiter;
  /** The account's breaker, shared by every client of the account. */
  breaker: PlatformBreaker;
  retryPolicy?: Partial<RetryPolicy>;
  logger: Logger;
  /** An exporter (prom-client, wired by the worker) next to the built-in stats. */
  metrics?: PlatformHttpMetrics;
  /** Per-request timeout, ms. Default 30,000. */
  timeoutMs?: number;
  axiosInstance?: AxiosInstance;
  observeUsage?: UsageObserver;
}

/** A PlatformHttp with its request counters. */
export interface PlatformHttpClient extends PlatformHttp {
  readonly stats: HttpStats;
}

/**
 * The account's one HTTP choke point:
 *
 *   retry( breaker( limiter.schedule( authorize -> axios -> observe usage -> classify ) ) )
 *
 * - every attempt takes a token from the operation's bucket and counts in the account's breaker;
 * - a response the platform's classifier calls authExpired invalidates the token and repeats
 *   once, outside the retry budget (a second one is the auth error it is, with a hint);
 * - throttling empties the bucket for the Retry-After, and the retry waits at least as long;
 * - a network failure of a request marked `idempotent: false` after it was sent is
 *   TRADECTL_PLATFORM_INDETERMINATE, never retried;
 * - axios never throws on a status (`validateStatus`): every response is classified here.
 */
export function createPlatformHttp(options: CreatePlatformHttpOptions): PlatformHttpClient {
  const { platform, account, auth, limiter, breaker } = options;
  const http = options.axiosInstance ?? axios;
  const stats = new HttpStats();
  const metrics = teeMetrics(stats, options.metrics);
  const logger = options.logger.child({ platform, account });
  const timeout = options.timeoutMs ?? 30_000;

  // The authorized request each error came from: invalidate() needs the token that failed.
  const authorizedOf = new WeakMap<PlatformError, PlatformRequest>();

  async function send(request: PlatformRequest, afterRefresh: boolean): Promise<AxiosResponse> {
    const labels = { platform, account, operation: request.operation };
    const authorized = await auth.authorize(request);
    const { operation: _operation, weight: _weight, idempotent: _idempotent, ...config } = authorized;
    metrics.increment('requests', labels);
    let response: AxiosResponse | undefined;
    let failure: HttpFailure;
    try {
      const answer: AxiosResponse = await http.request({
        ...config,
        baseURL: options.baseUrl,
        timeout,
        validateStatus: () => true,
      });
      response = answer;
      failure = {
        type: 'response',
        status: answer.status,
        headers: normaliseHeaders(answer.headers),
        data: answer.data,
      };
    } catch (error) {
      const signal = request.signal as AbortSignal | undefined;
      if (signal?.aborted) throw signal.reason;
      if (!axios.isAxiosError(error)) throw error;
      const code = error.code ?? (error.cause as { code?: string } | undefined)?.code;
      failure = {
        type: 'network',
        code,
        message: error.message,
        requestSent: !(code && NOT_SENT_CODES.has(code)),
      };
    }
    if (failure.type === 'response') await observe(request.operation, failure.headers, failure.data);
    let classified =
      options.classify(failure) ?? (failure.type === 'network' ? classifyHttpFailure(failure) : null);
    if (!classified && response) return response;
    if (!classified) throw new Error('unreachable: a network failure is always classified');
    if (failure.type === 'network' && failure.requestSent && request.idempotent === false) {
      classified = {
        code: CODES.indeterminate,
        kind: 'transient',
        retriable: false,
        message: `sent, but no answer came (${classified.message}): it may or may not have applied`,
        details: classified.details,
      };
    }
    const error = PlatformError.fromClassified(
      afterRefresh && classified.authExpired ? { ...classified, authExpired: false } : classified,
      {
        ...labels,
        status: failure.type === 'response' ? failure.status : undefined,
        hint:
          afterRefresh && classified.authExpired
            ? (auth.rejectionHint?.() ??
              `the platform rejected a freshly obtained token; ${reauthoriseHint(platform, account)}`)
            : undefined,
      },
    );
    if (error.throttled) {
      metrics.increment('throttled', labels);
      await limiter.penalise(request.operation, error.retryAfterMs);
    }
    authorizedOf.set(error, authorized);
    throw error;
  }

  // Best effort: a usage header we cannot read or apply never fails the call it came with.
  async function observe(operation: string, headers: Record<string, string>, data: unknown): Promise<void> {
    try {
      const correction = options.observeUsage?.(headers, data);
      if (correction) await limiter.correct(operation, correction);
    } catch (error) {
      logger.warn({ err: error, operation }, 'could not apply the rate-limit usage the platform reported');
    }
  }

  async function attempt(request: PlatformRequest): Promise<AxiosResponse> {
    const labels = { platform, account, operation: request.operation };
    for (let refreshed = false; ; refreshed = true) {
      try {
        return await breaker.fire(async () => {
          // A token fetch happens before the rate-limit token is taken, not while it is held: the
          // platform's bucket starts counting when the request arrives, and a grant followed by a
          // slow token fetch put our bucket that much refill ahead of it (a 429 per backfill
          // against the strict sandbox). send() authorizes again, from the cache.
          await auth.authorize(request);
          return limiter.schedule(request.operation, () => send(request, refreshed), {
            weight: request.weight,
            signal: request.signal as AbortSignal | undefined,
          });
        }, request.operation);
      } catch (error) {
        if (!(error instanceof PlatformError) || !error.authExpired || refreshed) throw error;
        metrics.increment('authRefreshes', labels);
        await auth.invalidate(authorizedOf.get(error));
      }
    }
  }

  return {
    stats,
    async request<T = unknown>(request: PlatformRequest): Promise<AxiosResponse<T>> {
      const labels = { platform, account, operation: request.operation };
      try {
        return (await retry(
          () => attempt(request),
          {
            ...options.retryPolicy,
            onRetry: (info) => {
              metrics.increment('retries', labels);
              logger.debug(
                {
                  operation: request.operation,
                  attempt: info.attempt,
                  delayMs: info.delayMs,
                  err: info.error,
                },
                'platform call failed, retrying',
              );
              options.retryPolicy?.onRetry?.(info);
            },
          },
          request.signal as AbortSignal | undefined,
        )) as AxiosResponse<T>;
      } catch (error) {
        metrics.increment('failures', labels);
        throw error;
      }
    },
  };
}
