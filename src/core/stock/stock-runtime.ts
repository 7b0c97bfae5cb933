import type { Redis } from 'ioredis';
import { TradectlError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type TenantKeys, tenantKeys, tenantRegistryKey } from './keys.js';
import { detailNumbers, parseReply, type ScriptReply } from './reply-codes.js';
import { decodeLines, type ScriptCall, type StockLine } from './script-args.js';
import { type StockScriptName, StockScripts } from './scripts.js';
import { stockUnavailable } from './stock-errors.js';
import type { LineResult } from './stock-types.js';

/**
 * The plumbing every stock operation shares: the scripts bound to one client, the tenant keys
 * (registered for the drain before a tenant's first change), the clock, and the translation of
 * Redis failures. Internal to src/core/stock; the public API is StockService.
 */
export class StockRuntime {
  readonly keyPrefix: string;
  readonly redis: Redis;
  readonly scripts: StockScripts;
  /** Idempotency window, ms. */
  readonly ttl: number;
  readonly clock: () => number;
  readonly logger: Logger | undefined;
  readonly #keys = new Map<string, TenantKeys>();
  readonly #registering = new Map<string, Promise<TenantKeys>>();

  constructor(options: {
    redis: Redis;
    keyPrefix: string;
    ttl: number;
    clock: () => number;
    logger: Logger | undefined;
  }) {
    this.keyPrefix = options.keyPrefix;
    this.redis = options.redis;
    this.scripts = new StockScripts(options.redis);
    this.ttl = options.ttl;
    this.clock = options.clock;
    this.logger = options.logger;
  }

  /** The keys of a tenant already registered, else undefined (then call `register`). */
  registered(tenant: string): TenantKeys | undefined {
    return this.#keys.get(tenant);
  }

  // The drain discovers streams through the registry, so a tenant is registered before its first
  // change; a registration left by a crash right after it only names an empty stream.
  register(tenant: string): Promise<TenantKeys> {
    let pending = this.#registering.get(tenant);
    if (!pending) {
      pending = this.redis
        .sadd(tenantRegistryKey(this.keyPrefix), tenant)
        .then(() => {
          const keys = tenantKeys(this.keyPrefix, tenant);
          this.#keys.set(tenant, keys);
          return keys;
        })
        .catch((error: unknown) => {
          throw redisFailure('register the stock tenant', error);
        })
        .finally(() => this.#registering.delete(tenant));
      this.#registering.set(tenant, pending);
    }
    return pending;
  }

  async run(name: StockScriptName, call: ScriptCall): Promise<ScriptReply> {
    let raw: unknown;
    try {
      raw = await this.scripts.run(name, call);
    } catch (error) {
      throw redisFailure(name, error);
    }
    return parseReply(name, raw);
  }

  /**
   * Many runs of one script in one round trip (StockScripts.runMany): each call's reply, or its
   * error translated as `run` would throw it, in order. Never throws.
   */
  async runMany(
    name: StockScriptName,
    calls: readonly ScriptCall[],
  ): Promise<(ScriptReply | TradectlError)[]> {
    let raw: [Error | null, unknown][];
    try {
      raw = await this.scripts.runMany(name, calls);
    } catch (error) {
      const failure = redisFailure(name, error);
      return calls.map(() => failure);
    }
    return raw.map(([error, reply]) => {
      if (error) return redisFailure(name, error);
      try {
        return parseReply(name, reply);
      } catch (unexpected) {
        return redisFailure(name, unexpected);
      }
    });
  }

  /** What a stored operation took (its `l` field); empty when there is no such record. */
  async recordLines(keys: TenantKeys, operationId: string): Promise<StockLine[]> {
    try {
      const text = await this.redis.hget(keys.operation(operationId), 'l');
      return text === null ? [] : decodeLines(text);
    } catch (error) {
      throw redisFailure('read an operation record', error);
    }
  }
}

/** Lines with the available/version pairs of a reply detail, starting at field `from`. */
export function withLevels(lines: readonly StockLine[], detail: string, from: number): LineResult[] {
  const numbers = detailNumbers(detail, from);
  return lines.map((line, index) => ({
    sku: line.sku,
    quantity: line.quantity,
    available: numbers[2 * index] ?? Number.NaN,
    version: numbers[2 * index + 1] ?? Number.NaN,
  }));
}

// Redis's own transient answers (loading after a restart, a busy script, a cluster in motion):
// retriable like a lost connection. Any other error reply is a bug in a script or its caller.
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|MOVED|ASK|READONLY|OOM)\b/;

export function redisFailure(operation: string, error: unknown): TradectlError {
  if (error instanceof TradectlError) return error;
  const name = (error as Error | null)?.name;
  const message = (error as Error | null)?.message ?? '';
  if (name === 'ReplyError' && !TRANSIENT_REPLY.test(message)) {
    return new TradectlError('TRADECTL_STOCK_SCRIPT_REPLY', `${operation}: ${message}`, {
      kind: 'internal',
      cause: error,
    });
  }
  return stockUnavailable(operation, error);
}
