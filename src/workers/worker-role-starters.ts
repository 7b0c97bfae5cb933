import { createAccountLeases } from '../core/account-lease.js';
import { createCheckpointStore } from '../core/checkpoint-store.js';
import { createIdGenerator } from '../core/id-generator.js';
import {
  OrderStockStats,
  prometheusOrderStockMetrics,
  teeOrderStockMetrics,
} from '../core/order-stock/order-stock-metrics.js';
import { createRuntimeStateWriter } from '../core/runtime-state.js';
import { LedgerDrain } from '../core/stock/ledger-drain.js';
import { ListingMap } from '../core/stock/listing-map.js';
import { ReservationSweeper } from '../core/stock/reservation-sweeper.js';
import { createSyncWindowLog } from '../core/sync-window-log.js';
import { KafkaLagSampler } from './consumer-lag.js';
import { createHttpApi, type ReadinessCheck, type ReadinessReport } from './http-api.js';
import { createInventoryPusher } from './inventory-push.js';
import { readLedgerLag } from './ledger-lag.js';
import type { OrderSink } from './order-sink.js';
import { createSinkPipeline } from './sink-pipeline.js';
import { SyncRunner } from './sync-runner.js';
import { SyncScheduler } from './sync-scheduler.js';
import type { WorkerContext } from './worker-context.js';
import type { WorkerRole } from './worker-roles.js';
import type { RunTally } from './worker-summary.js';

/** A running role: how to stop it, and what the start-up log and /readyz say about it. */
export interface RoleHandle {
  role: WorkerRole;
  /** Stops taking work and finishes (or abandons, bounded) what is in flight. */
  stop(): Promise<void>;
  info?: Record<string, unknown>;
  /** Reported under /readyz `checks`; informational unless `ok` is false. */
  readiness?(): ReadinessCheck;
  /** Called when the shutdown begins (readiness just turned 503), before any role stops. */
  draining?(): void;
}

/**
 * sync: every enabled account on the interval grid (SyncScheduler), each run through SyncRunner
 * (its Redis lease keeps two workers off one account). Stopping aborts runs between pages:
 * finished chunks keep their checkpoints, the current one is fetched again next time.
 */
export async function startSyncRole(
  ctx: WorkerContext,
  tally: RunTally,
  busStopMs: number,
): Promise<RoleHandle> {
  const { config, logger, clock } = ctx;
  const targets = await ctx.accountTargets();
  for (const target of targets) tally.watchBreaker(target.resilience.breaker);
  const redis = await ctx.redis();
  const pools = ctx.pools();
  const bus = ctx.bus(busStopMs);
  // Kafka: topics and the producer now, so a broker that is down stops start-up.
  await bus.start();
  const checkpoints = createCheckpointStore({ pools, router: ctx.router });
  const runner = new SyncRunner({
    bus,
    checkpoints,
    windowLog: createSyncWindowLog({ pools, router: ctx.router }),
    leases: createAccountLeases({ redis, keyPrefix: config.redis.keyPrefix, logger, clock }),
    dlq: ctx.deadLetterQueue(),
    logger,
    clock,
    // `tradectl status` reads each account's last run, breaker and running state from here.
    runtimeState: createRuntimeStateWriter({ redis, keyPrefix: config.redis.keyPrefix, logger, clock }),
  });
  const scheduler = new SyncScheduler({
    jobs: targets,
    keyOf: (target) => `${target.account.platform}:${target.account.id}`,
    intervalMs: config.sync.intervalSeconds * 1000,
    jitterMs: config.sync.jitterSeconds * 1000,
    maxConcurrent: config.worker.syncConcurrency,
    now: clock,
    logger,
    run: async (target, signal) => {
      const started = performance.now();
      const result = await runner.syncAccount(target, { signal });
      ctx.metrics.recordRun(result, (performance.now() - started) / 1000);
      tally.record(result);
      return result.status;
    },
  });
  ctx.metrics.watch({ targets, checkpoints: () => checkpoints.list() });
  scheduler.start();
  return {
    role: 'sync',
    info: {
      accounts: targets.map((target) => `${target.account.platform}:${target.account.id}`),
      intervalSeconds: config.sync.intervalSeconds,
      jitterSeconds: config.sync.jitterSeconds,
    },
    async stop() {
      const running = scheduler.running;
      logger.info({ running }, 'sync: no new runs; aborting running syncs between pages');
      await scheduler.stop(new Error('the worker is shutting down'));
      logger.info({ aborted: running }, 'sync: stopped');
    },
  };
}

/**
 * sink: the bus consumer of the sink group, built by createSinkPipeline like `tradectl sync`'s.
 * Stopping lets the batch in flight commit and acknowledge (bounded by the bus's stop timeout;
 * past it the batch is abandoned unacknowledged and redelivered to the next consumer).
 */
export async function startSinkRole(
  ctx: WorkerContext,
  busStopMs: number,
): Promise<RoleHandle & { sink: OrderSink; stock: OrderStockStats | null }> {
  const { config, logger } = ctx;
  const groupId = config.kafka.sinkGroupId;
  const ids = await createIdGenerator({ config, logger, redis: await ctx.redis(), clock: ctx.tuning.clock });
  const generator = ids.generator;
  let sampler: KafkaLagSampler | undefined;
  // Per account, for the exit summary; /metrics has them per platform.
  const stockStats = new OrderStockStats();
  try {
    const pipeline = createSinkPipeline({
      config,
      logger,
      pools: ctx.pools(),
      router: ctx.router,
      redis: await ctx.redis(),
      nextId: () => generator.next(),
      observeUpsert: (seconds) => ctx.metrics.observeUpsert(seconds),
      orderStockMetrics: teeOrderStockMetrics(stockStats, prometheusOrderStockMetrics(ctx.metrics.registry)),
    });
    ctx.useDeadLetterQueue(pipeline.dlq);
    const bus = ctx.bus(busStopMs);
    const consumer = await bus.consume({ groupId, handler: pipeline.sink.handler });
    ctx.metrics.watch({ sink: pipeline.sink, bus, groupId });
    // Stock intents a crash or an outage left pending are swept even when no batch comes.
    pipeline.orderStock?.drainer.start();
    if (ctx.via === 'kafka') {
      sampler = new KafkaLagSampler({
        config: config.kafka,
        groupId,
        logger,
        intervalMs: config.worker.lagSampleIntervalMs,
        onSample: (partitions) => ctx.metrics.setConsumerLag(groupId, partitions),
      });
      await sampler.start();
    }
    return {
      role: 'sink',
      sink: pipeline.sink,
      stock: pipeline.orderStock ? stockStats : null,
      info: { via: ctx.via, groupId, workerId: ids.workerId },
      readiness: () =>
        bus.stats().retrying ? { ok: true, message: 'retrying a failing batch' } : { ok: true },
      async stop() {
        logger.info({ groupId }, 'sink: finishing the batch in flight, then leaving the group');
        await sampler?.stop();
        await consumer.stop();
        await pipeline.settle();
        await pipeline.orderStock?.drainer.stop();
        const stats = bus.stats();
        logger.info(
          { consumed: stats.consumed, abandonedBatches: stats.abandonedBatches },
          'sink: stopped (every finished batch committed)',
        );
        await ctx.stopBus();
        await ids.close();
      },
    };
  } catch (error) {
    await sampler?.stop();
    await ids.close();
    throw error;
  }
}

/**
 * api: /healthz, /readyz, /metrics, and /v1/stock when `api.tokens` is set, on a Redis connection
 * of its own (WorkerContext.stockApiRedis). Closed last.
 */
export async function startApiRole(
  ctx: WorkerContext,
  readiness: () => Promise<ReadinessReport>,
): Promise<RoleHandle & { url: string }> {
  const { config } = ctx;
  const stock = config.api.tokens.length > 0 ? await ctx.stockApiService() : undefined;
  const api = createHttpApi({
    logger: ctx.logger,
    stock,
    readiness,
    metricsRegistry: ctx.metrics.registry,
    authTokens: config.api.tokens,
  });
  const address = await api.listen(config.api.port, config.api.host);
  let drainUntil = 0;
  return {
    role: 'api',
    url: address.url,
    info: { url: address.url, stockApi: stock !== undefined },
    draining() {
      // Stock clients come through a load balancer that notices /readyz only on its next probe:
      // keep answering them meanwhile instead of refusing connections at once.
      if (stock) drainUntil = performance.now() + config.worker.apiDrainMs;
    },
    async stop() {
      const wait = drainUntil - performance.now();
      if (wait > 0) {
        ctx.logger.info({ ms: Math.round(wait) }, 'api: still answering while load balancers catch up');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      await api.close();
    },
  };
}

/** ledger: the stock ledger drain; stopping lets the batch in flight commit and acknowledge. */
export async function startLedgerRole(ctx: WorkerContext): Promise<RoleHandle> {
  const redis = await ctx.stockRedis();
  const keyPrefix = ctx.config.redis.keyPrefix;
  const drain = new LedgerDrain({
    redis,
    pool: ctx.pools().meta(),
    router: ctx.router,
    keyPrefix,
    logger: ctx.logger.child({ component: 'ledger-drain' }),
    clock: ctx.clock,
  });
  drain.start();
  ctx.metrics.watch({ ledgerLag: () => readLedgerLag({ redis, keyPrefix, now: ctx.clock() }) });
  return {
    role: 'ledger',
    info: { consumer: drain.consumer, group: drain.group },
    readiness: () =>
      drain.lastError ? { ok: true, message: 'the last drain round failed; retrying' } : { ok: true },
    stop: () => drain.stop(),
  };
}

/** sweeper: returns the stock of expired reservations; stopping waits for a sweep in flight. */
export async function startSweeperRole(ctx: WorkerContext): Promise<RoleHandle> {
  const sweeper = new ReservationSweeper({
    service: await ctx.stockService(),
    logger: ctx.logger.child({ component: 'reservation-sweeper' }),
  });
  sweeper.start();
  return { role: 'sweeper', stop: () => sweeper.stop() };
}

/**
 * push: sets each changed SKU's quantity on its listings of the other channels
 * (createInventoryPusher, docs/inventory-push.md), through the same account targets (limiters,
 * breakers) as the sync role. Stopping lets pushes in flight finish (bounded by the pusher).
 */
export async function startPushRole(ctx: WorkerContext): Promise<RoleHandle> {
  const targets = await ctx.accountTargets();
  const adapters = new Map(
    targets.map((target) => [`${target.account.platform}:${target.account.id}`, target.adapter]),
  );
  const pusher = createInventoryPusher({
    redis: await ctx.stockRedis(),
    keyPrefix: ctx.config.redis.keyPrefix,
    listings: new ListingMap({ pool: ctx.pools().meta(), router: ctx.router, clock: ctx.clock }),
    stock: await ctx.stockService(),
    adapterFor: (platform, account) => adapters.get(`${platform}:${account}`),
    settings: ctx.config.inventoryPush,
    logger: ctx.logger,
    metrics: ctx.metrics.registry,
    clock: ctx.clock,
  });
  pusher.start();
  return {
    role: 'push',
    info: { accounts: [...adapters.keys()] },
    readiness: () =>
      pusher.lastError ? { ok: true, message: 'the last push round failed; retrying' } : { ok: true },
    stop: () => pusher.stop(),
  };
}
