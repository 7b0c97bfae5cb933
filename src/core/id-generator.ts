import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { TradectlError } from './errors.js';
import type { Logger } from './logger.js';
import { connectRedisFor } from './redis-connect.js';
import { DEFAULT_MAX_BACKWARD_WAIT_MS, SnowflakeGenerator } from './snowflake.js';
import { acquireWorkerIdLease, type WorkerIdLease, type WorkerIdLeaseOptions } from './worker-id-lease.js';

export interface CreateIdGeneratorOptions {
  config: Config;
  logger: Logger;
  /**
   * Connection used for the worker id lease; the caller keeps owning it. Default: a new
   * connection to `config.redis.url`, closed by `close()`. Unused when `ids.workerId` is set.
   */
  redis?: Redis;
  /** Wall clock in Unix ms for the generator and the lease. Default `Date.now`. */
  clock?: () => number;
  /** Default 10 ms, see SnowflakeOptions. */
  maxBackwardWaitMs?: number;
  /** Lease timing (ttl, renewal interval, safety margin); defaults in WorkerIdLeaseOptions. */
  lease?: Pick<WorkerIdLeaseOptions, 'ttlMs' | 'renewIntervalMs' | 'safetyMarginMs' | 'owner'>;
}

export interface IdGeneratorHandle {
  generator: SnowflakeGenerator;
  workerId: number;
  /** `config`: `ids.workerId` is fixed; `lease`: leased in Redis for as long as the handle is open. */
  source: 'config' | 'lease';
  lease: WorkerIdLease | undefined;
  /** Stops the generator, releases the lease and closes a connection it opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * A Snowflake generator with a worker id from config (`ids.workerId`, env TRADECTL_WORKER_ID)
 * or, when none is set, leased in Redis. A fixed worker id makes the operator responsible for
 * running one process per id; a leased one is guarded by the lease (see worker-id-lease.ts):
 * when it is lost, `next()` throws TRADECTL_WORKER_LEASE_LOST.
 */
export async function createIdGenerator(options: CreateIdGeneratorOptions): Promise<IdGeneratorHandle> {
  const { config, logger } = options;
  const epochMs = Date.parse(config.ids.epoch);
  const base = { epochMs, clock: options.clock, maxBackwardWaitMs: options.maxBackwardWaitMs };
  const closed = () =>
    new TradectlError('TRADECTL_ID_GENERATOR_CLOSED', 'the id generator is closed', { kind: 'internal' });

  if (config.ids.workerId !== undefined) {
    const generator = new SnowflakeGenerator({ ...base, workerId: config.ids.workerId });
    return {
      generator,
      workerId: config.ids.workerId,
      source: 'config',
      lease: undefined,
      close: async () => {
        generator.revoke(closed());
        // Nothing remembers a fixed worker id's last timestamp: the next process with this id (the
        // next run of a command) could start in the same millisecond. Let it pass first.
        const clock = options.clock ?? Date.now;
        const deadline = performance.now() + (options.maxBackwardWaitMs ?? DEFAULT_MAX_BACKWARD_WAIT_MS) + 5;
        while (clock() <= generator.lastTimestampMs && performance.now() < deadline) await delay(1);
      },
    };
  }

  const ownsRedis = options.redis === undefined;
  // Connected explicitly so an unreachable Redis fails the first attempt at once (a command-line
  // run should not sit through reconnect backoff); once connected, ioredis reconnects as usual.
  const redis = options.redis ?? new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  if (ownsRedis) redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  let lease: WorkerIdLease;
  try {
    if (ownsRedis) {
      await connectRedisFor(redis, {
        code: 'TRADECTL_WORKER_LEASE_FAILED',
        purpose: 'worker id lease',
        hint: 'check redis.url, or set ids.workerId (TRADECTL_WORKER_ID) to use a fixed worker id',
      });
    }
    lease = await acquireWorkerIdLease({
      ...options.lease,
      redis,
      keyPrefix: config.redis.keyPrefix,
      logger,
      clock: options.clock,
    });
  } catch (error) {
    if (ownsRedis) redis.disconnect();
    throw error;
  }
  const generator = new SnowflakeGenerator({
    ...base,
    workerId: lease.workerId,
    startAfterMs: lease.startAfterMs,
    validUntilMs: lease.validUntilMs,
  });
  lease.on('renewed', (validUntilMs) => generator.extendValidity(validUntilMs));
  lease.on('lost', (error) => generator.revoke(error));

  let closing: Promise<void> | undefined;
  return {
    generator,
    workerId: lease.workerId,
    source: 'lease',
    lease,
    close: () => {
      closing ??= (async () => {
        // Stop issuing first: the release records the last timestamp as the next owner's floor.
        generator.revoke(closed());
        try {
          await lease.release(generator.lastTimestampMs);
        } finally {
          if (ownsRedis) await redis.quit().catch(() => redis.disconnect());
        }
      })();
      return closing;
    },
  };
}
