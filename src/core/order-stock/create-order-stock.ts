import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { MysqlPools } from '../mysql-pools.js';
import type { UnifiedOrder } from '../order.js';
import type { ShardRouter } from '../shard-router.js';
import { ListingMap } from '../stock/listing-map.js';
import { StockService } from '../stock/stock-service.js';
import { resolveIntentTargets } from './intent-targets.js';
import type { StockIntentOptions } from './intent-writes.js';
import { OrderStockDrainer, type OrderStockDrainerOptions } from './order-stock-drainer.js';
import type { OrderStockMetrics } from './order-stock-metrics.js';

export interface OrderStockDeps {
  config: Pick<Config, 'orderStock' | 'redis'>;
  pools: MysqlPools;
  router: ShardRouter;
  /** A client without the ioredis `keyPrefix` option. */
  redis: Redis;
  logger: Logger;
  clock?: () => number;
  metrics?: OrderStockMetrics;
  /** Default: a StockService on `redis` (tests pass one that fails on demand). */
  stock?: OrderStockDrainerOptions['stock'];
  /** Default: a ListingMap on the meta database. */
  listings?: OrderStockDrainerOptions['listings'];
}

export interface OrderStock {
  /** For createOrderStore: write intents in each shard transaction. */
  storeOptions: StockIntentOptions;
  drainer: OrderStockDrainer;
  /**
   * The sink's hook after each committed batch: drains the batch's intents, then sweeps when a
   * sweep is due. Never throws: the intents are durable, and what fails now is retried by the
   * sweep, so neither a Redis outage nor a shortage holds up storing orders.
   */
  afterCommit(
    orders: readonly {
      id: string;
      order: Pick<UnifiedOrder, 'userId' | 'platform' | 'account' | 'platformOrderId'>;
    }[],
  ): Promise<void>;
}

/** Wires the order stock outbox from the config: intent writes, drainer, sink hook. */
export function createOrderStock(deps: OrderStockDeps): OrderStock {
  const settings = deps.config.orderStock;
  const logger = deps.logger.child({ component: 'order-stock' });
  const stock =
    deps.stock ??
    new StockService({
      redis: deps.redis,
      keyPrefix: deps.config.redis.keyPrefix,
      logger,
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
  const listings = deps.listings ?? new ListingMap({ pool: deps.pools.meta(), router: deps.router });
  const drainer = new OrderStockDrainer({
    pools: deps.pools,
    router: deps.router,
    stock,
    listings,
    logger: deps.logger,
    concurrency: settings.concurrency,
    retryAfterMs: settings.retryAfterMs,
    sweepIntervalMs: settings.sweepIntervalMs,
    unknownSkuAttempts: settings.unknownSkuAttempts,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  return {
    storeOptions: {
      sweepAfterMs: settings.retryAfterMs,
      // Resolved by the store just before each shard transaction (a cache miss never holds the
      // orders' row locks): one write per intent fewer than persisting the target after the
      // commit. A lookup that fails leaves the rows to the drainer instead of failing the orders.
      async resolveTargets(rows) {
        try {
          return (await resolveIntentTargets(listings, rows)).mapped;
        } catch (error) {
          logger.warn(
            { err: error, lines: rows.length },
            'listing lookup failed; the drainer resolves these lines',
          );
          return [];
        }
      },
    },
    drainer,
    async afterCommit(orders) {
      try {
        await drainer.drainOrders(orders.map(({ order }) => order));
      } catch (error) {
        logger.warn({ err: error, orders: orders.length }, 'order stock drain failed; the sweep retries it');
      }
      await drainer.sweepIfDue();
    },
  };
}
