import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import { LocalTokenBucket } from './local-bucket.js';
import { RedisTokenBucket } from './redis-bucket.js';
import { limiterBucketKey } from './redis-keys.js';
import type { BucketSnapshot, RateLimit, ScheduleOptions, TokenBucket } from './token-bucket.js';
import type { UsageCorrection } from './usage-headers.js';

export type { BucketSnapshot, RateLimit, ScheduleOptions } from './token-bucket.js';

/** The operation class used for every operation a manifest does not list on its own. */
export const DEFAULT_CLASS = 'default';
/** What an operation gets when the manifest lists neither it nor `default`: deliberately slow. */
export const FALLBACK_LIMIT: RateLimit = { ratePerSecond: 1, burst: 1 };

export interface RateLimiterOptions {
  platform: string;
  account: string;
  /**
   * Documented limits per operation class (the adapter manifest's `defaultLimits`). An operation
   * uses its own entry when there is one, else `default`.
   */
  limits: Record<string, RateLimit>;
  /** The account's `limits` from config: replace rate and/or burst of every class. */
  overrides?: { ratePerSecond?: number | undefined; burst?: number | undefined } | undefined;
  /**
   * Multiplies every configured rate (not the burst, not rates a platform reports): tests and
   * the sandbox scale limits up so a run takes seconds. Default 1.
   */
  scale?: number;
  /** Calls in flight per bucket. Default min(burst, 8): enough to keep a bucket busy. */
  maxConcurrent?: number;
  /** Share buckets across processes through Redis; in-process buckets without it. */
  redis?: Redis | undefined;
  /** `config.redis.keyPrefix`. Default `tradectl:`. */
  keyPrefix?: string;
  /** Clock for Redis buckets and pauses (Unix ms). Default `Date.now`. */
  now?: () => number;
  logger?: Logger;
}

/** A limiter's state, for `tradectl status` and the metrics gauges. */
export interface LimiterSnapshot {
  platform: string;
  account: string;
  buckets: BucketSnapshot[];
}

/**
 * The rate limits of one platform account: a token bucket per operation class, created on first
 * use. Every call of the account's PlatformHttp is scheduled here.
 */
export interface RateLimiter {
  /** The class an operation's calls count against (`getOrders`, or `default`). */
  classOf(operation: string): string;
  /** The limit an operation's bucket starts from (documented, overridden, scaled). */
  limitOf(operation: string): RateLimit;
  schedule<T>(operation: string, fn: () => Promise<T>, options?: ScheduleOptions): Promise<T>;
  /** Applies a correction read from the platform's usage headers to the operation's bucket. */
  correct(operation: string, correction: UsageCorrection): Promise<void>;
  /**
   * After a 429: empties the operation's bucket and sends nothing for `ms` (Retry-After), or,
   * when the platform named no wait, for the time one token takes to refill.
   */
  penalise(operation: string, ms?: number): Promise<void>;
  snapshot(): Promise<LimiterSnapshot>;
  stop(): Promise<void>;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { platform, account } = options;
  const scale = options.scale ?? 1;
  if (!(scale > 0)) throw new RangeError(`rate limiter scale must be positive, got ${scale}`);
  const buckets = new Map<string, TokenBucket>();
  const warned = new Set<string>();

  const classOf = (operation: string): string =>
    Object.hasOwn(options.limits, operation) ? operation : DEFAULT_CLASS;

  const limitOf = (operation: string): RateLimit => {
    const bucketClass = classOf(operation);
    let base = options.limits[bucketClass];
    if (!base) {
      base = FALLBACK_LIMIT;
      if (!warned.has(operation)) {
        warned.add(operation);
        options.logger?.warn(
          { platform, account, operation },
          'no documented rate limit for this operation and no default: using 1 request per second',
        );
      }
    }
    const ratePerSecond = (options.overrides?.ratePerSecond ?? base.ratePerSecond) * scale;
    const burst = options.overrides?.burst ?? base.burst;
    return { ratePerSecond, burst: Math.max(1, burst) };
  };

  const bucketFor = (operation: string): TokenBucket => {
    const bucketClass = classOf(operation);
    let bucket = buckets.get(bucketClass);
    if (!bucket) {
      const limit = limitOf(operation);
      const name = `${platform}:${account}:${bucketClass}`;
      const maxConcurrent = options.maxConcurrent ?? Math.min(limit.burst, 8);
      bucket = options.redis
        ? new RedisTokenBucket({
            name,
            key: limiterBucketKey(options.keyPrefix ?? 'tradectl:', platform, account, bucketClass),
            redis: options.redis,
            limit,
            maxConcurrent,
            now: options.now,
          })
        : new LocalTokenBucket({ name, limit, maxConcurrent, now: options.now });
      buckets.set(bucketClass, bucket);
    }
    return bucket;
  };

  return {
    classOf,
    limitOf,
    schedule: (operation, fn, scheduleOptions) => bucketFor(operation).schedule(fn, scheduleOptions),
    correct: (operation, correction) => bucketFor(operation).correct(correction),
    penalise: async (operation, ms) => {
      const bucket = bucketFor(operation);
      if (ms !== undefined) return bucket.penalise(ms);
      // One token's time at the rate the bucket follows now (corrected from the platform's usage
      // headers), not the documented one: Amazon documents 0.0056/s for some operations, so a
      // 429 without Retry-After would otherwise hold an account that is granted far more for 3 min.
      const { ratePerSecond } = await bucket.snapshot();
      return bucket.penalise(Math.ceil(1000 / ratePerSecond));
    },
    snapshot: async () => ({
      platform,
      account,
      buckets: await Promise.all([...buckets.values()].map((bucket) => bucket.snapshot())),
    }),
    stop: async () => {
      await Promise.all([...buckets.values()].map((bucket) => bucket.stop()));
      buckets.clear();
    },
  };
}
