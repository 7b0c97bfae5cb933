import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { MarketplaceAdapter } from '../adapters/types.js';
import { type AccountLeases, createAccountLeases } from '../core/account-lease.js';
import type { Logger } from '../core/logger.js';
import { BoundedCache } from '../core/stock/bounded-cache.js';
import type { ListingMapping } from '../core/stock/listing-mapping.js';
import type { InventoryPushConfig } from '../core/stock/push-config.js';
import { PushRules } from '../core/stock/push-rules.js';
import type { StockLevel } from '../core/stock/stock-types.js';
import { type PushSkuDeps, pushSku, type SkuPush } from './inventory-push-job.js';
import { InventoryPushMetrics, type InventoryPushStats } from './inventory-push-metrics.js';
import { type PushOutcome, PushScheduler, type Timers } from './inventory-push-scheduler.js';
import { changedSkus, PUSH_GROUP, PushStreams } from './inventory-push-streams.js';
import { SKIP_REASONS, type SkipReason } from './inventory-push-targets.js';

/**
 * The push role: when a SKU's available quantity changes, the quantity each of its listings
 * shows (push-rules.ts) is set on the channel through the account's adapter. The pieces:
 * inventory-push-streams.ts (tenant leases, the consumer group, acknowledgements),
 * inventory-push-scheduler.ts (debounce, one push in flight per SKU, retries, which entries may
 * be acknowledged), inventory-push-job.ts (one push). docs/inventory-push.md.
 */
export interface InventoryPusherOptions {
  /** A client without the ioredis keyPrefix option. */
  redis: Redis;
  /** `config.redis.keyPrefix`. */
  keyPrefix: string;
  /** The listing map (`ListingMap`): a SKU's channel listings, read at each push. */
  listings: { listingsOf(input: { tenant: string; sku: string }): Promise<readonly ListingMapping[]> };
  /** Reads the available quantity at push time (`StockService`). */
  stock: { get(input: { tenant: string; sku: string }): Promise<StockLevel | null> };
  /** The adapter of an enabled account (built through its resilience: limiter, retry, breaker). */
  adapterFor(platform: string, account: string): MarketplaceAdapter | undefined;
  /** `config.inventoryPush`. */
  settings: InventoryPushConfig;
  logger: Logger;
  /** Registers the push counters (docs/inventory-push.md) when given. */
  metrics?: Registry;
  /** Unique among running pushers. Default `hostname:pid`. */
  consumer?: string;
  /** Default `inventory-push`. */
  group?: string;
  /** Tenant leases; default the fenced Redis leases of account-lease.ts (ttl 30 s). */
  leases?: AccountLeases;
  /** How long stop() waits for pushes in flight before aborting them, ms. Default 10,000. */
  stopTimeoutMs?: number;
  clock?: () => number;
  random?: () => number;
  timers?: Timers;
}

export interface InventoryPusher {
  /** Starts the loop in the background (idempotent). */
  start(): void;
  /**
   * Stops reading, lets pushes in flight finish (aborting them after `stopTimeoutMs`),
   * acknowledges what is done and gives the tenants back. Safe to call from a signal handler and
   * more than once: every call returns the same promise. Pending changes stay pending in Redis.
   */
  stop(): Promise<void>;
  /** Pushes a SKU soon, as if it had changed (an operator's nudge). */
  request(tenant: string, sku: string): void;
  readonly running: boolean;
  /** The last failure of the loop, cleared by the next successful round. */
  readonly lastError: unknown;
  stats(): InventoryPushStats & { pendingSkus: number; tenants: string[] };
}

export function createInventoryPusher(options: InventoryPusherOptions): InventoryPusher {
  const { settings, redis } = options;
  const logger = options.logger.child({ component: 'inventory-push' });
  const clock = options.clock ?? Date.now;
  const metrics = new InventoryPushMetrics(options.metrics);
  const rules = new PushRules(settings.rules);
  const warned = new BoundedCache<true>({ maxEntries: 10_000, ttlMs: 60 * 60 * 1000, clock });
  const deps: PushSkuDeps = {
    listingsOf: (input) => options.listings.listingsOf(input),
    level: (input) => options.stock.get(input),
    adapterFor: options.adapterFor,
    rules,
  };

  const report = (result: SkuPush): PushOutcome => {
    const retry: string[] = [];
    let afterMs: number | undefined;
    const channels = new Map<string, boolean>();
    for (const listing of result.listings) {
      metrics.listing(listing);
      const where = {
        tenant: result.tenant,
        sku: result.sku,
        platform: listing.platform,
        account: listing.account,
      };
      const channel = `${listing.platform}:${listing.account}`;
      channels.set(channel, (channels.get(channel) ?? false) || listing.status !== 'skipped');
      if (listing.status === 'retry') {
        retry.push(listing.key);
        if (listing.retryAfterMs !== undefined) afterMs = Math.max(afterMs ?? 0, listing.retryAfterMs);
        logger.warn(
          { ...where, code: listing.reason, message: listing.message },
          'inventory push failed; retrying later',
        );
      } else if (listing.status === 'failed') {
        logger.error(
          { ...where, code: listing.reason, message: listing.message, quantity: listing.quantity },
          'inventory push refused; not retried until the SKU changes again',
        );
      }
    }
    // A channel that lists the SKU but where no listing can be pushed: say so once an hour.
    for (const [channel, pushable] of channels) {
      const key = `${result.tenant}\u0000${result.sku}\u0000${channel}`;
      if (pushable || warned.get(key)) continue;
      warned.set(key, true);
      const reasons = [
        ...new Set(
          result.listings.filter((l) => `${l.platform}:${l.account}` === channel).map((l) => l.reason),
        ),
      ];
      logger.warn(
        {
          tenant: result.tenant,
          sku: result.sku,
          channel,
          reasons: reasons.map((reason) => SKIP_REASONS[reason as SkipReason] ?? reason),
        },
        'a channel lists the SKU but none of its listings can be pushed',
      );
    }
    return retry.length === 0
      ? { status: 'done' }
      : { status: 'retry', listings: retry, ...(afterMs === undefined ? {} : { afterMs }) };
  };

  const scheduler = new PushScheduler({
    debounceMs: settings.debounceMs,
    maxDelayMs: settings.maxDelayMs,
    concurrency: settings.concurrency,
    retryBaseMs: settings.retryBaseMs,
    retryMaxMs: settings.retryMaxMs,
    push: async (job) => report(await pushSku(deps, job)),
    release: (tenant, entryId) => streams.ack(tenant, entryId),
    onCoalesced: () => metrics.coalesced(),
    onError: (error, job) => logger.warn({ err: error, ...job }, 'inventory push failed; retrying later'),
    clock,
    ...(options.random ? { random: options.random } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
  });

  const consumer = options.consumer ?? `${hostname()}:${process.pid}`;
  const streams = new PushStreams({
    redis,
    keyPrefix: options.keyPrefix,
    leases:
      options.leases ??
      createAccountLeases({ redis, keyPrefix: options.keyPrefix, logger, clock, owner: consumer }),
    logger,
    consumer,
    group: options.group ?? PUSH_GROUP,
    batchSize: settings.batchSize,
    clock,
    onLost: (tenant) => {
      logger.warn({ tenant }, 'lost the inventory push of this tenant; another process takes it over');
      scheduler.dropTenant(tenant);
    },
    maintenanceIntervalMs: 60_000,
    pruneIdleMs: 60 * 60 * 1000,
  });

  let loop: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let lastError: unknown;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  // One round: every tenant this process holds, one batch each; returns the entries read.
  const round = async (): Promise<number> => {
    let read = 0;
    for (const tenant of await streams.tenants()) {
      if (stopping) break;
      if (scheduler.tracked < settings.maxTrackedSkus) {
        const entries = await streams.read(tenant);
        read += entries.length;
        // Lost while reading: the next holder claims these entries; pushing them here could race it.
        if (tenant.lease.lost) continue;
        for (const { id, entry, reason } of entries) {
          if (entry === null) {
            logger.warn(
              { tenant: tenant.tenant, streamId: id, reason },
              'unreadable stock stream entry skipped',
            );
            streams.ack(tenant.tenant, id);
            continue;
          }
          const skus = changedSkus(entry);
          metrics.changed(skus.length);
          scheduler.entry(tenant.tenant, id, skus);
        }
      }
      await streams.maintain(tenant);
    }
    await streams.flushAcks();
    metrics.pending(scheduler.tracked);
    return read;
  };

  const run = async () => {
    let failures = 0;
    while (!stopping) {
      try {
        const read = await round();
        failures = 0;
        lastError = undefined;
        if (read < settings.batchSize) await sleep(settings.pollIntervalMs);
      } catch (error) {
        failures++;
        lastError = error;
        logger.warn({ err: error, failures }, 'inventory push round failed; retrying');
        await sleep(Math.min(30_000, settings.pollIntervalMs * 2 ** Math.min(failures, 16)));
      }
    }
  };

  const shutdown = async () => {
    wake?.();
    await loop;
    scheduler.stop();
    const timeoutMs = options.stopTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      scheduler.idle().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      logger.warn({ running: scheduler.running }, 'aborting inventory pushes still in flight');
      scheduler.abortAll(new Error('the inventory push is stopping'));
      await scheduler.idle();
    }
    await streams.flushAcks().catch((error: unknown) => {
      logger.warn({ err: error }, 'could not acknowledge pushed entries; they will be pushed again');
    });
    await streams.releaseAll();
    logger.info(metrics.stats, 'inventory push stopped');
  };

  return {
    start() {
      if (loop || stopping) return;
      loop = run();
    },
    stop() {
      stopping ??= shutdown();
      return stopping;
    },
    request(tenant, sku) {
      scheduler.change(tenant, sku);
    },
    get running() {
      return loop !== undefined && stopping === undefined;
    },
    get lastError() {
      return lastError;
    },
    stats: () => ({ ...metrics.stats, pendingSkus: scheduler.tracked, tenants: streams.heldTenants }),
  };
}
