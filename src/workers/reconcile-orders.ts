import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BreakerOptions } from '../adapters/resilience/breaker.js';
import type { RetryPolicy } from '../adapters/resilience/retry.js';
import type { AdapterManifest } from '../adapters/types.js';
import { forEachBounded } from '../core/bounded-concurrency.js';
import type { RetryBackoff } from '../core/bus/batch-delivery.js';
import { createCheckpointStore } from '../core/checkpoint-store.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { MysqlPools } from '../core/mysql-pools.js';
import type { Platform } from '../core/platforms.js';
import type { DriftNotifier, ReconcileMetrics } from '../core/reconcile/drift-report.js';
import { accuracy } from '../core/reconcile/order-compare.js';
import { connectRedisFor } from '../core/redis-connect.js';
import { routerForConfig } from '../core/shard-admin.js';
import type { Instant } from '../core/time.js';
import { type AccountTarget, createAccountTargets, stopAccountTargets } from './account-targets.js';
import { type AccountReconcile, checkAccount, fixAccount } from './reconcile-orders-account.js';
import { openResync, type Resync } from './reconcile-resync.js';
import { selectAccounts } from './sync-once.js';

export type { AccountReconcile, OrderDriftItem } from './reconcile-orders-account.js';

/**
 * `tradectl reconcile orders`: for each matching account, the platform's orders updated in the
 * window (ids and update times, listed through the adapter and its limiter) against the
 * database (batched lookups by platform key in the account's shard): missing and stale orders,
 * and the accuracy. With `fix`, exactly those are fetched again and stored through the normal
 * path (reconcile-resync.ts), then looked up again to say which are fixed.
 */
export interface OrdersReconcileOptions {
  config: Config;
  logger: Logger;
  platform?: Platform | undefined;
  account?: string | undefined;
  since: Instant;
  /** Default and latest: now minus the safety lag; never past the account's checkpoint. */
  until?: Instant | undefined;
  fix?: boolean | undefined;
  /** Bus of the repairs. Default: Kafka when `kafka.brokers` is set, else inline. */
  via?: 'kafka' | 'inline' | undefined;
  /** Accounts checked at once. Default 4. */
  accountConcurrency?: number;
  /** Wall clock, Unix ms. Default `Date.now`. */
  clock?: () => number;
  rateScale?: number;
  retry?: Partial<RetryPolicy>;
  breaker?: BreakerOptions;
  busRetry?: RetryBackoff;
  /** Sink consumer group of the repairs. Default `kafka.sinkGroupId`. */
  groupId?: string;
  drainTimeoutMs?: number;
  manifests?: readonly AdapterManifest[];
  metrics?: ReconcileMetrics | undefined;
  notify?: DriftNotifier | undefined;
  signal?: AbortSignal | undefined;
  /** Called as each account starts and finishes. */
  onAccount?:
    | ((event: { platform: string; account: string; phase: 'listing' | 'fixing' | 'done' }) => void)
    | undefined;
  runId?: string;
}

export interface OrdersReconcileResult {
  runId: string;
  fix: boolean;
  accounts: AccountReconcile[];
  totals: {
    listed: number;
    matched: number;
    missing: number;
    stale: number;
    fixed: number;
    remaining: number;
    failedAccounts: number;
    accuracy: number | null;
  };
}

export async function reconcileOrders(options: OrdersReconcileOptions): Promise<OrdersReconcileResult> {
  const { config } = options;
  const runId = options.runId ?? randomBytes(6).toString('hex');
  const logger = options.logger.child({ component: 'reconcile', subject: 'orders', run: runId });
  const accounts = selectAccounts(config, options.platform, options.account);
  const clock = options.clock ?? Date.now;
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router);
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  let targets: AccountTarget[] = [];
  let resync: Resync | undefined;
  try {
    targets = createAccountTargets({ ...options, accounts, logger, redis, clock });
    await connectRedisFor(redis, {
      code: 'TRADECTL_RECONCILE_UNAVAILABLE',
      purpose: 'rate limits',
      hint: 'check redis.url (TRADECTL_REDIS_URL)',
    });
    if (options.fix) resync = await openResync({ ...options, logger, pools, router, redis, clock });
    const checkpoints = createCheckpointStore({ pools, router });
    const context = { ...options, logger, pools, router, checkpoints, clock };
    const results: AccountReconcile[] = new Array(targets.length);
    await forEachBounded(targets, options.accountConcurrency ?? 4, async (target, index) => {
      const { platform, id } = target.account;
      options.onAccount?.({ platform, account: id, phase: 'listing' });
      const result = await checkAccount(target, context);
      if (resync && result.drift.length > 0) {
        options.onAccount?.({ platform, account: id, phase: 'fixing' });
        await fixAccount(target, result, { ...context, resync });
      }
      report(result, options.metrics, logger, Boolean(options.fix));
      options.onAccount?.({ platform, account: id, phase: 'done' });
      results[index] = result;
    });
    const outcome: OrdersReconcileResult = {
      runId,
      fix: Boolean(options.fix),
      accounts: results,
      totals: totalsOf(results),
    };
    if (outcome.accounts.some((result) => result.drift.length > 0) && options.notify) {
      await options.notify({
        subject: 'orders',
        runId,
        at: new Date(clock()).toISOString(),
        totals: outcome.totals,
        accounts: results.map(({ drift, ...account }) => ({ ...account, items: drift.slice(0, 50) })),
      });
    }
    return outcome;
  } finally {
    await resync?.close();
    await stopAccountTargets(targets, logger);
    await redis.quit().catch(() => redis.disconnect());
    await pools.close();
  }
}

function report(
  result: AccountReconcile,
  metrics: ReconcileMetrics | undefined,
  logger: Logger,
  fix: boolean,
) {
  const where = { platform: result.platform, account: result.account };
  for (const item of result.drift) {
    metrics?.drift.inc({ subject: 'orders', problem: item.problem });
    if (fix)
      metrics?.repairs.inc({ subject: 'orders', outcome: item.repair === 'fixed' ? 'fixed' : 'failed' });
  }
  // One line per order for the first ones, then the count: a window can hold thousands.
  for (const item of result.drift.slice(0, 100))
    logger.warn({ ...where, ...item }, `order drift: ${item.problem}`);
  if (result.drift.length > 0) {
    logger.warn(
      {
        ...where,
        listed: result.listed,
        missing: result.missing,
        stale: result.stale,
        accuracy: result.accuracy,
        remaining: result.remaining,
      },
      'orders differ between the platform and the database',
    );
  }
}

function totalsOf(results: readonly AccountReconcile[]): OrdersReconcileResult['totals'] {
  const sum = (pick: (result: AccountReconcile) => number) =>
    results.reduce((total, result) => total + pick(result), 0);
  const listed = sum((result) => result.listed);
  const matched = sum((result) => result.matched + result.ahead);
  return {
    listed,
    matched,
    missing: sum((result) => result.missing),
    stale: sum((result) => result.stale),
    fixed: sum((result) => result.fixed),
    remaining: sum((result) => result.remaining),
    failedAccounts: results.filter((result) => result.status === 'failed').length,
    accuracy: accuracy(matched, listed),
  };
}
