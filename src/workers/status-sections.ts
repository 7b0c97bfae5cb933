import { Redis } from 'ioredis';
import { Kafka } from 'kafkajs';
import { createAccountLeases, type LeaseHolder } from '../core/account-lease.js';
import { forEachBounded } from '../core/bounded-concurrency.js';
import { createMysqlDeadLetterQueue } from '../core/bus/dlq.js';
import { kafkaLogCreator, kafkaLogLevel } from '../core/bus/kafka-logger.js';
import { type Checkpoint, createCheckpointStore } from '../core/checkpoint-store.js';
import type { Config } from '../core/config.js';
import { isTradectlError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { MysqlPools } from '../core/mysql-pools.js';
import { NOT_SENT_CODES } from '../core/network-codes.js';
import { connectRedis } from '../core/redis-connect.js';
import { type AccountRuntimeState, createRuntimeStateReader } from '../core/runtime-state.js';
import { routerForConfig } from '../core/shard-admin.js';
import { createSyncWindowLog, type SyncWindowEntry } from '../core/sync-window-log.js';
import type { Instant } from '../core/time.js';
import { listWorkers, type WorkerStatus } from '../core/worker-registry.js';
import { type PartitionLag, partitionLags } from './consumer-lag.js';

/**
 * The three reads behind `tradectl status` (status-report.ts), one per server. Each opens its
 * own short-lived connections with short timeouts, reads, closes, and never throws: a failure
 * comes back as a problem naming the server (host and port only: never credentials).
 */

export interface StatusProblem {
  service: 'mysql' | 'redis' | 'kafka';
  /** host:port of the server (or the broker list). */
  target: string;
  message: string;
  hint: string | null;
}

export type SectionResult<T> = { ok: true; value: T } | { ok: false; problem: StatusProblem };

type AccountId = { platform: string; account: string };

export interface MysqlSection {
  /** By `platform:account`. */
  checkpoints: Map<string, Checkpoint & { updatedAt: Instant }>;
  /** In the order of the accounts asked. */
  windows: (SyncWindowEntry | null)[];
  /** Open DLQ entries by `platform:account`. */
  dlqOpen: Map<string, number>;
  dlqTotal: number;
}

export async function readMysqlSection(input: {
  config: Config;
  accounts: readonly AccountId[];
  timeoutMs: number;
}): Promise<SectionResult<MysqlSection>> {
  const { config, accounts } = input;
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, {
    connectionLimit: 4,
    connectTimeout: Math.min(input.timeoutMs, 5000),
  });
  try {
    const value = await withTimeout(input.timeoutMs, async () => {
      const checkpoints = new Map(
        (await createCheckpointStore({ pools, router }).list()).map((row) => [
          `${row.platform}:${row.account}`,
          {
            cursorTime: row.cursorTime,
            cursorId: row.cursorId,
            fencingToken: row.fencingToken,
            updatedAt: row.updatedAt,
          },
        ]),
      );
      const log = createSyncWindowLog({ pools, router });
      const windows: (SyncWindowEntry | null)[] = new Array(accounts.length).fill(null);
      await forEachBounded(accounts, 4, async ({ platform, account }, index) => {
        windows[index] = await log.latest(platform, account);
      });
      const counts = await createMysqlDeadLetterQueue({ pools, router }).openCounts();
      const dlqOpen = new Map<string, number>();
      for (const row of counts) {
        if (row.platform !== null && row.account !== null)
          dlqOpen.set(`${row.platform}:${row.account}`, row.open);
      }
      return { checkpoints, windows, dlqOpen, dlqTotal: counts.reduce((sum, row) => sum + row.open, 0) };
    });
    return { ok: true, value };
  } catch (error) {
    return { ok: false, problem: problem('mysql', hostOf(config.mysql.url), error) };
  } finally {
    await settleWithin(pools.close(), 2000);
  }
}

export interface RedisSection {
  /** In the order of the accounts asked. */
  leases: (LeaseHolder | null)[];
  states: AccountRuntimeState[];
  workers: WorkerStatus[];
}

export async function readRedisSection(input: {
  config: Config;
  accounts: readonly AccountId[];
  timeoutMs: number;
  clock: () => number;
  logger: Logger;
}): Promise<SectionResult<RedisSection>> {
  const { config, accounts } = input;
  const keyPrefix = config.redis.keyPrefix;
  // No reconnects and no offline queue: a status read fails fast instead of waiting for Redis.
  const redis = new Redis(config.redis.url, {
    lazyConnect: true,
    connectTimeout: Math.min(input.timeoutMs, 5000),
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', (error) => input.logger.debug({ err: error }, 'redis connection error (status)'));
  try {
    const value = await withTimeout(input.timeoutMs, async () => {
      // The socket's reason ("connect ECONNREFUSED …") rather than "Connection is closed.".
      await connectRedis(redis, (reason, cause) => (cause instanceof Error ? cause : new Error(reason)));
      // Read-only: `holder` is a GET and a PTTL, it never takes or renews a lease.
      const leases = createAccountLeases({ redis, keyPrefix, logger: input.logger });
      const holders: (LeaseHolder | null)[] = new Array(accounts.length).fill(null);
      await forEachBounded(accounts, 8, async ({ platform, account }, index) => {
        holders[index] = await leases.holder(platform, account);
      });
      const states = await createRuntimeStateReader({ redis, keyPrefix }).accounts(accounts);
      const workers = await listWorkers({ redis, keyPrefix, clock: input.clock });
      return { leases: holders, states, workers };
    });
    return { ok: true, value };
  } catch (error) {
    return { ok: false, problem: problem('redis', hostOf(config.redis.url), error) };
  } finally {
    redis.disconnect();
  }
}

export interface KafkaSection {
  topic: string;
  groupId: string;
  /** Messages of the orders topic the sink group has not committed yet. */
  lag: number;
  partitions: PartitionLag[];
}

export async function readKafkaSection(input: {
  config: Config;
  timeoutMs: number;
  logger: Logger;
}): Promise<SectionResult<KafkaSection>> {
  const { kafka: settings } = input.config;
  const topic = settings.ordersTopic;
  const groupId = settings.sinkGroupId;
  const admin = new Kafka({
    clientId: `${settings.clientId}-status`,
    brokers: settings.brokers,
    connectionTimeout: Math.min(input.timeoutMs, 3000),
    requestTimeout: Math.min(input.timeoutMs, 5000),
    retry: { retries: 1, initialRetryTime: 200 },
    logLevel: kafkaLogLevel(input.logger),
    logCreator: kafkaLogCreator(input.logger),
  }).admin();
  try {
    const value = await withTimeout(input.timeoutMs, async () => {
      await admin.connect();
      const [offsets, groups] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId, topics: [topic] }),
      ]);
      const partitions = partitionLags(
        topic,
        offsets,
        groups.find((entry) => entry.topic === topic)?.partitions ?? [],
      );
      return { topic, groupId, lag: partitions.reduce((sum, entry) => sum + entry.lag, 0), partitions };
    });
    return { ok: true, value };
  } catch (error) {
    return { ok: false, problem: problem('kafka', settings.brokers.join(','), error) };
  } finally {
    await settleWithin(admin.disconnect(), 2000);
  }
}

/** Rejects when `work` takes longer than `ms`; the work itself is abandoned (its connections are closed by the caller). */
async function withTimeout<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  const running = work();
  running.catch(() => undefined);
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

function problem(service: StatusProblem['service'], target: string, error: unknown): StatusProblem {
  const root = isTradectlError(error) && error.cause instanceof Error ? error.cause : error;
  // The cause's text, unless the error's own message already carries it (classifyMysqlError's do).
  const rootText = root !== error && root instanceof Error ? root.message : '';
  const message = isTradectlError(error)
    ? `${error.message}${rootText && !error.message.includes(rootText) ? `: ${rootText}` : ''}`
    : ((error as Error)?.message ?? String(error));
  const hint = isTradectlError(error) ? (error.hint ?? null) : null;
  return { service, target, message, hint: hint ?? connectionHint(service, target, message) };
}

// Nothing answered: no connection was ever made, or the connect timed out. Matched in the text,
// which carries the socket's code also where a client wraps the error (kafkajs).
const NO_ANSWER = new RegExp(`\\b(${[...NOT_SENT_CODES, 'ETIMEDOUT'].join('|')})\\b`);

/** The operator's first question when nothing answers at a service's address. */
function connectionHint(service: StatusProblem['service'], target: string, message: string): string | null {
  if (!NO_ANSWER.test(message)) return null;
  const [name, setting] = (
    {
      mysql: ['MySQL', 'mysql.url'],
      redis: ['Redis', 'redis.url'],
      kafka: ['the Kafka broker', 'kafka.brokers'],
    } as const
  )[service];
  return `nothing answered at ${target}: is ${name} up, and is ${setting} (or its TRADECTL_ variable) right?`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparseable url)';
  }
}
