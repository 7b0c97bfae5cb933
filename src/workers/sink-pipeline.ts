import type { Redis } from 'ioredis';
import { createMysqlDeadLetterQueue, type DeadLetterQueue } from '../core/bus/dlq.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { withShardMigrations } from '../core/migrate/dual-write-store.js';
import type { MysqlPools } from '../core/mysql-pools.js';
import { createOrderStock, type OrderStock } from '../core/order-stock/create-order-stock.js';
import type { OrderStockMetrics } from '../core/order-stock/order-stock-metrics.js';
import { createOrderStore, type OrderStore } from '../core/order-store.js';
import type { ShardRouter } from '../core/shard-router.js';
import { createOrderSink, type OrderSink } from './order-sink.js';
import { timedUpsert } from './timed-upsert.js';

export interface SinkPipelineDeps {
  config: Config;
  logger: Logger;
  pools: MysqlPools;
  router: ShardRouter;
  redis: Redis;
  nextId: () => string;
  /** Observes the duration of each upsertBatch of the sink, seconds (the worker's histogram). */
  observeUpsert?: ((seconds: number) => void) | undefined;
  /** Where order stock outcomes are counted besides the drainer's totals (prometheusOrderStockMetrics). */
  orderStockMetrics?: OrderStockMetrics | undefined;
}

export interface SinkPipeline {
  store: OrderStore;
  dlq: DeadLetterQueue;
  sink: OrderSink;
  /**
   * Stock deduction of the stored orders (config `orderStock`; undefined when disabled). The sink
   * drains each batch's intents itself; the worker also runs `orderStock.drainer.start()` (and
   * `stop()` on shutdown) so intents left by a crash or an outage are swept when no batch comes.
   */
  orderStock: OrderStock | undefined;
  /** Resolves once the stock drain of the last stored batch finished (call before closing). */
  settle(): Promise<void>;
}

/**
 * The one place that assembles what the order sink writes through: the store, the dead letter
 * queue and the sink itself. `tradectl sync` and the worker's sink role both build it here, so
 * what decorates the write path (stock deduction, dual write during a shard migration) is wired
 * once and holds for both.
 */
export function createSinkPipeline(deps: SinkPipelineDeps): SinkPipeline {
  const { pools, router, logger } = deps;
  const orderStock = deps.config.orderStock.enabled
    ? createOrderStock({
        config: deps.config,
        pools,
        router,
        redis: deps.redis,
        logger,
        ...(deps.orderStockMetrics ? { metrics: deps.orderStockMetrics } : {}),
      })
    : undefined;
  const storeOptions = { pools, router, nextId: deps.nextId, stockIntents: orderStock?.storeOptions };
  // Follows a running shard migration (dual write, cutover) without a restart: docs/migrate-shards.md.
  const store = withShardMigrations(createOrderStore(storeOptions), {
    ...storeOptions,
    config: deps.config,
    logger,
  });
  const dlq = createMysqlDeadLetterQueue({ pools, router });
  // A batch's stock drain overlaps the next batch's write: its intents committed with the
  // orders (the outbox), so acknowledging the batch before the drain finished loses nothing; a
  // crash leaves them pending for the sweep. One drain at a time keeps the sink from running
  // ahead of Redis. afterCommit never rejects (failures are left to the sweep).
  let draining: Promise<void> = Promise.resolve();
  const sink = createOrderSink({
    store: timedUpsert(store, deps.observeUpsert),
    logger,
    deductStockForNewLines:
      orderStock &&
      (async (orders) => {
        await draining;
        draining = orderStock.afterCommit(orders);
      }),
  });
  return { store, dlq, sink, orderStock, settle: () => draining };
}
