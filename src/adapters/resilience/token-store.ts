import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TradectlError } from '../../core/errors.js';
import { Secret } from '../../core/secret.js';
import { PLATFORM_ERROR_CODES } from './platform-error.js';
import { refreshLockKey, tokenRecordKey } from './redis-keys.js';
import { RELEASE_LOCK, runLuaScript } from './redis-scripts.js';
import { sleep } from './sleep.js';

/**
 * The tokens of one platform account, as the store keeps them. Token values are Secrets: they
 * print as `[redacted]` wherever a record ends up.
 */
export interface TokenRecord {
  accessToken?: Secret;
  /** Unix ms the access token stops working (as the platform said, without our margin). */
  expiresAt?: number;
  /** The current refresh token, for platforms that rotate it on every refresh (Etsy). */
  refreshToken?: Secret;
  /**
   * Fingerprint of the configured refresh token this record descends from. When the operator
   * puts a new one in the config (re-authorisation), records of the old one are ignored.
   */
  seed?: string;
}

export interface TokenStoreAccount {
  platform: string;
  account: string;
}

/** Where access and rotated refresh tokens live: this process (memory) or every process (Redis). */
export interface TokenStore {
  read(account: TokenStoreAccount): Promise<TokenRecord | null>;
  /** Replaces the record in one atomic write: a rotated refresh token is never half stored. */
  write(account: TokenStoreAccount, record: TokenRecord): Promise<void>;
  /**
   * Runs `fn` while holding the account's refresh lock: across processes for Redis, a plain call
   * in memory (in-process refreshes are already single-flight).
   */
  withRefreshLock<T>(account: TokenStoreAccount, fn: () => Promise<T>): Promise<T>;
}

/** Tokens held by this process only. */
export class MemoryTokenStore implements TokenStore {
  readonly #records = new Map<string, TokenRecord>();

  async read(account: TokenStoreAccount): Promise<TokenRecord | null> {
    const record = this.#records.get(`${account.platform}:${account.account}`);
    return record ? { ...record } : null;
  }

  async write(account: TokenStoreAccount, record: TokenRecord): Promise<void> {
    this.#records.set(`${account.platform}:${account.account}`, { ...record });
  }

  withRefreshLock<T>(_account: TokenStoreAccount, fn: () => Promise<T>): Promise<T> {
    return fn();
  }
}

export interface RedisTokenStoreOptions {
  redis: Redis;
  /** `config.redis.keyPrefix`. Default `tradectl:`. */
  keyPrefix?: string;
  /** How long a refresh may hold the lock before another process may take over, ms. Default 30,000. */
  lockTtlMs?: number;
  /** How long to wait for another process's refresh before giving up, ms. Default 2 × lockTtlMs. */
  lockWaitMs?: number;
  /** Pause between attempts to take a held lock, ms. Default 50. */
  lockPollMs?: number;
  now?: () => number;
}

/**
 * Tokens shared by every process through one Redis hash per account (see redis-keys.ts). Values
 * are read into Secrets and Redis errors are rethrown without their command arguments, which
 * would carry the tokens into logs.
 */
export class RedisTokenStore implements TokenStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  readonly #lockPollMs: number;
  readonly #now: () => number;

  constructor(options: RedisTokenStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix ?? 'tradectl:';
    this.#lockTtlMs = options.lockTtlMs ?? 30_000;
    this.#lockWaitMs = options.lockWaitMs ?? 2 * this.#lockTtlMs;
    this.#lockPollMs = options.lockPollMs ?? 50;
    this.#now = options.now ?? Date.now;
  }

  async read(account: TokenStoreAccount): Promise<TokenRecord | null> {
    const key = tokenRecordKey(this.#prefix, account.platform, account.account);
    const fields = await this.#guard(account, 'read', () => this.#redis.hgetall(key));
    if (Object.keys(fields).length === 0) return null;
    const record: TokenRecord = {};
    if (fields.accessToken) record.accessToken = new Secret(fields.accessToken);
    if (fields.expiresAt) record.expiresAt = Number(fields.expiresAt);
    if (fields.refreshToken) record.refreshToken = new Secret(fields.refreshToken);
    if (fields.seed) record.seed = fields.seed;
    return record;
  }

  async write(account: TokenStoreAccount, record: TokenRecord): Promise<void> {
    const key = tokenRecordKey(this.#prefix, account.platform, account.account);
    const fields: Record<string, string> = {};
    if (record.accessToken) fields.accessToken = record.accessToken.reveal();
    if (record.expiresAt !== undefined) fields.expiresAt = String(record.expiresAt);
    if (record.refreshToken) fields.refreshToken = record.refreshToken.reveal();
    if (record.seed) fields.seed = record.seed;
    // MULTI: the old record goes and the new one lands in one step, never a mix of both.
    await this.#guard(account, 'write', async () => {
      const results = await this.#redis.multi().del(key).hset(key, fields).exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('transaction discarded');
    });
  }

  async withRefreshLock<T>(account: TokenStoreAccount, fn: () => Promise<T>): Promise<T> {
    const key = refreshLockKey(this.#prefix, account.platform, account.account);
    const owner = randomBytes(12).toString('hex');
    const deadline = this.#now() + this.#lockWaitMs;
    for (;;) {
      const taken = await this.#guard(account, 'lock', () =>
        this.#redis.set(key, owner, 'PX', this.#lockTtlMs, 'NX'),
      );
      if (taken === 'OK') break;
      if (this.#now() >= deadline) {
        throw new TradectlError(
          PLATFORM_ERROR_CODES.tokenStore,
          `${account.platform}/${account.account}: timed out waiting for another process's token refresh`,
          { kind: 'transient', details: { platform: account.platform, account: account.account } },
        );
      }
      await sleep(this.#lockPollMs);
    }
    try {
      return await fn();
    } finally {
      await this.#guard(account, 'unlock', () =>
        runLuaScript(this.#redis, RELEASE_LOCK, [key], [owner]),
      ).catch(
        // The lock expires on its own; a failed release only delays the next refresh.
        () => undefined,
      );
    }
  }

  async #guard<T>(account: TokenStoreAccount, action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      // The message of a Redis reply error names the failure, never the arguments; `cause` is
      // dropped on purpose because ioredis attaches the full command to it.
      throw new TradectlError(
        PLATFORM_ERROR_CODES.tokenStore,
        `${account.platform}/${account.account}: token store ${action} failed: ${(error as Error).message}`,
        { kind: 'transient', details: { platform: account.platform, account: account.account, action } },
      );
    }
  }
}
