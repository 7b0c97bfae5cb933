import type { Redis } from 'ioredis';
import type { RetryBackoff } from '../core/bus/batch-delivery.js';
import { createOrderBus } from '../core/bus/create-order-bus.js';
import { createEnvelope } from '../core/bus/envelope.js';
import type { BusConsumer, OrderBus } from '../core/bus/order-bus.js';
import type { Config } from '../core/config.js';
import { createIdGenerator, type IdGeneratorHandle } from '../core/id-generator.js';
import type { Logger } from '../core/logger.js';
import type { MysqlPools } from '../core/mysql-pools.js';
import type { UnifiedOrder } from '../core/order.js';
import type { ShardRouter } from '../core/shard-router.js';
import { fromEpochMs } from '../core/time.js';
import { waitForConsumerGroup } from './kafka-drain.js';
import { createSinkPipeline, type SinkPipeline } from './sink-pipeline.js';

/**
 * The write side of `reconcile orders --fix`: orders fetched again from the platform go through
 * the normal path, exactly as `tradectl sync` sends them (envelope -> bus -> order sink ->
 * versioned upsert, with whatever the sink pipeline decorates the write with), never straight
 * into a table. `store` resolves once they are stored: the inline bus resolves a publish after
 * the database commit; on Kafka it waits until the sink group committed past them. It also waits
 * for this process's stock drain of what it stored (the sink acknowledges a batch before its
 * drain ends), so a repair reports with the stock of its orders settled; `close` settles it too.
 */
export interface ResyncOptions {
  config: Config;
  logger: Logger;
  pools: MysqlPools;
  router: ShardRouter;
  redis: Redis;
  /** Default: Kafka when `kafka.brokers` is set, else inline. */
  via?: 'kafka' | 'inline' | undefined;
  /** Sink consumer group. Default `kafka.sinkGroupId`. */
  groupId?: string | undefined;
  /** Kafka: how long to wait for the sink group. Default 120 s. */
  drainTimeoutMs?: number | undefined;
  clock?: (() => number) | undefined;
  busRetry?: RetryBackoff | undefined;
  signal?: AbortSignal | undefined;
}

export interface Resync {
  readonly via: 'kafka' | 'inline';
  store(orders: readonly UnifiedOrder[]): Promise<void>;
  close(): Promise<void>;
}

export async function openResync(options: ResyncOptions): Promise<Resync> {
  const { config, logger } = options;
  const via = options.via ?? (config.kafka.brokers.length > 0 ? 'kafka' : 'inline');
  const groupId = options.groupId ?? config.kafka.sinkGroupId;
  const clock = options.clock ?? Date.now;
  let ids: IdGeneratorHandle | undefined;
  let bus: OrderBus | undefined;
  let consumer: BusConsumer | undefined;
  let pipeline: SinkPipeline | undefined;
  const close = async () => {
    await consumer
      ?.stop()
      .catch((error: unknown) => logger.warn({ err: error }, 'sink consumer did not stop cleanly'));
    await bus
      ?.stop()
      .catch((error: unknown) => logger.warn({ err: error }, 'order bus did not stop cleanly'));
    await pipeline?.settle();
    await ids
      ?.close()
      .catch((error: unknown) => logger.warn({ err: error }, 'id generator did not close cleanly'));
  };
  try {
    ids = await createIdGenerator({ config, logger, redis: options.redis, clock: options.clock });
    const generator = ids.generator;
    pipeline = createSinkPipeline({
      config,
      logger,
      pools: options.pools,
      router: options.router,
      redis: options.redis,
      nextId: () => generator.next(),
    });
    const { dlq, sink } = pipeline;
    bus = createOrderBus({ config, dlq, logger, via, retry: options.busRetry });
    consumer = await bus.consume({ groupId, handler: sink.handler });
  } catch (error) {
    await close();
    throw error;
  }
  const opened = bus;
  const drains = pipeline;
  return {
    via,
    async store(orders) {
      if (orders.length === 0) return;
      const fetchedAt = fromEpochMs(clock());
      await opened.publish(orders.map((order) => createEnvelope(order, fetchedAt)));
      if (via === 'kafka') {
        await waitForConsumerGroup({
          config: config.kafka,
          groupId,
          logger,
          timeoutMs: options.drainTimeoutMs,
          signal: options.signal,
        });
      }
      await drains.settle();
    },
    close,
  };
}
