import type { Redis } from 'ioredis';
import { createMysqlDeadLetterQueue, type DeadLetterQueue } from '../core/bus/dlq.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { MysqlPools } from '../core/mysql-pools.js';
import { createOrderStore, type OrderStore } from '../core/order-store.js';
import type { ShardRouter } from '../core/shard-router.js';
import { createOrderSink, type OrderSink } from './order-sink.js';

export interface SinkPipelineDeps {
  config: Config;
  logger: Logger;
  pools: MysqlPools;
  router: ShardRouter;
  redis: Redis;
  nextId: () => string;
}

export interface SinkPipeline {
  store: OrderStore;
  dlq: DeadLetterQueue;
  sink: OrderSink;
}

/**
 * The one place that assembles what the order sink writes through: the store, the dead letter
 * queue and the sink itself. `tradectl sync` and the worker's sink role both build it here, so
 * what decorates the write path (stock deduction, dual write during a shard migration) is wired
 * once and holds for both.
 */
export function createSinkPipeline(deps: SinkPipelineDeps): SinkPipeline {
  const { pools, router, logger } = deps;
  const store = createOrderStore({ pools, router, nextId: deps.nextId });
  const dlq = createMysqlDeadLetterQueue({ pools, router });
  const sink = createOrderSink({ store, logger });
  return { store, dlq, sink };
}
