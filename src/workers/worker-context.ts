import { Redis, type RedisOptions } from 'ioredis';
import type { BreakerOptions } from '../adapters/resilience/breaker.js';
import type { RetryPolicy } from '../adapters/resilience/retry.js';
import type { AdapterManifest } from '../adapters/types.js';
import type { RetryBackoff } from '../core/bus/batch-delivery.js';
import { createOrderBus } from '../core/bus/create-order-bus.js';
import { createMysqlDeadLetterQueue, type DeadLetterQueue } from '../core/bus/dlq.js';
import type { OrderBus } from '../core/bus/order-bus.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { MysqlPools } from '../core/mysql-pools.js';
import { connectRedisFor } from '../core/redis-connect.js';
import { lingerWrites } from '../core/redis-linger.js';
import { routerForConfig } from '../core/shard-admin.js';
import type { ShardRouter } from '../core/shard-router.js';
import { StockService } from '../core/stock/stock-service.js';
import { type AccountTarget, createAccountTargets, stopAccountTargets } from './account-targets.js';
import type { ReadinessCheck } from './http-api.js';
import { selectAccounts } from './sync-once.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** Seams for tests, benchmarks and the sandbox; production leaves them unset. */
export interface WorkerTuning {
  /** Wall clock, Unix ms (windows, leases, metrics). Default `Date.now`. */
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
 * What the roles of one worker share, opened on first use so a worker runs only what its roles
 * need (an `api`-only worker never opens MySQL pools): the shard router and pools, a Redis
 * connection for leases, ids and rate limits, one for the stock loops (ledger drain, sweeper,
 * push), one for the stock API, the order bus and the dead letter queue.
 */
export class WorkerContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly tuning: WorkerTuning;
  readonly clock: () => number;
  readonly via: 'kafka' | 'inline';
  readonly router: ShardRouter;
  #pools: MysqlPools | undefined;
  #redis: Promise<Redis> | undefined;
  #stockRedis: Promise<Redis> | undefined;
  #stock: Promise<StockService> | undefined;
  #apiRedis: Promise<Redis> | undefined;
  #apiStock: Promise<StockService> | undefined;
  #bus: OrderBus | undefined;
  #dlq: DeadLetterQueue | undefined;
  #targets: Promise<AccountTarget[]> | undefined;
  readonly #clients: Redis[] = [];

  constructor(options: { config: Config; logger: Logger; metrics: WorkerMetrics; tuning?: WorkerTuning }) {
    this.config = options.config;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.tuning = options.tuning ?? {};
    this.clock = this.tuning.clock ?? Date.now;
    this.via = options.config.kafka.brokers.length > 0 ? 'kafka' : 'inline';
    this.router = routerForConfig(options.config);
  }

  get hasPools(): boolean {
    return this.#pools !== undefined;
  }

  pools(): MysqlPools {
    this.#pools ??= new MysqlPools(this.config, this.router);
    return this.#pools;
  }

  /** Leases, worker ids, shared rate limits, tokens. */
  redis(): Promise<Redis> {
    this.#redis ??= this.#connect('leases, ids and rate limits');
    return this.#redis;
  }

  /** The ledger drain, the sweeper and the push role (no ioredis keyPrefix: keys carry it). */
  stockRedis(): Promise<Redis> {
    this.#stockRedis ??= this.#connect('stock');
    return this.#stockRedis;
  }

  /** The StockService of the sweeper and the push role, on `stockRedis`. */
  stockService(): Promise<StockService> {
    this.#stock ??= this.stockRedis().then((redis) => this.#stockServiceOn(redis));
    return this.#stock;
  }

  /**
   * The stock API's own connection. Kept apart from `stockRedis` so a drain's or a push round's
   * large stream replies never sit in front of a buyer's deduct. Not auto-pipelined: ioredis keeps
   * one auto-pipeline in flight per client and queues the next behind its last answer, so Redis
   * and this process take turns; measured (bench/stock-http.ts, bench/stock.ts) a plain client
   * served more deducts per second at less CPU per request. What it does instead is linger
   * (`api.redisLingerMs`): while Redis is slow to answer, commands wait a moment and share a write.
   */
  stockApiRedis(): Promise<Redis> {
    this.#apiRedis ??= this.#connect('stock api', { enableAutoPipelining: false }).then((redis) => {
      lingerWrites(redis, this.config.api.redisLingerMs);
      return redis;
    });
    return this.#apiRedis;
  }

  /** The StockService behind /v1/stock, on `stockApiRedis`. */
  stockApiService(): Promise<StockService> {
    this.#apiStock ??= this.stockApiRedis().then((redis) => this.#stockServiceOn(redis));
    return this.#apiStock;
  }

  /** The sink role passes its pipeline's DLQ, so what it quarantines and what the bus does go one way. */
  useDeadLetterQueue(dlq: DeadLetterQueue): void {
    this.#dlq ??= dlq;
  }

  /**
   * Every enabled account's adapter with its limiter, breaker and tokens, built once: the sync
   * and push roles of one process go through the same limiters (a usage error when none is enabled).
   */
  accountTargets(): Promise<AccountTarget[]> {
    this.#targets ??= this.redis().then((redis) =>
      createAccountTargets({
        config: this.config,
        accounts: selectAccounts(this.config),
        logger: this.logger,
        redis,
        manifests: this.tuning.manifests,
        clock: this.clock,
        rateScale: this.tuning.rateScale,
        retry: this.tuning.retry,
        breaker: this.tuning.breaker,
        httpMetrics: this.metrics.http,
      }),
    );
    return this.#targets;
  }

  /** Where the bus and the sync runner quarantine what can never be stored. */
  deadLetterQueue(): DeadLetterQueue {
    this.#dlq ??= createMysqlDeadLetterQueue({ pools: this.pools(), router: this.router });
    return this.#dlq;
  }

  /** The one order bus of this process (publishes of the sync role, the sink's consumer). */
  bus(stopTimeoutMs: number): OrderBus {
    if (!this.#bus) {
      this.#bus = createOrderBus({
        config: this.config,
        dlq: this.deadLetterQueue(),
        logger: this.logger,
        via: this.via,
        stopTimeoutMs,
        retry: this.tuning.busRetry,
      });
    }
    return this.#bus;
  }

  /** Dependencies for /readyz: each opened client answers a ping. */
  async checkDependencies(): Promise<Record<string, ReadinessCheck>> {
    const checks: Record<string, ReadinessCheck> = {};
    const probe = async (name: string, ping: () => Promise<unknown>) => {
      try {
        await ping();
        checks[name] = { ok: true };
      } catch {
        checks[name] = { ok: false, message: `${name} does not answer` };
      }
    };
    const pending: Promise<void>[] = [];
    if (this.#redis) pending.push(probe('redis', async () => (await this.#redis!).ping()));
    if (this.#stockRedis) pending.push(probe('redis-stock', async () => (await this.#stockRedis!).ping()));
    if (this.#apiRedis) pending.push(probe('redis-stock-api', async () => (await this.#apiRedis!).ping()));
    if (this.#pools) pending.push(probe('mysql', () => this.#pools!.meta().query('SELECT 1')));
    await Promise.all(pending);
    return checks;
  }

  /** Stops the bus's consumers (bounded) and its producer, once the roles stopped using it. */
  async stopBus(): Promise<void> {
    await this.#bus?.stop();
  }

  /** Stops the accounts' limiters and breakers and closes the connections (after stopBus). Never throws. */
  async close(): Promise<void> {
    const targets = await this.#targets?.catch(() => undefined);
    if (targets) await stopAccountTargets(targets, this.logger);
    await Promise.all(this.#clients.map((client) => client.quit().catch(() => client.disconnect())));
    await this.#pools?.close().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'mysql pools did not close cleanly');
    });
  }

  #stockServiceOn(redis: Redis): StockService {
    return new StockService({
      redis,
      keyPrefix: this.config.redis.keyPrefix,
      clock: this.clock,
      logger: this.logger.child({ component: 'stock' }),
    });
  }

  #connect(purpose: string, options: RedisOptions = {}): Promise<Redis> {
    const client = new Redis(this.config.redis.url, {
      ...options,
      lazyConnect: true,
      maxRetriesPerRequest: 2,
    });
    client.on('error', (error) => this.logger.debug({ err: error, purpose }, 'redis connection error'));
    this.#clients.push(client);
    return connectRedisFor(client, {
      code: 'TRADECTL_WORKER_REDIS_UNAVAILABLE',
      purpose,
      hint: 'check redis.url (TRADECTL_REDIS_URL); the worker exits so its supervisor restarts it',
    }).then(() => client);
  }
}
