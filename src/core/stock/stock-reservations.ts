import { fromEpochMs } from '../time.js';
import { type TenantKeys, tenantKeys, tenantRegistryKey } from './keys.js';
import { detailNumbers, type ScriptReply, STOCK_REPLY, stockErrorFor } from './reply-codes.js';
import { reserveArgs, type SettleAction, type StockLine, settleArgs } from './script-args.js';
import { redisFailure, type StockRuntime, withLevels } from './stock-runtime.js';
import type {
  ReserveInput,
  ReserveResult,
  SettledState,
  SettleInput,
  SettleResult,
  SweepResult,
} from './stock-types.js';
import { IssueList, requireRequest } from './stock-validation.js';

/**
 * Reservations: reserve holds stock for a while; confirm, release or the expiry sweep end the hold,
 * exactly once (settle-reservation-n.lua decides, atomically). StockService delegates here.
 */

// Rounds of "sweep expired reservations, then ask again" before a shortage is final.
const SWEEP_ROUNDS = 2;
// Rounds of "read a record's lines, then run" when the record changed in between.
const STALE_ROUNDS = 3;
const SWEEP_BATCH = 100;

export async function reserveStock(
  rt: StockRuntime,
  defaultTenant: string,
  input: ReserveInput,
): Promise<ReserveResult> {
  requireRequest(input, 'invalid reserve request');
  const issues = new IssueList();
  const tenant = input.tenant === undefined ? defaultTenant : issues.tenant(input.tenant);
  const reservationId = issues.id(input.reservationId, 'reservationId');
  const lines = issues.lines(input.lines);
  const holdMs = issues.holdMs(input.ttlMs, 'ttlMs');
  issues.throwIfAny('invalid reserve request');
  const keys = rt.registered(tenant) ?? (await rt.register(tenant));
  const reply = await withSweep(rt, tenant, (sweepCheck) =>
    rt.run(
      'reserve',
      reserveArgs(keys, { reservationId, lines, holdMs, now: rt.clock(), recordTtlMs: rt.ttl, sweepCheck }),
    ),
  );
  if (reply.code !== STOCK_REPLY.OK) {
    throw stockErrorFor(reply, {
      script: 'reserve',
      tenant,
      operationId: reservationId,
      kind: 'reserve',
      lines,
    });
  }
  const [expiry = 0] = detailNumbers(reply.detail);
  return {
    tenant,
    operationId: reservationId,
    replayed: reply.replayed,
    expiresAt: fromEpochMs(expiry),
    lines: withLevels(lines, reply.detail, 1),
  };
}

export async function settleReservation(
  rt: StockRuntime,
  defaultTenant: string,
  input: SettleInput,
  action: 'confirm' | 'release',
): Promise<SettleResult> {
  requireRequest(input, `invalid ${action} request`);
  const issues = new IssueList();
  const tenant = input.tenant === undefined ? defaultTenant : issues.tenant(input.tenant);
  const reservationId = issues.id(input.reservationId, 'reservationId');
  issues.throwIfAny(`invalid ${action} request`);
  const keys = rt.registered(tenant) ?? (await rt.register(tenant));
  const { reply, lines } = await settleRound(rt, keys, reservationId, action, rt.clock());
  if (reply.code !== STOCK_REPLY.OK) {
    throw stockErrorFor(reply, { script: 'settle', tenant, operationId: reservationId, kind: action });
  }
  const [state = ''] = reply.detail.split(',', 1);
  return {
    tenant,
    operationId: reservationId,
    replayed: reply.replayed,
    state: state as SettledState,
    lines: withLevels(lines, reply.detail, 1),
  };
}

/**
 * Gives back the stock of reservations whose time is up, each exactly once (concurrent sweeps and
 * a late confirm or release never double-return). Sweeps `tenant`, or every registered tenant; at
 * most `limit` reservations per tenant per call.
 */
export async function expireReservations(
  rt: StockRuntime,
  input: { tenant?: string; limit?: number },
): Promise<SweepResult> {
  const limit = input.limit ?? SWEEP_BATCH;
  let tenants: string[];
  try {
    tenants =
      input.tenant === undefined ? await rt.redis.smembers(tenantRegistryKey(rt.keyPrefix)) : [input.tenant];
  } catch (error) {
    throw redisFailure('list stock tenants', error);
  }
  const result: SweepResult = { expired: 0, skipped: 0 };
  for (const tenant of tenants) {
    const keys = tenantKeys(rt.keyPrefix, tenant);
    const now = rt.clock();
    let due: string[];
    try {
      due = await rt.redis.zrangebyscore(keys.reservations, '-inf', now, 'LIMIT', 0, limit);
    } catch (error) {
      throw redisFailure('find expired reservations', error);
    }
    const settled = await Promise.all(due.map((id) => settleRound(rt, keys, id, 'expire', now)));
    for (const { reply } of settled) {
      if (reply.code === STOCK_REPLY.OK && !reply.replayed) result.expired++;
      else result.skipped++;
    }
  }
  if (result.expired > 0) rt.logger?.debug({ ...result }, 'expired reservations returned their stock');
  return result;
}

/** Runs `attempt` and, while it reports expired reservations in the way, sweeps them first. */
export async function withSweep(
  rt: StockRuntime,
  tenant: string,
  attempt: (sweepCheck: boolean) => Promise<ScriptReply>,
): Promise<ScriptReply> {
  for (let round = 0; ; round++) {
    const reply = await attempt(round < SWEEP_ROUNDS);
    if (reply.code !== STOCK_REPLY.SWEEP_NEEDED) return reply;
    await expireReservations(rt, { tenant });
  }
}

async function settleRound(
  rt: StockRuntime,
  keys: TenantKeys,
  reservationId: string,
  action: SettleAction,
  now: number,
): Promise<{ reply: ScriptReply; lines: StockLine[] }> {
  for (let round = 1; ; round++) {
    const lines = await rt.recordLines(keys, reservationId);
    const skus = lines.map((line) => line.sku);
    const reply = await rt.run('settle', settleArgs(keys, { now, reservationId, action, skus }));
    if (reply.code !== STOCK_REPLY.STALE_KEYS || round >= STALE_ROUNDS) return { reply, lines };
  }
}

export { STALE_ROUNDS };
