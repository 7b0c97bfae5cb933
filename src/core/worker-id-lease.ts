import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { TradectlError } from './errors.js';
import type { Logger } from './logger.js';
import { type LuaScript, loadLuaScript, runLuaScript } from './lua-script.js';
import { MAX_WORKER_ID } from './snowflake.js';

/**
 * A Snowflake worker id leased in Redis, so no two running processes share one.
 *
 * - Acquire: the lowest free id 0..1023 is taken with `SET NX PX ttl`; the value is an owner
 *   token (`hostname:pid:random`), so only this owner can renew or release it.
 * - Renew: every `renewIntervalMs` (an unref'ed timer), compare-and-pexpire. Finding the key gone
 *   or someone else's (after a long pause, say) marks the lease lost: it emits `lost` and the
 *   generator bound to it refuses every further id.
 * - Validity: each successful acquire/renew sent at wall time `t` guarantees the key lives until
 *   at least `t + ttl`; ids may carry timestamps up to `t + ttl - safetyMargin` (`validUntilMs`).
 *   A process frozen past that stops issuing on its own, before it even learns the lease is lost.
 * - Watermark: per worker id, the latest timestamp any owner may have issued (its `validUntilMs`
 *   while running; the exact last timestamp on release). The next owner starts strictly after
 *   it, so a new owner whose clock runs behind the previous one's cannot reissue its ids.
 *
 * Keys (both carry the hash tag `{id}` so one script can touch them in Redis Cluster):
 *   `${prefix}snowflake:worker:{id}`            string, owner token, PX = lease ttl
 *   `${prefix}snowflake:worker:{id}:watermark`  string, Unix ms, PX = watermark ttl
 */

export const DEFAULT_LEASE_TTL_MS = 30_000;
/** How long a watermark outlives its last write (a day: far beyond any clock skew we tolerate). */
export const DEFAULT_WATERMARK_TTL_MS = 24 * 60 * 60 * 1000;
const PROBE_BATCH = 128;

export function workerLeaseKey(keyPrefix: string, workerId: number): string {
  return `${keyPrefix}snowflake:worker:{${workerId}}`;
}

export function workerWatermarkKey(keyPrefix: string, workerId: number): string {
  return `${keyPrefix}snowflake:worker:{${workerId}}:watermark`;
}

export interface WorkerIdLeaseOptions {
  redis: Redis;
  /** `config.redis.keyPrefix`. */
  keyPrefix: string;
  logger: Logger;
  /** Lease time to live. Default 30 s. */
  ttlMs?: number;
  /** Time between renewals. Default a third of the ttl, so two renewals may fail in a row. */
  renewIntervalMs?: number;
  /**
   * How long before the key can expire the generator stops issuing: covers clock-rate
   * differences between hosts and the time a renewal takes. Default a tenth of the ttl.
   */
  safetyMarginMs?: number;
  /** Default 24 h. */
  watermarkTtlMs?: number;
  /** Wall clock in Unix ms. Default `Date.now`. */
  clock?: () => number;
  /** Owner token. Default `hostname:pid:random`. */
  owner?: string;
}

export interface WorkerIdLeaseEvents {
  /** A renewal succeeded: ids may be issued up to this wall time. */
  renewed: [validUntilMs: number];
  /** The lease belongs to someone else now (or expired): stop issuing ids for good. */
  lost: [error: TradectlError];
}

export class WorkerIdLease extends EventEmitter<WorkerIdLeaseEvents> {
  readonly workerId: number;
  readonly owner: string;
  /** The previous owners' watermark: ids of this owner must carry later timestamps. */
  readonly startAfterMs: number | undefined;
  readonly ttlMs: number;
  readonly renewIntervalMs: number;
  readonly safetyMarginMs: number;
  readonly #redis: Redis;
  readonly #keys: [lease: string, watermark: string];
  readonly #scripts: { renew: LuaScript; release: LuaScript };
  readonly #watermarkTtlMs: number;
  readonly #clock: () => number;
  readonly #logger: Logger;
  #validUntilMs: number;
  #state: 'held' | 'lost' | 'released' = 'held';
  #timer: NodeJS.Timeout | undefined;

  /** Use `acquireWorkerIdLease`. */
  constructor(init: {
    options: Required<Omit<WorkerIdLeaseOptions, 'redis' | 'logger' | 'keyPrefix'>>;
    redis: Redis;
    logger: Logger;
    keyPrefix: string;
    workerId: number;
    startAfterMs: number | undefined;
    validUntilMs: number;
    scripts: { renew: LuaScript; release: LuaScript };
  }) {
    super();
    this.workerId = init.workerId;
    this.owner = init.options.owner;
    this.startAfterMs = init.startAfterMs;
    this.ttlMs = init.options.ttlMs;
    this.renewIntervalMs = init.options.renewIntervalMs;
    this.safetyMarginMs = init.options.safetyMarginMs;
    this.#redis = init.redis;
    this.#keys = [
      workerLeaseKey(init.keyPrefix, init.workerId),
      workerWatermarkKey(init.keyPrefix, init.workerId),
    ];
    this.#scripts = init.scripts;
    this.#watermarkTtlMs = init.options.watermarkTtlMs;
    this.#clock = init.options.clock;
    this.#logger = init.logger.child({ workerId: init.workerId });
    this.#validUntilMs = init.validUntilMs;
    this.#schedule();
  }

  /** Ids may carry timestamps up to this wall time (Unix ms). */
  get validUntilMs(): number {
    return this.#validUntilMs;
  }

  get lost(): boolean {
    return this.#state === 'lost';
  }

  get released(): boolean {
    return this.#state === 'released';
  }

  /**
   * Renews now (the timer calls this too). Resolves true when renewed, false when the lease is
   * lost (a `lost` event was emitted) or already released. Rejects on Redis errors: the lease
   * is then still valid until `validUntilMs` and the next renewal tries again.
   */
  async renew(): Promise<boolean> {
    if (this.#state !== 'held') return false;
    const validUntil = this.#clock() + this.ttlMs - this.safetyMarginMs;
    const renewed = await this.#run(this.#scripts.renew, [
      this.owner,
      this.ttlMs,
      validUntil,
      this.#watermarkTtlMs,
    ]);
    if (this.#state !== 'held') return false;
    if (renewed === 1) {
      this.#validUntilMs = Math.max(this.#validUntilMs, validUntil);
      this.emit('renewed', this.#validUntilMs);
      return true;
    }
    this.#state = 'lost';
    this.#stopTimer();
    const error = new TradectlError(
      'TRADECTL_WORKER_LEASE_LOST',
      `worker id ${this.workerId} is no longer leased by this process; no more ids from it`,
      {
        kind: 'transient',
        retriable: false,
        details: { workerId: this.workerId },
        hint: 'the lease expired (a pause longer than the lease ttl?); restart to lease a new worker id',
      },
    );
    this.#logger.error({ err: error }, 'worker id lease lost');
    this.emit('lost', error);
    return false;
  }

  /**
   * Gives the worker id back, leaving `lastIssuedMs` (the generator's last timestamp) as the
   * watermark. Call only once nothing issues ids under this lease any more. Resolves false when
   * the lease was already lost or released.
   */
  async release(lastIssuedMs: number): Promise<boolean> {
    if (this.#state !== 'held') return false;
    this.#state = 'released';
    this.#stopTimer();
    const last = Math.max(lastIssuedMs, this.startAfterMs ?? -1);
    const released = await this.#run(this.#scripts.release, [
      this.owner,
      Number.isFinite(last) ? Math.floor(last) : -1,
      this.#watermarkTtlMs,
    ]);
    return released === 1;
  }

  #schedule(): void {
    if (this.#state !== 'held') return;
    // A chain of timeouts rather than an interval: a slow renewal never overlaps the next one.
    this.#timer = setTimeout(() => {
      this.renew()
        .catch((error: unknown) => {
          this.#logger.warn(
            { err: error, validUntil: new Date(this.#validUntilMs).toISOString() },
            'worker id lease renewal failed; retrying',
          );
        })
        .finally(() => this.#schedule());
    }, this.renewIntervalMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #run(script: LuaScript, args: (string | number)[]): Promise<unknown> {
    return runLuaScript(this.#redis, script, this.#keys, args);
  }
}

/**
 * Leases the lowest free worker id. Throws TRADECTL_WORKER_IDS_EXHAUSTED (retriable) when all
 * 1,024 are held, and TRADECTL_WORKER_LEASE_FAILED (retriable) when Redis cannot be reached.
 */
export async function acquireWorkerIdLease(options: WorkerIdLeaseOptions): Promise<WorkerIdLease> {
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const resolved = {
    ttlMs,
    renewIntervalMs: options.renewIntervalMs ?? Math.floor(ttlMs / 3),
    safetyMarginMs: options.safetyMarginMs ?? Math.floor(ttlMs / 10),
    watermarkTtlMs: options.watermarkTtlMs ?? DEFAULT_WATERMARK_TTL_MS,
    clock: options.clock ?? Date.now,
    owner: options.owner ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`,
  };
  if (!(resolved.renewIntervalMs > 0 && resolved.renewIntervalMs + resolved.safetyMarginMs < ttlMs)) {
    throw new RangeError('the lease needs renewIntervalMs > 0 and renewIntervalMs + safetyMarginMs < ttlMs');
  }
  const dir = new URL('./lua/', import.meta.url);
  const scripts = {
    acquire: loadLuaScript(dir, 'acquire-worker-lease-2.lua'),
    renew: loadLuaScript(dir, 'renew-worker-lease-2.lua'),
    release: loadLuaScript(dir, 'release-worker-lease-2.lua'),
  };
  const { redis, keyPrefix } = options;
  try {
    for (let first = 0; first <= MAX_WORKER_ID; first += PROBE_BATCH) {
      // Cheap existence probe of a batch in one round trip; SET NX in the script is what decides.
      const ids = Array.from(
        { length: Math.min(PROBE_BATCH, MAX_WORKER_ID + 1 - first) },
        (_, i) => first + i,
      );
      const probe = redis.pipeline();
      for (const id of ids) probe.exists(workerLeaseKey(keyPrefix, id));
      const replies = (await probe.exec()) ?? [];
      for (const [index, id] of ids.entries()) {
        const [error, exists] = replies[index] ?? [null, 1];
        if (error) throw error;
        if (exists !== 0) continue;
        const validUntilMs = resolved.clock() + ttlMs - resolved.safetyMarginMs;
        const reply = (await runLuaScript(
          redis,
          scripts.acquire,
          [workerLeaseKey(keyPrefix, id), workerWatermarkKey(keyPrefix, id)],
          [resolved.owner, ttlMs, validUntilMs, resolved.watermarkTtlMs],
        )) as [number, number];
        if (reply[0] !== 1) continue;
        options.logger.debug({ workerId: id, owner: resolved.owner }, 'worker id leased');
        return new WorkerIdLease({
          options: resolved,
          redis,
          logger: options.logger,
          keyPrefix,
          workerId: id,
          startAfterMs: reply[1] >= 0 ? reply[1] : undefined,
          validUntilMs,
          scripts,
        });
      }
    }
  } catch (error) {
    throw new TradectlError('TRADECTL_WORKER_LEASE_FAILED', 'could not lease a worker id in Redis', {
      kind: 'transient',
      cause: error,
      hint: 'check redis.url, or set ids.workerId (TRADECTL_WORKER_ID) to use a fixed worker id',
    });
  }
  throw new TradectlError(
    'TRADECTL_WORKER_IDS_EXHAUSTED',
    `all ${MAX_WORKER_ID + 1} worker ids are leased under "${keyPrefix}"`,
    {
      kind: 'transient',
      hint: 'too many running processes share this Redis key prefix, or leases of dead ones have not expired yet',
    },
  );
}
