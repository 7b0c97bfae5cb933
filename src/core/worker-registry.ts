import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { processOwner } from './runtime-state.js';
import { fromEpochMs, type Instant } from './time.js';

/**
 * The registry of running workers, for `tradectl status`: each worker writes a heartbeat (id,
 * roles, start, last beat) that expires after three intervals, so a worker that died without
 * saying goodbye disappears by itself.
 *
 * Keys (one hash tag: the registry lives in one Redis Cluster slot):
 *
 *   `${prefix}status:{workers}`        sorted set: worker id -> last heartbeat (Unix ms); PX 1 day
 *   `${prefix}status:{workers}:<id>`   hash: the worker's heartbeat; PX = 3 heartbeat intervals
 */

/** Default time between two heartbeats of a worker. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
const WORKER_INDEX_TTL_MS = 86_400_000;

export function workerIndexKey(keyPrefix: string): string {
  return `${keyPrefix}status:{workers}`;
}

export function workerKey(keyPrefix: string, id: string): string {
  return `${keyPrefix}status:{workers}:${id}`;
}

/** A worker as its last heartbeat described it. */
export interface WorkerStatus {
  id: string;
  roles: string[];
  host: string;
  pid: number;
  startedAt: Instant;
  lastSeenAt: Instant;
  intervalMs: number;
  /** No heartbeat for two intervals: probably stopped or stuck (its key expires after three). */
  stale: boolean;
  /** Whatever the worker added (API address, version). */
  info: Record<string, string>;
}

/** Workers whose heartbeat has not expired, by id. Reads only; Redis errors are thrown. */
export async function listWorkers(options: {
  redis: Redis;
  keyPrefix: string;
  clock?: () => number;
}): Promise<WorkerStatus[]> {
  const { redis, keyPrefix } = options;
  const now = (options.clock ?? Date.now)();
  const ids = await redis.zrange(workerIndexKey(keyPrefix), 0, -1);
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hgetall(workerKey(keyPrefix, id));
  const workers: WorkerStatus[] = [];
  for (const [error, value] of (await pipeline.exec()) ?? []) {
    if (error) throw error;
    const worker = parseWorker(value as Record<string, string>, now);
    if (worker !== null) workers.push(worker);
  }
  return workers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function parseWorker(hash: Record<string, string>, now: number): WorkerStatus | null {
  // An expired heartbeat whose id is still in the index reads as an empty hash.
  if (hash.id === undefined || hash.lastSeenAt === undefined) return null;
  const lastSeenMs = Number(hash.lastSeenAt);
  const intervalMs = Number(hash.intervalMs) || DEFAULT_HEARTBEAT_INTERVAL_MS;
  let roles: string[] = [];
  let info: Record<string, string> = {};
  try {
    roles = (JSON.parse(hash.roles ?? '[]') as unknown[]).map(String);
    info = JSON.parse(hash.info ?? '{}') as Record<string, string>;
  } catch {
    // Written by another version: shown without roles or info rather than hidden.
  }
  return {
    id: hash.id,
    roles,
    host: hash.host ?? '',
    pid: Number(hash.pid ?? 0),
    startedAt: fromEpochMs(Number(hash.startedAt ?? lastSeenMs)),
    lastSeenAt: fromEpochMs(lastSeenMs),
    intervalMs,
    stale: now - lastSeenMs > 2 * intervalMs,
    info,
  };
}

export interface WorkerHeartbeatOptions {
  /** A client without the ioredis `keyPrefix` option. */
  redis: Redis;
  /** `config.redis.keyPrefix`. */
  keyPrefix: string;
  logger: Logger;
  /** The worker's roles (`sync`, `sink`, `api`, ...). */
  roles: readonly string[];
  /** Unique among running workers. Default `host:pid`. */
  id?: string;
  /** Time between heartbeats; the heartbeat expires after three. Default 10 s. */
  intervalMs?: number;
  /** Shown by `tradectl status` (API address, version). Never secrets. */
  info?: Record<string, string>;
  /** Wall clock, Unix ms. Default `Date.now`. */
  clock?: () => number;
}

export interface WorkerHeartbeat {
  readonly id: string;
  /** Beats now (the timer calls it too); never throws. */
  beat(): Promise<void>;
  /** Stops beating and removes the worker from the registry; never throws. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Registers a running worker for `tradectl status`: one heartbeat now (awaited, so the worker
 * shows up as soon as this resolves), then one every `intervalMs` on an unref'ed timer. Redis
 * failures are logged, never thrown: a worker does not stop working because status cannot see
 * it. Call `stop()` at shutdown; a worker that dies without it disappears after three intervals.
 */
export async function registerWorkerHeartbeat(options: WorkerHeartbeatOptions): Promise<WorkerHeartbeat> {
  const { redis, keyPrefix } = options;
  const id = options.id ?? processOwner();
  const intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  if (!(intervalMs >= 100)) throw new RangeError('the worker heartbeat interval must be at least 100 ms');
  const clock = options.clock ?? Date.now;
  const logger = options.logger.child({ component: 'worker-heartbeat', workerId: id });
  const startedAt = clock();
  const key = workerKey(keyPrefix, id);
  const index = workerIndexKey(keyPrefix);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing = false;

  async function beat(): Promise<void> {
    if (stopped) return;
    const now = clock();
    try {
      await redis
        .multi()
        .hset(key, {
          id,
          roles: JSON.stringify(options.roles),
          host: hostname(),
          pid: String(process.pid),
          startedAt: String(startedAt),
          lastSeenAt: String(now),
          intervalMs: String(intervalMs),
          info: JSON.stringify(options.info ?? {}),
        })
        .pexpire(key, 3 * intervalMs)
        .zadd(index, now, id)
        // Ids of workers whose heartbeat expired long ago; the index itself goes when all are gone.
        .zremrangebyscore(index, '-inf', now - WORKER_INDEX_TTL_MS)
        .pexpire(index, WORKER_INDEX_TTL_MS)
        .exec();
      if (failing) logger.info('worker heartbeat written again');
      failing = false;
    } catch (error) {
      // Once per outage, not every interval.
      if (!failing) logger.warn({ err: error }, 'could not write the worker heartbeat; retrying');
      failing = true;
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void beat().finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  await beat();
  schedule();
  return {
    id,
    beat,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      try {
        await redis.multi().del(key).zrem(index, id).exec();
      } catch (error) {
        logger.warn({ err: error }, 'could not remove the worker heartbeat; it expires by itself');
      }
    },
  };
}
