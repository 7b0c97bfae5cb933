import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import {
  type DeductAvailableInput,
  type DeductAvailableResult,
  deductAvailable,
  deductAvailableMany,
} from './deduct-available.js';
import { tenantRegistryKey } from './keys.js';
import { STOCK_REPLY, stockErrorFor } from './reply-codes.js';
import { deductArgs, deductOnceArgs, restoreArgs } from './script-args.js';
import { adjustStock, loadStock, readStock, setStock } from './stock-corrections.js';
import {
  expireReservations,
  reserveStock,
  STALE_ROUNDS,
  settleReservation,
  withSweep,
} from './stock-reservations.js';
import { redisFailure, StockRuntime, withLevels } from './stock-runtime.js';
import type {
  AdjustInput,
  DeductInput,
  DeductOncePerUserInput,
  LoadInput,
  LoadResult,
  OperationResult,
  ReserveInput,
  ReserveResult,
  RestoreInput,
  RestoreResult,
  SetInput,
  SetResult,
  SettleInput,
  SettleResult,
  StockLevel,
  SweepResult,
} from './stock-types.js';
import { IssueList, requireRequest } from './stock-validation.js';

export interface StockServiceOptions {
  /** A client without the ioredis `keyPrefix` option (keys carry `keyPrefix` below). */
  redis: Redis;
  /** `config.redis.keyPrefix`. */
  keyPrefix: string;
  /** Tenant of calls that name none. Default `default`. */
  tenant?: string;
  /** How long an operation's first answer is kept for repeats (the idempotency window). Default 7 days. */
  operationTtlMs?: number;
  /** Wall clock, Unix ms; it is what the scripts see as `now`. Default `Date.now`. */
  clock?: () => number;
  logger?: Logger;
}

export const DEFAULT_OPERATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The trading side's stock API over Redis. Each call is one atomic Lua script, idempotent by its
 * operation id, that also appends what it changed to the tenant's stream (drained into MySQL by
 * the ledger drain). Inputs are validated first (ValidationError naming the field; nothing
 * reaches Redis). Failures are typed errors (stock-errors.ts); a Redis outage is
 * TRADECTL_STOCK_UNAVAILABLE and safe to retry with the same operation id.
 */
export class StockService {
  readonly tenant: string;
  readonly keyPrefix: string;
  readonly #rt: StockRuntime;

  constructor(options: StockServiceOptions) {
    const issues = new IssueList();
    this.tenant = issues.tenant(options.tenant ?? 'default');
    issues.throwIfAny('invalid stock service options');
    this.keyPrefix = options.keyPrefix;
    this.#rt = new StockRuntime({
      redis: options.redis,
      keyPrefix: options.keyPrefix,
      ttl: options.operationTtlMs ?? DEFAULT_OPERATION_TTL_MS,
      clock: options.clock ?? Date.now,
      logger: options.logger,
    });
  }

  /** Deducts every line or none. Throws InsufficientStockError, UnknownSkuError, OperationConflictError. */
  async deduct(input: DeductInput): Promise<OperationResult> {
    requireRequest(input, 'invalid deduct request');
    const rt = this.#rt;
    const issues = new IssueList();
    const tenant = input.tenant === undefined ? this.tenant : issues.tenant(input.tenant);
    const operationId = issues.id(input.operationId, 'operationId');
    const lines = issues.lines(input.lines);
    issues.throwIfAny('invalid deduct request');
    const keys = rt.registered(tenant) ?? (await rt.register(tenant));
    const reply = await withSweep(rt, tenant, (sweepCheck) =>
      rt.run(
        'deduct',
        deductArgs(keys, { operationId, lines, now: rt.clock(), recordTtlMs: rt.ttl, sweepCheck }),
      ),
    );
    if (reply.code !== STOCK_REPLY.OK) {
      throw stockErrorFor(reply, { script: 'deduct', tenant, operationId, kind: 'deduct', lines });
    }
    return { tenant, operationId, replayed: reply.replayed, lines: withLevels(lines, reply.detail, 0) };
  }

  /**
   * For a sale that already happened (a marketplace order): takes `quantity`, or what is left when
   * that is less (down to zero), and reports the shortfall instead of refusing. One SKU; restore
   * gives back exactly what it took. Throws UnknownSkuError, OperationConflictError.
   */
  deductAvailable(input: DeductAvailableInput): Promise<DeductAvailableResult> {
    return deductAvailable(this.#rt, this.tenant, input);
  }

  /**
   * `deductAvailable` for many sales in few round trips (pipelined per tenant). Never throws:
   * each input's result or error, in input order.
   */
  deductAvailableMany(
    inputs: readonly DeductAvailableInput[],
  ): Promise<PromiseSettledResult<DeductAvailableResult>[]> {
    return deductAvailableMany(this.#rt, this.tenant, inputs);
  }

  /** The flash-sale rule: one purchase per user per SKU. Also throws AlreadyPurchasedError. */
  async deductOncePerUser(input: DeductOncePerUserInput): Promise<OperationResult> {
    requireRequest(input, 'invalid deduct request');
    const rt = this.#rt;
    const issues = new IssueList();
    const tenant = input.tenant === undefined ? this.tenant : issues.tenant(input.tenant);
    const operationId = issues.id(input.operationId, 'operationId');
    const userId = issues.id(input.userId, 'userId');
    const sku = issues.sku(input.sku, 'sku');
    const quantity = issues.quantity(input.quantity ?? 1, 'quantity');
    issues.throwIfAny('invalid deduct request');
    const keys = rt.registered(tenant) ?? (await rt.register(tenant));
    const reply = await withSweep(rt, tenant, (sweepCheck) =>
      rt.run(
        'deductOnce',
        deductOnceArgs(keys, {
          operationId,
          userId,
          sku,
          quantity,
          now: rt.clock(),
          recordTtlMs: rt.ttl,
          sweepCheck,
        }),
      ),
    );
    const lines = [{ sku, quantity }];
    if (reply.code !== STOCK_REPLY.OK) {
      throw stockErrorFor(reply, { script: 'deductOnce', tenant, operationId, kind: 'once', lines, userId });
    }
    return { tenant, operationId, replayed: reply.replayed, lines: withLevels(lines, reply.detail, 0) };
  }

  /** Holds stock for `ttlMs`; then confirm, release, or the sweep returns it. */
  reserve(input: ReserveInput): Promise<ReserveResult> {
    return reserveStock(this.#rt, this.tenant, input);
  }

  /** Turns a held reservation into a sale. Throws ReservationError when expired, released or unknown. */
  confirm(input: SettleInput): Promise<SettleResult> {
    return settleReservation(this.#rt, this.tenant, input, 'confirm');
  }

  /** Gives a held reservation back (released again, or after it expired: the same answer). */
  release(input: SettleInput): Promise<SettleResult> {
    return settleReservation(this.#rt, this.tenant, input, 'release');
  }

  /** Returns the stock of reservations past their time, each exactly once (the worker calls it). */
  expireReservations(input: { tenant?: string; limit?: number } = {}): Promise<SweepResult> {
    return expireReservations(this.#rt, input);
  }

  /** Compensation: gives back what a sale took, once. Throws RestoreError when there is nothing to give. */
  async restore(input: RestoreInput): Promise<RestoreResult> {
    requireRequest(input, 'invalid restore request');
    const rt = this.#rt;
    const issues = new IssueList();
    const tenant = input.tenant === undefined ? this.tenant : issues.tenant(input.tenant);
    const operationId = issues.id(input.operationId, 'operationId');
    const restores = issues.id(input.restores, 'restores');
    if (operationId === restores) issues.add('restores', 'a restore needs its own operation id');
    issues.throwIfAny('invalid restore request');
    const keys = rt.registered(tenant) ?? (await rt.register(tenant));
    for (let round = 1; ; round++) {
      const lines = await rt.recordLines(keys, restores);
      const skus = lines.map((line) => line.sku);
      const reply = await rt.run(
        'restore',
        restoreArgs(keys, { operationId, restores, skus, now: rt.clock(), recordTtlMs: rt.ttl }),
      );
      if (reply.code === STOCK_REPLY.STALE_KEYS && round < STALE_ROUNDS) continue;
      if (reply.code !== STOCK_REPLY.OK) {
        throw stockErrorFor(reply, { script: 'restore', tenant, operationId, kind: 'restore', restores });
      }
      return {
        tenant,
        operationId,
        restores,
        replayed: reply.replayed,
        lines: withLevels(lines, reply.detail, 0),
      };
    }
  }

  /** Sets available if the SKU is still at `expectedVersion` (0 creates it); else VersionConflictError. */
  set(input: SetInput): Promise<SetResult> {
    return setStock(this.#rt, this.tenant, input);
  }

  /** Adds `delta` to available if the SKU is still at `expectedVersion`; never below zero. */
  adjust(input: AdjustInput): Promise<SetResult> {
    return adjustStock(this.#rt, this.tenant, input);
  }

  /** Warm-up: fills a SKU Redis does not have from MySQL's state; leaves an existing one alone. */
  load(input: LoadInput): Promise<LoadResult> {
    return loadStock(this.#rt, this.tenant, input);
  }

  /** A SKU's stock, or null when Redis does not have it. */
  async get(input: { sku: string; tenant?: string }): Promise<StockLevel | null> {
    const [level] = await this.getMany({
      skus: [input.sku],
      ...(input.tenant === undefined ? {} : { tenant: input.tenant }),
    });
    return level ?? null;
  }

  /** Several SKUs of one tenant, in the order asked (null for each one Redis does not have). */
  getMany(input: { skus: readonly string[]; tenant?: string }): Promise<(StockLevel | null)[]> {
    return readStock(this.#rt, this.tenant, input);
  }

  /** Tenants that have written stock changes (the streams the ledger drain reads). */
  async tenants(): Promise<string[]> {
    try {
      return (await this.#rt.redis.smembers(tenantRegistryKey(this.keyPrefix))).sort();
    } catch (error) {
      throw redisFailure('list stock tenants', error);
    }
  }
}
