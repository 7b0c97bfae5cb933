import { Redis } from 'ioredis';
import { createOrderBus } from '../core/bus/create-order-bus.js';
import { createMysqlDeadLetterQueue, type DeadLetterStore } from '../core/bus/dlq.js';
import type { BusConsumer, OrderBus } from '../core/bus/order-bus.js';
import type { Config } from '../core/config.js';
import { createIdGenerator, type IdGeneratorHandle } from '../core/id-generator.js';
import type { Logger } from '../core/logger.js';
import { MysqlPools } from '../core/mysql-pools.js';
import { connectRedisFor } from '../core/redis-connect.js';
import { routerForConfig } from '../core/shard-admin.js';
import { type ReplayItem, type ReplaySelection, replayDeadLetters } from './dlq-replay.js';
import { waitForConsumerGroup } from './kafka-drain.js';
import { createSinkPipeline } from './sink-pipeline.js';

/**
 * Opens what `tradectl dlq` needs and closes it again: the DLQ in the meta database, and for a
 * replay the bus. Kafka: a producer only (the running sink workers consume what is replayed).
 * Inline: the sink runs in this process (like `tradectl sync` without brokers), so each replay
 * is stored, or quarantined again, before `publishRaw` resolves.
 */
export interface DlqCommandOptions {
  config: Config;
  logger: Logger;
}

export async function withDeadLetterStore<T>(
  options: DlqCommandOptions,
  work: (dlq: DeadLetterStore) => Promise<T>,
): Promise<T> {
  const router = routerForConfig(options.config);
  const pools = new MysqlPools(options.config, router, { connectionLimit: 4 });
  try {
    return await work(createMysqlDeadLetterQueue({ pools, router }));
  } finally {
    await pools.close();
  }
}

export interface RunReplayOptions extends DlqCommandOptions {
  selection: ReplaySelection;
  dryRun: boolean;
  /** Default: Kafka when `kafka.brokers` is set, else inline. */
  via?: 'kafka' | 'inline' | undefined;
  /** Kafka: wait until the sink group stored the replays (so failures show). Default false. */
  wait?: boolean | undefined;
  /** Kafka --wait: give up after this long (TRADECTL_SYNC_DRAIN_TIMEOUT). Default 120 s. */
  waitTimeoutMs?: number | undefined;
}

export async function runDlqReplay(
  options: RunReplayOptions,
): Promise<{ via: 'kafka' | 'inline'; items: ReplayItem[] }> {
  const { config, logger } = options;
  const via = options.via ?? (config.kafka.brokers.length > 0 ? 'kafka' : 'inline');
  const closers: (() => Promise<void>)[] = [];
  const items = await withDeadLetterStore(options, (dlq) =>
    replayDeadLetters(
      options.selection,
      { dryRun: options.dryRun },
      {
        dlq,
        logger,
        openBus: () => openBus({ config, logger, dlq, via, closers }),
        waitForSink:
          via === 'kafka' && options.wait
            ? async () => {
                await waitForConsumerGroup({
                  config: config.kafka,
                  groupId: config.kafka.sinkGroupId,
                  logger,
                  timeoutMs: options.waitTimeoutMs,
                });
              }
            : undefined,
      },
    ).finally(async () => {
      // Before the DLQ's pools close: the inline sink may still be writing its last batch.
      for (const close of closers.reverse()) await close();
    }),
  );
  return { via, items };
}

async function openBus(input: {
  config: Config;
  logger: Logger;
  dlq: DeadLetterStore;
  via: 'kafka' | 'inline';
  closers: (() => Promise<void>)[];
}): Promise<OrderBus> {
  const { config, logger, dlq, via, closers } = input;
  if (via === 'kafka') {
    const bus = createOrderBus({ config, dlq, logger, via });
    closers.push(() => bus.stop().catch((error: unknown) => logger.warn({ err: error }, 'bus did not stop')));
    await bus.start();
    return bus;
  }
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router);
  closers.push(() => pools.close());
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  closers.push(() =>
    redis.quit().then(
      () => undefined,
      () => redis.disconnect(),
    ),
  );
  await connectRedisFor(redis, {
    code: 'TRADECTL_DLQ_REPLAY_UNAVAILABLE',
    purpose: 'worker id, stock',
    hint: 'check redis.url (TRADECTL_REDIS_URL); nothing was replayed',
  });
  const ids: IdGeneratorHandle = await createIdGenerator({ config, logger, redis });
  closers.push(() =>
    ids.close().catch((error: unknown) => logger.warn({ err: error }, 'id generator did not close')),
  );
  const { sink } = createSinkPipeline({
    config,
    logger,
    pools,
    router,
    redis,
    nextId: () => ids.generator.next(),
  });
  // The pipeline's own DLQ and this one write the same table; the bus quarantines through this one.
  const bus = createOrderBus({ config, dlq, logger, via });
  closers.push(() => bus.stop().catch((error: unknown) => logger.warn({ err: error }, 'bus did not stop')));
  const consumer: BusConsumer = await bus.consume({
    groupId: config.kafka.sinkGroupId,
    handler: sink.handler,
  });
  closers.push(() => consumer.stop());
  return bus;
}
