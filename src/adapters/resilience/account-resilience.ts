import type { AxiosInstance } from 'axios';
import type { Redis } from 'ioredis';
import type { AccountConfig } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { AdapterDeps, AdapterManifest, PlatformHttp, PlatformHttpOptions } from '../types.js';
import { type BreakerOptions, type BreakerSnapshot, PlatformBreaker } from './breaker.js';
import { HttpStats, type HttpStatsRow, type PlatformHttpMetrics, teeMetrics } from './http-stats.js';
import { createPlatformHttp } from './platform-http.js';
import { createRateLimiter, type LimiterSnapshot, type RateLimiter } from './rate-limiter.js';
import type { RetryPolicy } from './retry.js';
import { MemoryTokenStore, RedisTokenStore, type TokenStore } from './token-store.js';

export interface AccountResilienceOptions {
  account: AccountConfig;
  /** The adapter's manifest: its platform and documented default limits. */
  manifest: Pick<AdapterManifest, 'platform' | 'defaultLimits'>;
  logger: Logger;
  /** Shares rate-limit buckets, tokens and refresh locks across processes when given. */
  redis?: Redis | undefined;
  /** `config.redis.keyPrefix`. Default `tradectl:`. */
  keyPrefix?: string;
  /** Rate multiplier for tests and the sandbox (see RateLimiterOptions.scale). Default 1. */
  scale?: number;
  maxConcurrent?: number;
  breaker?: BreakerOptions;
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout, ms. Default 30,000. */
  timeoutMs?: number;
  metrics?: PlatformHttpMetrics;
  axiosInstance?: AxiosInstance;
  /** Clock, Unix ms. Default `Date.now`. */
  now?: () => number;
}

export interface AccountResilienceSnapshot {
  platform: string;
  account: string;
  limiter: LimiterSnapshot;
  breaker: BreakerSnapshot;
  requests: HttpStatsRow[];
}

/**
 * The resilience of one platform account, built once at start-up: its limiter, breaker and token
 * store, and `createHttp` for the adapter (AdapterDeps.createHttp). Every client the adapter
 * creates shares them, so an adapter talking to two APIs of one platform (Orders and Listings)
 * still has one breaker and one set of buckets per account.
 */
export interface AccountResilience {
  readonly limiter: RateLimiter;
  readonly breaker: PlatformBreaker;
  readonly tokenStore: TokenStore;
  readonly stats: HttpStats;
  createHttp(options: PlatformHttpOptions): PlatformHttp;
  /** What `manifest.create(deps, account)` needs. */
  adapterDeps(): AdapterDeps;
  /** For `tradectl status` and the metrics gauges. */
  snapshot(): Promise<AccountResilienceSnapshot>;
  /** Drops waiting calls and stops timers. */
  stop(): Promise<void>;
}

export function createAccountResilience(options: AccountResilienceOptions): AccountResilience {
  const platform = options.manifest.platform;
  const account = options.account.id;
  const now = options.now ?? Date.now;
  const keyPrefix = options.keyPrefix ?? 'tradectl:';
  const limiter = createRateLimiter({
    platform,
    account,
    limits: options.manifest.defaultLimits,
    overrides: options.account.limits,
    scale: options.scale,
    maxConcurrent: options.maxConcurrent,
    redis: options.redis,
    keyPrefix,
    now,
    logger: options.logger,
  });
  const breaker = new PlatformBreaker({
    platform,
    account,
    logger: options.logger,
    options: options.breaker,
    now,
  });
  const tokenStore: TokenStore = options.redis
    ? new RedisTokenStore({ redis: options.redis, keyPrefix, now })
    : new MemoryTokenStore();
  const stats = new HttpStats();
  const metrics = teeMetrics(stats, options.metrics);

  const createHttp = (http: PlatformHttpOptions): PlatformHttp =>
    createPlatformHttp({
      platform,
      account,
      baseUrl: http.baseUrl,
      auth: http.auth,
      classify: http.classify,
      observeUsage: http.observeUsage,
      limiter,
      breaker,
      retryPolicy: options.retry,
      logger: options.logger,
      metrics,
      timeoutMs: options.timeoutMs,
      axiosInstance: options.axiosInstance,
    });

  return {
    limiter,
    breaker,
    tokenStore,
    stats,
    createHttp,
    adapterDeps: () => ({
      createHttp,
      logger: options.logger.child({ platform, account }),
      now,
      tokenStore,
    }),
    snapshot: async () => ({
      platform,
      account,
      limiter: await limiter.snapshot(),
      breaker: breaker.snapshot(),
      requests: stats.snapshot(),
    }),
    stop: async () => {
      breaker.shutdown();
      await limiter.stop();
    },
  };
}
