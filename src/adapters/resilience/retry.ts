import { isRetriable } from '../../core/errors.js';
import { RetriesExhaustedError } from './platform-error.js';
import { sleep as defaultSleep } from './sleep.js';

/**
 * When and how long to retry. Only errors with `retriable === true` are retried; everything else
 * (bad data, revoked credentials, an open breaker, programmer errors) is rethrown at once.
 * The formula, worked through, is in docs/retries.md.
 */
export interface RetryPolicy {
  /** Attempts after the first. Default 5. */
  retries: number;
  /** Backoff base in ms: the cap of the first wait. Default 250. */
  baseMs: number;
  /** No backoff wait exceeds this, in ms. Default 30,000. */
  maxMs: number;
  /**
   * A platform asking for a longer wait than this (Retry-After) ends the loop: the scheduler
   * comes back later instead of holding a worker. Default 120,000.
   */
  maxRetryAfterMs: number;
  /** Injectable for tests; the default is an abortable setTimeout. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injectable for tests; uniform in [0, 1). Default Math.random. */
  random: () => number;
  /** Called before each wait: metrics and debug logs. */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  /** The attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 5,
  baseMs: 250,
  maxMs: 30_000,
  maxRetryAfterMs: 120_000,
  sleep: defaultSleep,
  random: Math.random,
};

/**
 * Full-jitter exponential backoff: a wait drawn uniformly from [0, min(maxMs, baseMs * 2^(n-1)))
 * after the n-th failed attempt, raised to the platform's Retry-After when it named one.
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseMs' | 'maxMs' | 'random'>,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  const jittered = Math.floor(policy.random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
}

/**
 * Runs `fn` until it succeeds, fails with a non-retriable error, or `retries` retries have
 * failed, which throws TRADECTL_RETRIES_EXHAUSTED keeping the attempt count and the last cause.
 * An aborted signal stops the loop (and any wait) with the signal's reason.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: Partial<RetryPolicy> = {},
  signal?: AbortSignal,
): Promise<T> {
  const options: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...policy };
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!isRetriable(error)) throw error;
      const retryAfterMs = retryAfterOf(error);
      if (attempt > options.retries) throw new RetriesExhaustedError(attempt, error);
      if (retryAfterMs !== undefined && retryAfterMs > options.maxRetryAfterMs) {
        throw new RetriesExhaustedError(attempt, error);
      }
      const delayMs = backoffDelay(attempt, options, retryAfterMs);
      options.onRetry?.({ attempt, delayMs, error });
      await options.sleep(delayMs, signal);
    }
  }
}

function retryAfterOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
