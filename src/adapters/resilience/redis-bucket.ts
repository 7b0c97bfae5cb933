import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';
import { TradectlError } from '../../core/errors.js';
import { PLATFORM_ERROR_CODES } from './platform-error.js';
import { ADJUST_BUCKET, runLuaScript, TAKE_TOKENS } from './redis-scripts.js';
import { sleep } from './sleep.js';
import type { BucketSnapshot, RateLimit, ScheduleOptions, TokenBucket } from './token-bucket.js';
import type { UsageCorrection } from './usage-headers.js';

/**
 * A token bucket shared by every process through Redis, with our own Lua script
 * (lua/take-tokens-1.lua) instead of bottleneck's Redis datastore.
 *
 * Why not bottleneck's `datastore: 'ioredis'`: tested against the Redis 7.0.15 here with
 * bottleneck 2.19.5 (both a `clientOptions` connection and a shared `Bottleneck.IORedisConnection`):
 * - Redis 7 prefixes `ERR ` to the error a Lua script raises with `redis.error_reply('X')`;
 *   bottleneck recognises its recovery signals by exact message (`e.message ===
 *   'SETTINGS_KEY_NOT_FOUND'`, RedisDatastore.js:176), so the recovery never runs. Once the
 *   limiter's settings key is gone (idle expiry through the `timeout` option — 5 min by default
 *   in a `Bottleneck.Group` — a Redis restart without persistence, eviction, a flush), every
 *   later call fails with `ERR SETTINGS_KEY_NOT_FOUND`, forever (5 of 5 calls failed; a Group
 *   key idle 900 ms with timeout 500 ms failed the same way). This is SGrondin/bottleneck#205
 *   (and #219). `UNKNOWN_CLIENT` (#212) goes through the same exact match (RedisDatastore.js:184);
 *   not reproduced here (a limiter idle past its clientTimeout kept working).
 * - Refills of a shared reservoir are only noticed on a heartbeat (5 s by default), so the
 *   measured use of a 10/s bucket was 14% (5 grants of 35 in 3 s); 97% needed a 50 ms heartbeat
 *   script per limiter instance.
 * - Eight keys per limiter, in one slot only if the limiter id carries a hash tag (Redis Cluster);
 *   outcomes come back as error strings parsed in JS.
 * Here a missing key is simply a full bucket, one key per bucket carries the hash tag, the wait
 * comes back from the script (no polling on a heartbeat), and time is passed in.
 *
 * In this process a bottleneck without a reservoir keeps arrival order and `maxConcurrent`;
 * one call at a time asks Redis for tokens, sleeping exactly the wait the script returns.
 */
export class RedisTokenBucket implements TokenBucket {
  readonly #name: string;
  readonly #key: string;
  readonly #redis: Redis;
  readonly #limiter: Bottleneck;
  readonly #now: () => number;
  #rate: number;
  #burst: number;
  #pausedUntil = 0;
  #acquiring: Promise<void> = Promise.resolve();

  constructor(options: {
    name: string;
    key: string;
    redis: Redis;
    limit: RateLimit;
    maxConcurrent: number;
    now?: () => number;
  }) {
    this.#name = options.name;
    this.#key = options.key;
    this.#redis = options.redis;
    this.#rate = options.limit.ratePerSecond;
    this.#burst = options.limit.burst;
    this.#now = options.now ?? Date.now;
    this.#limiter = new Bottleneck({ id: options.name, maxConcurrent: options.maxConcurrent });
  }

  schedule<T>(fn: () => Promise<T>, options: ScheduleOptions = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    const weight = Math.min(Math.max(options.weight ?? 1, 0), this.#burst);
    return this.#limiter.schedule(async () => {
      await this.#serialised(() => this.#acquire(weight, signal));
      return fn();
    });
  }

  // One waiter at a time asks Redis: keeps this process's calls in order and Redis load at one
  // script per grant (plus one per wait), however many calls queue up.
  #serialised(task: () => Promise<void>): Promise<void> {
    const run = this.#acquiring.then(task);
    this.#acquiring = run.catch(() => undefined);
    return run;
  }

  async #acquire(weight: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const [granted, waitMs] = await this.#take(weight);
      if (granted) return;
      await sleep(Math.max(waitMs, 1), signal);
    }
  }

  async #take(weight: number): Promise<[boolean, number, number]> {
    const reply = (await this.#run(() =>
      runLuaScript(this.#redis, TAKE_TOKENS, [this.#key], takeTokensArgs(this.#now(), weight, this.#limit())),
    )) as [number, number, string];
    const [granted, wait, tokens] = reply;
    return [granted === 1, Number(wait), Number(tokens)];
  }

  async correct(correction: UsageCorrection): Promise<void> {
    if (correction.ratePerSecond !== undefined) this.#rate = correction.ratePerSecond;
    if (correction.burst !== undefined) this.#burst = correction.burst;
    if (correction.remaining !== undefined) await this.#adjust(correction.remaining, 0);
  }

  async penalise(ms: number): Promise<void> {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
    await this.#adjust(-1, Math.max(1, Math.ceil(ms)));
  }

  async snapshot(): Promise<BucketSnapshot> {
    const counts = this.#limiter.counts();
    return {
      bucket: this.#name,
      backend: 'redis',
      ratePerSecond: this.#rate,
      burst: this.#burst,
      tokens: await this.#adjust(-1, 0),
      queued: counts.RECEIVED + counts.QUEUED,
      running: counts.RUNNING + counts.EXECUTING,
      pausedUntil: this.#pausedUntil > this.#now() ? this.#pausedUntil : null,
    };
  }

  async stop(): Promise<void> {
    await this.#limiter.stop({ dropWaitingJobs: true });
  }

  #limit(): RateLimit {
    return { ratePerSecond: this.#rate, burst: this.#burst };
  }

  async #adjust(cap: number, pauseMs: number): Promise<number> {
    const limit = this.#limit();
    const tokens = await this.#run(() =>
      runLuaScript(
        this.#redis,
        ADJUST_BUCKET,
        [this.#key],
        [this.#now(), limit.ratePerSecond, limit.burst, cap, pauseMs],
      ),
    );
    return Number(tokens);
  }

  // Redis errors carry the command and its arguments; only the bucket name leaves this class.
  async #run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new TradectlError(
        PLATFORM_ERROR_CODES.limiterUnavailable,
        `rate limiter ${this.#name}: Redis failed: ${(error as Error).message}`,
        { kind: 'transient', details: { bucket: this.#name } },
      );
    }
  }
}

/** ARGV of take-tokens-1.lua, in its order. */
export function takeTokensArgs(now: number, weight: number, limit: RateLimit): (string | number)[] {
  return [Math.floor(now), weight, limit.ratePerSecond, limit.burst];
}
