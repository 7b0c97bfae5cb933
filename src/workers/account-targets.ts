import type { Redis } from 'ioredis';
import { ADAPTER_MANIFESTS, manifestFor, validateAccounts } from '../adapters/registry.js';
import {
  type AccountResilience,
  createAccountResilience,
} from '../adapters/resilience/account-resilience.js';
import type { BreakerOptions } from '../adapters/resilience/breaker.js';
import type { PlatformHttpMetrics } from '../adapters/resilience/http-stats.js';
import type { RetryPolicy } from '../adapters/resilience/retry.js';
import type { AdapterManifest } from '../adapters/types.js';
import type { AccountConfig, Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { syncTimingFor } from '../core/sync-window.js';
import type { SyncTarget } from './sync-runner.js';

/** A sync target with the whole resilience of its account (limiter, breaker, stats, stop). */
export interface AccountTarget extends SyncTarget {
  resilience: AccountResilience;
}

export interface AccountTargetsOptions {
  config: Pick<Config, 'accounts' | 'redis' | 'sync'>;
  /** The accounts to build: enabled accounts of `config` (selected by platform/account or all). */
  accounts: readonly AccountConfig[];
  logger: Logger;
  /** Shares rate-limit buckets, tokens and refresh locks across processes. */
  redis: Redis;
  manifests?: readonly AdapterManifest[] | undefined;
  /** Wall clock, Unix ms. Default `Date.now`. */
  clock?: (() => number) | undefined;
  /** Multiplies documented rate limits (the sandbox runs scaled up). Default 1. */
  rateScale?: number | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  breaker?: BreakerOptions | undefined;
  /** An exporter of the HTTP counters (the worker's Prometheus registry) next to the in-memory stats. */
  httpMetrics?: PlatformHttpMetrics | undefined;
}

/**
 * The per-account half of a sync, built once at start-up by `tradectl sync` and by the worker:
 * for each account its resilience (limiter, breaker, tokens), the adapter created through it,
 * and the account's window timing. Accounts are validated against their manifests first, so a
 * bad account stops start-up with every problem listed instead of failing at its first sync.
 */
export function createAccountTargets(options: AccountTargetsOptions): AccountTarget[] {
  const manifests = options.manifests ?? ADAPTER_MANIFESTS;
  // Every enabled account of the config, not only the selected ones, with its path in the file.
  const issues = validateAccounts(options.config, manifests);
  if (issues.length > 0) throw new ConfigError(issues, { source: 'accounts' });
  const targets: AccountTarget[] = [];
  for (const account of options.accounts) {
    const manifest = manifestFor(account.platform, manifests)!;
    const resilience = createAccountResilience({
      account,
      manifest,
      logger: options.logger,
      redis: options.redis,
      keyPrefix: options.config.redis.keyPrefix,
      scale: options.rateScale,
      retry: options.retry,
      breaker: options.breaker,
      metrics: options.httpMetrics,
      now: options.clock,
    });
    targets.push({
      account,
      adapter: manifest.create(resilience.adapterDeps(), account),
      timing: syncTimingFor(options.config.sync, account),
      resilience,
    });
  }
  return targets;
}

/** Stops every target's limiter and breaker timers; never throws. */
export async function stopAccountTargets(targets: readonly AccountTarget[], logger: Logger): Promise<void> {
  await Promise.all(
    targets.map((target) =>
      target.resilience
        .stop()
        .catch((error: unknown) =>
          logger.warn(
            { err: error, platform: target.account.platform, account: target.account.id },
            'account resilience did not stop cleanly',
          ),
        ),
    ),
  );
}
