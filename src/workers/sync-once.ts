import { Redis } from 'ioredis';
import { ADAPTER_MANIFESTS, validateAccounts } from '../adapters/registry.js';
import type { BreakerOptions } from '../adapters/resilience/breaker.js';
import type { RetryPolicy } from '../adapters/resilience/retry.js';
import type { AdapterManifest } from '../adapters/types.js';
import { createAccountLeases } from '../core/account-lease.js';
import { forEachBounded } from '../core/bounded-concurrency.js';
import type { RetryBackoff } from '../core/bus/batch-delivery.js';
import { createOrderBus } from '../core/bus/create-order-bus.js';
import type { BusConsumer, OrderBus } from '../core/bus/order-bus.js';
import { createCheckpointStore } from '../core/checkpoint-store.js';
import type { AccountConfig, Config } from '../core/config.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { createIdGenerator, type IdGeneratorHandle } from '../core/id-generator.js';
import type { Logger } from '../core/logger.js';
import { MysqlPools } from '../core/mysql-pools.js';
import type { Platform } from '../core/platforms.js';
import { connectRedisFor } from '../core/redis-connect.js';
import { createRuntimeStateWriter } from '../core/runtime-state.js';
import { routerForConfig } from '../core/shard-admin.js';
import { createSyncWindowLog } from '../core/sync-window-log.js';
import type { Instant } from '../core/time.js';
import { type AccountTarget, createAccountTargets, stopAccountTargets } from './account-targets.js';
import { waitForConsumerGroup } from './kafka-drain.js';
import { createSinkPipeline, type SinkPipeline } from './sink-pipeline.js';
import { type AccountSyncResult, type SyncProgress, SyncRunner, summarizeError } from './sync-runner.js';
import { type SyncSummary, summarizeSync } from './sync-summary.js';

/** The default consumer group of the order sink (`kafka.sinkGroupId`; one group per role). */
export const SINK_GROUP_ID = 'tradectl-sink';

export interface SyncOnceOptions {
  config: Config;
  logger: Logger;
  /** Default: Kafka when `kafka.brokers` is set, else inline. */
  via?: 'kafka' | 'inline' | undefined;
  platform?: Platform | undefined;
  account?: string | undefined;
  since?: Instant | undefined;
  until?: Instant | undefined;
  /** Stops fetching (between pages); finished chunks keep their checkpoints. */
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: SyncProgress) => void) | undefined;
  /** Called once the accounts are selected and validated, before any sync starts. */
  onStart?: ((accounts: readonly AccountConfig[]) => void) | undefined;
  /** Accounts synced at once. Default 8. */
  accountConcurrency?: number;
  /** Sink consumer group. Default `kafka.sinkGroupId` (`tradectl-sink`). */
  groupId?: string;
  /** Kafka: how long to wait for the sink group to store what this run published. Default 120 s. */
  drainTimeoutMs?: number;
  /** Wall clock, Unix ms (windows, tokens, limiter). Default `Date.now`. */
  clock?: () => number;
  /** Multiplies documented rate limits (the sandbox runs scaled up). Default 1. */
  rateScale?: number;
  retry?: Partial<RetryPolicy>;
  breaker?: BreakerOptions;
  /** Backoff of a failing sink batch. */
  busRetry?: RetryBackoff;
  manifests?: readonly AdapterManifest[];
}

/**
 * One `tradectl sync`: every matching enabled account once, with the order sink consuming in
 * this process, so it returns when what it fetched is stored (inline: publish resolves after the
 * database commit; Kafka: see waitForConsumerGroup). Everything it opens it closes.
 */
export async function runSyncOnce(options: SyncOnceOptions): Promise<SyncSummary> {
  const { config, logger } = options;
  const manifests = options.manifests ?? ADAPTER_MANIFESTS;
  const accounts = selectAccounts(config, options.platform, options.account);
  // Validated before anything connects: a bad account stops the command with every problem listed.
  const issues = validateAccounts(config, manifests);
  if (issues.length > 0) throw new ConfigError(issues, { source: 'accounts' });
  options.onStart?.(accounts);

  const via = options.via ?? (config.kafka.brokers.length > 0 ? 'kafka' : 'inline');
  const groupId = options.groupId ?? config.kafka.sinkGroupId;
  const clock = options.clock ?? Date.now;
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router);
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  let targets: AccountTarget[] = [];
  let ids: IdGeneratorHandle | undefined;
  let bus: OrderBus | undefined;
  let consumer: BusConsumer | undefined;
  let pipeline: SinkPipeline | undefined;
  try {
    await connectRedisFor(redis, {
      code: 'TRADECTL_SYNC_LEASE_FAILED',
      purpose: 'sync leases',
      hint: 'check redis.url (TRADECTL_REDIS_URL)',
    });
    ids = await createIdGenerator({ config, logger, redis, clock: options.clock });
    const generator = ids.generator;
    pipeline = createSinkPipeline({
      config,
      logger,
      pools,
      router,
      redis,
      nextId: () => generator.next(),
    });
    const { dlq, sink } = pipeline;
    bus = createOrderBus({ config, dlq, logger, via, retry: options.busRetry });
    // The consumer runs before anything is published: the inline bus hands batches only to a
    // running consumer, and a Kafka consumer joins its group while the first pages are fetched.
    consumer = await bus.consume({ groupId, handler: sink.handler });
    const runner = new SyncRunner({
      bus,
      checkpoints: createCheckpointStore({ pools, router }),
      windowLog: createSyncWindowLog({ pools, router }),
      leases: createAccountLeases({ redis, keyPrefix: config.redis.keyPrefix, logger, clock }),
      dlq,
      logger,
      clock,
      runtimeState: createRuntimeStateWriter({ redis, keyPrefix: config.redis.keyPrefix, logger, clock }),
    });
    targets = createAccountTargets({
      config,
      accounts,
      logger,
      redis,
      manifests,
      clock,
      rateScale: options.rateScale,
      retry: options.retry,
      breaker: options.breaker,
    });
    const results: AccountSyncResult[] = new Array(targets.length);
    await forEachBounded(targets, options.accountConcurrency ?? 8, async (target, index) => {
      results[index] = await runner.syncAccount(target, {
        since: options.since,
        until: options.until,
        signal: options.signal,
        onProgress: options.onProgress,
      });
    });
    let error = null;
    if (via === 'kafka' && results.some((result) => result.published > 0)) {
      try {
        const drained = await waitForConsumerGroup({
          config: config.kafka,
          groupId,
          logger,
          timeoutMs: options.drainTimeoutMs,
          signal: options.signal,
        });
        logger.debug(drained, 'the sink group stored everything this run published');
      } catch (caught) {
        error = summarizeError(caught, options.signal);
      }
    }
    return summarizeSync({ via, results, sink: via === 'inline' ? sink.byAccount() : null, error });
  } finally {
    await consumer
      ?.stop()
      .catch((error: unknown) => logger.warn({ err: error }, 'sink consumer did not stop cleanly'));
    await bus
      ?.stop()
      .catch((error: unknown) => logger.warn({ err: error }, 'order bus did not stop cleanly'));
    await pipeline?.settle();
    await stopAccountTargets(targets, logger);
    await ids
      ?.close()
      .catch((error: unknown) => logger.warn({ err: error }, 'id generator did not close cleanly'));
    await redis.quit().catch(() => redis.disconnect());
    await pools.close();
  }
}

/** The enabled accounts matching the filters; none is a usage error naming what was asked. */
export function selectAccounts(
  config: Pick<Config, 'accounts'>,
  platform?: Platform,
  account?: string,
): AccountConfig[] {
  const selected = config.accounts.filter(
    (entry) =>
      entry.enabled &&
      (platform === undefined || entry.platform === platform) &&
      (account === undefined || entry.id === account),
  );
  if (selected.length === 0) {
    const filters = [platform && `--platform ${platform}`, account && `--account ${account}`].filter(Boolean);
    const known = config.accounts
      .filter((entry) => entry.enabled)
      .map((entry) => `${entry.platform}:${entry.id}`);
    throw new UsageError(
      filters.length > 0
        ? `no enabled account matches ${filters.join(' ')}`
        : 'no enabled account in the configuration',
      known.length > 0
        ? `enabled accounts: ${known.join(', ')}`
        : 'add accounts to the config file (see config/sandbox.yaml)',
    );
  }
  return selected;
}
