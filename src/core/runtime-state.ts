import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { fromEpochMs, type Instant } from './time.js';

/**
 * What running processes know and MySQL does not: each account's breaker state, limiter queue,
 * current and last run (worker-registry.ts adds which workers are alive). Written to Redis by
 * whoever syncs (SyncRunner, so `tradectl sync` and the worker alike) and read by `tradectl
 * status`, which therefore works from any machine while the workers run, and never takes a lease.
 *
 * It is a view, not a source of truth: writes are best effort (a failed write is logged at
 * debug and never fails a sync), and every key expires, so the state of an account removed from
 * the config, or of a worker that died, disappears by itself. Breakers and limiter queues are
 * per process: the state shows the last report and who made it (`by`).
 *
 * Key (built here and nowhere else; the hash tag keeps it in the slot of the account's sync lease):
 *
 *   `${prefix}status:{platform:account}`  hash of JSON fields breaker, limiter, running, lastRun,
 *                                         lastError; PX = the account state ttl (7 days)
 */

/** How long an account's state outlives its last write. */
export const ACCOUNT_STATE_TTL_MS = 7 * 86_400_000;

export function accountStateKey(keyPrefix: string, platform: string, account: string): string {
  return `${keyPrefix}status:{${platform}:${account}}`;
}

/** Identifies this process in what it writes (and by default as a worker): `host:pid`. */
export function processOwner(): string {
  return `${hostname()}:${process.pid}`;
}

export type RuntimeBreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerStatus {
  state: RuntimeBreakerState;
  /** When this state was reported (a change, or the start or end of a run). */
  at: Instant;
  by: string;
}

/** One token bucket as a limiter snapshot has it (src/adapters/resilience/token-bucket.ts). */
export interface LimiterBucketInput {
  bucket: string;
  backend: string;
  ratePerSecond: number;
  burst: number;
  tokens: number;
  queued: number;
  running: number;
  pausedUntil: number | null;
}

export interface LimiterStatus {
  at: Instant;
  by: string;
  /** Calls of the reporting process waiting for a token, over every bucket. */
  queued: number;
  running: number;
  buckets: (Omit<LimiterBucketInput, 'pausedUntil'> & { pausedUntil: Instant | null })[];
}

export interface RunningStatus {
  since: Instant;
  by: string;
  fencingToken: number | null;
  chunksDone: number;
  chunks: number;
  fetched: number;
}

export interface RunErrorStatus {
  code: string;
  kind: string;
  message: string;
  hint: string | null;
}

export interface LastRunStatus {
  startedAt: Instant;
  finishedAt: Instant;
  outcome: 'ok' | 'failed';
  by: string;
  fetched: number;
  published: number;
  rejected: number;
  checkpoint: Instant | null;
  error: RunErrorStatus | null;
}

/** The last failed run's error; kept when later runs succeed, so a flapping account shows it. */
export interface LastErrorStatus extends RunErrorStatus {
  at: Instant;
  by: string;
}

export interface AccountRuntimeState {
  breaker: BreakerStatus | null;
  limiter: LimiterStatus | null;
  /** Set while a run is in progress (the lease holder tells whether it is still alive). */
  running: RunningStatus | null;
  lastRun: LastRunStatus | null;
  lastError: LastErrorStatus | null;
}

export interface RuntimeStateWriter {
  readonly owner: string;
  breaker(platform: string, account: string, state: RuntimeBreakerState): Promise<void>;
  limiter(platform: string, account: string, buckets: readonly LimiterBucketInput[]): Promise<void>;
  running(platform: string, account: string, running: Omit<RunningStatus, 'by'>): Promise<void>;
  /** Records the finished run (and its error), and clears `running`. */
  runFinished(platform: string, account: string, run: Omit<LastRunStatus, 'by'>): Promise<void>;
}

export interface RuntimeStateOptions {
  /** A client without the ioredis `keyPrefix` option (keys carry `keyPrefix`). */
  redis: Redis;
  /** `config.redis.keyPrefix`. */
  keyPrefix: string;
  logger: Logger;
  /** Who writes (shown by status). Default `host:pid`. */
  owner?: string;
  /** Wall clock, Unix ms. Default `Date.now`. */
  clock?: () => number;
  /** Life of an account's state after its last write. Default 7 days. */
  ttlMs?: number;
}

export function createRuntimeStateWriter(options: RuntimeStateOptions): RuntimeStateWriter {
  const { redis, keyPrefix } = options;
  const owner = options.owner ?? processOwner();
  const clock = options.clock ?? Date.now;
  const ttlMs = options.ttlMs ?? ACCOUNT_STATE_TTL_MS;
  const logger = options.logger.child({ component: 'runtime-state' });

  async function write(
    platform: string,
    account: string,
    fields: Record<string, unknown>,
    drop: string[] = [],
  ) {
    const key = accountStateKey(keyPrefix, platform, account);
    const values = Object.entries(fields).flatMap(([field, value]) => [field, JSON.stringify(value)]);
    try {
      const multi = redis.multi().hset(key, ...values);
      if (drop.length > 0) multi.hdel(key, ...drop);
      await multi.pexpire(key, ttlMs).exec();
    } catch (error) {
      // Status is a view: a sync must not fail because it could not be reported.
      logger.debug({ err: error, platform, account }, 'could not write the runtime state');
    }
  }

  return {
    owner,
    breaker: (platform, account, state) =>
      write(platform, account, { breaker: { state, at: fromEpochMs(clock()), by: owner } }),
    limiter: (platform, account, buckets) => {
      const status: LimiterStatus = {
        at: fromEpochMs(clock()),
        by: owner,
        queued: buckets.reduce((sum, bucket) => sum + bucket.queued, 0),
        running: buckets.reduce((sum, bucket) => sum + bucket.running, 0),
        buckets: buckets.map((bucket) => ({
          bucket: bucket.bucket,
          backend: bucket.backend,
          ratePerSecond: bucket.ratePerSecond,
          burst: bucket.burst,
          tokens: bucket.tokens,
          queued: bucket.queued,
          running: bucket.running,
          pausedUntil:
            bucket.pausedUntil !== null && bucket.pausedUntil > clock()
              ? fromEpochMs(bucket.pausedUntil)
              : null,
        })),
      };
      return write(platform, account, { limiter: status });
    },
    running: (platform, account, running) => write(platform, account, { running: { ...running, by: owner } }),
    runFinished: (platform, account, run) => {
      const fields: Record<string, unknown> = { lastRun: { ...run, by: owner } };
      if (run.error !== null) fields.lastError = { ...run.error, at: run.finishedAt, by: owner };
      return write(platform, account, fields, ['running']);
    },
  };
}

export interface RuntimeStateReader {
  /** One state per account, in the order asked (empty state where nothing was written). */
  accounts(accounts: readonly { platform: string; account: string }[]): Promise<AccountRuntimeState[]>;
}

/** Reads only; Redis errors are thrown (the caller reports Redis as unreachable). */
export function createRuntimeStateReader(options: { redis: Redis; keyPrefix: string }): RuntimeStateReader {
  const { redis, keyPrefix } = options;
  return {
    async accounts(accounts) {
      if (accounts.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const { platform, account } of accounts)
        pipeline.hgetall(accountStateKey(keyPrefix, platform, account));
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([error, value]) => {
        if (error) throw error;
        return parseAccountState(value as Record<string, string>);
      });
    },
  };
}

/** Tolerant: a field that is missing or not what this version writes reads as null. */
export function parseAccountState(hash: Record<string, string>): AccountRuntimeState {
  const section = <T>(field: string): T | null => {
    const text = hash[field];
    if (text === undefined) return null;
    try {
      const value = JSON.parse(text) as unknown;
      return value !== null && typeof value === 'object' ? (value as T) : null;
    } catch {
      return null;
    }
  };
  return {
    breaker: section<BreakerStatus>('breaker'),
    limiter: section<LimiterStatus>('limiter'),
    running: section<RunningStatus>('running'),
    lastRun: section<LastRunStatus>('lastRun'),
    lastError: section<LastErrorStatus>('lastError'),
  };
}
