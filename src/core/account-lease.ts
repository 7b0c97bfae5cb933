import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { TradectlError } from './errors.js';
import type { Logger } from './logger.js';
import { loadLuaScript, runLuaScript } from './lua-script.js';

/**
 * Only one process syncs an account at a time: the sync lease of a (platform, account) in Redis.
 *
 * - Acquire (`acquire-account-lease-2.lua`): `SET NX PX ttl` of "<token>:<owner>", where the
 *   token is a fresh INCR of the account's fence counter. Tokens only grow, so a holder's token
 *   is larger than any earlier holder's.
 * - Renew: compare-and-pexpire every `renewIntervalMs` (an unref'ed timer). Finding the lease
 *   gone or someone else's, or failing to renew before the ttl ran out (Redis unreachable),
 *   marks the lease lost: `signal` aborts with TRADECTL_SYNC_LEASE_LOST and the run stops.
 * - Release: compare-and-delete; the fence counter stays.
 * - Fencing: the checkpoint write carries the token (CheckpointStore.advance) and the store
 *   refuses a token older than the one it saw last (TRADECTL_FENCED). A process frozen past its
 *   lease (GC, a stopped VM) that wakes up and writes anyway therefore moves nothing, whether
 *   or not it noticed that it lost the lease.
 *
 * Keys (the hash tag keeps both in one Redis Cluster slot for the acquire script):
 *   `${prefix}sync:lease:{platform:account}`   string "<token>:<owner>", PX = lease ttl
 *   `${prefix}sync:fence:{platform:account}`   string integer, no expiry
 */

export const DEFAULT_ACCOUNT_LEASE_TTL_MS = 30_000;

export function accountLeaseKey(keyPrefix: string, platform: string, account: string): string {
  return `${keyPrefix}sync:lease:{${platform}:${account}}`;
}

export function accountFenceKey(keyPrefix: string, platform: string, account: string): string {
  return `${keyPrefix}sync:fence:{${platform}:${account}}`;
}

const LUA_DIR = new URL('./lua/', import.meta.url);
const SCRIPTS = {
  acquire: loadLuaScript(LUA_DIR, 'acquire-account-lease-2.lua'),
  renew: loadLuaScript(LUA_DIR, 'renew-account-lease-1.lua'),
  release: loadLuaScript(LUA_DIR, 'release-if-owner-1.lua'),
};

export interface AccountLeasesOptions {
  /** A client without the ioredis `keyPrefix` option (keys carry `keyPrefix`). */
  redis: Redis;
  /** `config.redis.keyPrefix`. */
  keyPrefix: string;
  logger: Logger;
  /** Lease time to live. Default 30 s. */
  ttlMs?: number;
  /** Time between renewals. Default a third of the ttl, so two renewals may fail in a row. */
  renewIntervalMs?: number;
  /** Identifies this process in the lease (status shows it). Default `hostname:pid:random`. */
  owner?: string;
  /** Wall clock in Unix ms (validity of the lease). Default `Date.now`. */
  clock?: () => number;
}

/** Who holds an account's lease, as stored in Redis. */
export interface LeaseHolder {
  fencingToken: number;
  owner: string;
  /** Remaining ttl when read, ms. */
  expiresInMs: number;
}

export type AcquireResult =
  | { acquired: true; lease: AccountLease }
  | { acquired: false; holder: LeaseHolder | null };

export interface AccountLeases {
  /** Takes the lease when free; otherwise says who holds it. Redis failures: TRADECTL_SYNC_LEASE_FAILED. */
  acquire(platform: string, account: string): Promise<AcquireResult>;
  /** The current holder, for `tradectl status`; null when free. */
  holder(platform: string, account: string): Promise<LeaseHolder | null>;
}

export function createAccountLeases(options: AccountLeasesOptions): AccountLeases {
  const ttlMs = options.ttlMs ?? DEFAULT_ACCOUNT_LEASE_TTL_MS;
  const renewIntervalMs = options.renewIntervalMs ?? Math.floor(ttlMs / 3);
  if (!(renewIntervalMs > 0 && renewIntervalMs < ttlMs)) {
    throw new RangeError('the account lease needs 0 < renewIntervalMs < ttlMs');
  }
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const clock = options.clock ?? Date.now;
  const { redis, keyPrefix } = options;

  return {
    async acquire(platform, account) {
      const startedAt = clock();
      let reply: [number, number | string, string | number];
      try {
        reply = (await runLuaScript(
          redis,
          SCRIPTS.acquire,
          [accountLeaseKey(keyPrefix, platform, account), accountFenceKey(keyPrefix, platform, account)],
          [owner, ttlMs],
        )) as typeof reply;
      } catch (error) {
        throw leaseFailed(platform, account, error);
      }
      if (reply[0] !== 1) return { acquired: false, holder: parseHolder(String(reply[1]), Number(reply[2])) };
      const lease = new AccountLease({
        redis,
        key: accountLeaseKey(keyPrefix, platform, account),
        platform,
        account,
        fencingToken: Number(reply[1]),
        value: String(reply[2]),
        ttlMs,
        renewIntervalMs,
        // Counted from before the request: the key lives at least this long.
        validUntilMs: startedAt + ttlMs,
        clock,
        logger: options.logger.child({ platform, account }),
      });
      return { acquired: true, lease };
    },

    async holder(platform, account) {
      const key = accountLeaseKey(keyPrefix, platform, account);
      try {
        const [[, value], [, pttl]] = (await redis.multi().get(key).pttl(key).exec()) as [
          [unknown, string | null],
          [unknown, number],
        ];
        return value === null ? null : parseHolder(value, pttl);
      } catch (error) {
        throw leaseFailed(platform, account, error);
      }
    },
  };
}

interface AccountLeaseInit {
  redis: Redis;
  key: string;
  platform: string;
  account: string;
  fencingToken: number;
  value: string;
  ttlMs: number;
  renewIntervalMs: number;
  validUntilMs: number;
  clock: () => number;
  logger: Logger;
}

/** A held sync lease. Use `AccountLeases.acquire`. */
export class AccountLease {
  readonly platform: string;
  readonly account: string;
  /** Carried by every checkpoint write of this holder. */
  readonly fencingToken: number;
  readonly #init: AccountLeaseInit;
  readonly #controller = new AbortController();
  #validUntilMs: number;
  #state: 'held' | 'lost' | 'released' = 'held';
  #timer: NodeJS.Timeout | undefined;

  constructor(init: AccountLeaseInit) {
    this.platform = init.platform;
    this.account = init.account;
    this.fencingToken = init.fencingToken;
    this.#init = init;
    this.#validUntilMs = init.validUntilMs;
    this.#schedule();
  }

  /** Aborts (with TRADECTL_SYNC_LEASE_LOST) when the lease is lost; pass it to long work. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get lost(): boolean {
    return this.#state === 'lost';
  }

  /** Throws TRADECTL_SYNC_LEASE_LOST once the lease is lost (or could have expired unnoticed). */
  assertHeld(): void {
    if (this.#state === 'held' && this.#init.clock() >= this.#validUntilMs) this.#lose('not renewed in time');
    if (this.#state === 'lost') throw this.#controller.signal.reason;
    if (this.#state === 'released') throw new Error('the account lease was released');
  }

  /** Renews now (the timer calls this too). False when the lease is lost or released. */
  async renew(): Promise<boolean> {
    if (this.#state !== 'held') return false;
    const startedAt = this.#init.clock();
    let renewed: unknown;
    try {
      renewed = await runLuaScript(
        this.#init.redis,
        SCRIPTS.renew,
        [this.#init.key],
        [this.#init.value, this.#init.ttlMs],
      );
    } catch (error) {
      // Still ours until validUntil; the next attempt may get through.
      if (this.#init.clock() >= this.#validUntilMs) this.#lose('not renewed in time', error);
      else this.#init.logger.warn({ err: error }, 'sync lease renewal failed; retrying');
      return this.#state === 'held';
    }
    if (this.#state !== 'held') return false;
    if (renewed === 1) {
      this.#validUntilMs = Math.max(this.#validUntilMs, startedAt + this.#init.ttlMs);
      return true;
    }
    this.#lose('taken over or expired');
    return false;
  }

  /** Gives the lease back (only if still ours). Idempotent; never throws. */
  async release(): Promise<boolean> {
    if (this.#state !== 'held') return false;
    this.#state = 'released';
    this.#stopTimer();
    try {
      return (
        (await runLuaScript(this.#init.redis, SCRIPTS.release, [this.#init.key], [this.#init.value])) === 1
      );
    } catch (error) {
      // It expires on its own after the ttl.
      this.#init.logger.warn({ err: error }, 'sync lease release failed; it expires by itself');
      return false;
    }
  }

  #lose(why: string, cause?: unknown): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#stopTimer();
    const error = new TradectlError(
      'TRADECTL_SYNC_LEASE_LOST',
      `lost the sync lease of ${this.platform}:${this.account} (${why}); this run stops`,
      {
        kind: 'transient',
        retriable: false,
        cause,
        details: { platform: this.platform, account: this.account, fencingToken: this.fencingToken },
        hint: 'another process may be syncing the account now; the next run takes the lease again',
      },
    );
    this.#init.logger.error({ err: error }, 'sync lease lost');
    this.#controller.abort(error);
  }

  #schedule(): void {
    if (this.#state !== 'held') return;
    // A chain of timeouts: a slow renewal never overlaps the next one.
    this.#timer = setTimeout(() => {
      this.renew()
        .catch((error: unknown) => this.#init.logger.warn({ err: error }, 'sync lease renewal failed'))
        .finally(() => this.#schedule());
    }, this.#init.renewIntervalMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function parseHolder(value: string, pttl: number): LeaseHolder {
  const separator = value.indexOf(':');
  return {
    fencingToken: Number(value.slice(0, separator)),
    owner: value.slice(separator + 1),
    expiresInMs: Math.max(0, pttl),
  };
}

function leaseFailed(platform: string, account: string, cause: unknown): TradectlError {
  return new TradectlError(
    'TRADECTL_SYNC_LEASE_FAILED',
    `could not reach Redis for the sync lease of ${platform}:${account}`,
    {
      kind: 'transient',
      cause,
      details: { platform, account },
      hint: 'check redis.url; the sync runs again later',
    },
  );
}
