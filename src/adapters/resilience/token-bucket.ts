import type { UsageCorrection } from './usage-headers.js';

/** A token bucket's size and refill rate: `burst` tokens, `ratePerSecond` added per second. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

export interface ScheduleOptions {
  /** Tokens the call costs (Shopify GraphQL query cost); 1 by default, capped at the burst. */
  weight?: number;
  signal?: AbortSignal;
}

/** A bucket's state for `tradectl status` and the metrics gauges. */
export interface BucketSnapshot {
  /** `platform:account:class`. */
  bucket: string;
  backend: 'local' | 'redis';
  ratePerSecond: number;
  burst: number;
  /** Tokens left now (shared across processes for the Redis backend). */
  tokens: number;
  /** Calls of this process waiting for a token or a concurrency slot. */
  queued: number;
  /** Calls of this process in flight. */
  running: number;
  /** Unix ms until which the platform asked us to send nothing (after a 429), or null. */
  pausedUntil: number | null;
}

/**
 * One token bucket of one (platform, account, operation class): the seam between the account's
 * limiter and where the bucket lives (this process, or Redis shared by every process).
 */
export interface TokenBucket {
  /** Runs `fn` once a token (and a concurrency slot) is granted; calls run in arrival order. */
  schedule<T>(fn: () => Promise<T>, options?: ScheduleOptions): Promise<T>;
  /** Applies what the platform reported: lowers the tokens left, updates rate and size. */
  correct(correction: UsageCorrection): Promise<void>;
  /** After a 429: empties the bucket and grants nothing for `ms`. */
  penalise(ms: number): Promise<void>;
  snapshot(): Promise<BucketSnapshot>;
  /** Drops waiting calls and releases timers. */
  stop(): Promise<void>;
}
