import type { TenantKeys } from './keys.js';
import { detailNumbers, type ScriptReply, STOCK_REPLY, stockErrorFor } from './reply-codes.js';
import type { ScriptCall } from './script-args.js';
import { withSweep } from './stock-reservations.js';
import type { StockRuntime } from './stock-runtime.js';
import { IssueList, requireRequest } from './stock-validation.js';

/**
 * Deducting a sale that already happened (a marketplace order): take what was sold, or what is
 * left when that is less, and say how much was missing. `deduct` refuses a shortage instead,
 * which is right when the caller can still say no (the trading side's checkout). StockService
 * delegates here; the script is deduct-available-4.lua.
 */

export interface DeductAvailableInput {
  tenant?: string;
  operationId: string;
  sku: string;
  /** What was sold: a positive integer. */
  quantity: number;
}

export interface DeductAvailableResult {
  tenant: string;
  operationId: string;
  sku: string;
  /** True when the operation was applied earlier and this is its stored answer. */
  replayed: boolean;
  requested: number;
  /** What was taken: `requested`, or less when stock ran short (possibly 0). */
  deducted: number;
  /** requested - deducted: sold without stock. */
  shortfall: number;
  /** Available right after the deduction (0 after a shortfall). */
  available: number;
  /** The SKU's version after it; unchanged when nothing was taken. */
  version: number | null;
}

/** deduct-available-4.lua */
export function deductAvailableArgs(
  keys: TenantKeys,
  input: {
    now: number;
    recordTtlMs: number;
    operationId: string;
    sku: string;
    quantity: number;
    sweepCheck: boolean;
  },
): ScriptCall {
  return {
    keys: [keys.operation(input.operationId), keys.stream, keys.reservations, keys.stock(input.sku)],
    args: [
      input.now,
      input.operationId,
      input.recordTtlMs,
      `max|${input.sku} ${input.quantity}`,
      input.sweepCheck ? '1' : '0',
      input.sku,
      input.quantity,
    ],
  };
}

interface DeductAvailableRequest {
  tenant: string;
  operationId: string;
  sku: string;
  quantity: number;
}

function validRequest(input: DeductAvailableInput, defaultTenant: string): DeductAvailableRequest {
  requireRequest(input, 'invalid deduct request');
  const issues = new IssueList();
  const tenant = input.tenant === undefined ? defaultTenant : issues.tenant(input.tenant);
  const operationId = issues.id(input.operationId, 'operationId');
  const sku = issues.sku(input.sku, 'sku');
  const quantity = issues.quantity(input.quantity, 'quantity');
  issues.throwIfAny('invalid deduct request');
  return { tenant, operationId, sku, quantity };
}

function callFor(rt: StockRuntime, keys: TenantKeys, request: DeductAvailableRequest, sweepCheck: boolean) {
  const { operationId, sku, quantity } = request;
  return deductAvailableArgs(keys, {
    now: rt.clock(),
    recordTtlMs: rt.ttl,
    operationId,
    sku,
    quantity,
    sweepCheck,
  });
}

function resultOf(request: DeductAvailableRequest, reply: ScriptReply): DeductAvailableResult {
  const { tenant, operationId, sku, quantity } = request;
  const answer = (deducted: number, available: number, version: number | null) => ({
    tenant,
    operationId,
    sku,
    replayed: reply.replayed,
    requested: quantity,
    deducted,
    shortfall: quantity - deducted,
    available,
    version,
  });
  if (reply.code === STOCK_REPLY.OK) {
    const [available = 0, version = 0, taken = 0] = detailNumbers(reply.detail);
    return answer(taken, available, version);
  }
  if (reply.code === STOCK_REPLY.INSUFFICIENT) {
    const [, available = 0] = detailNumbers(reply.detail);
    return answer(0, available, null);
  }
  throw stockErrorFor(reply, {
    script: 'deductAvailable',
    tenant,
    operationId,
    kind: 'deduct',
    lines: [{ sku, quantity }],
  });
}

/** Throws UnknownSkuError, OperationConflictError, ValidationError; never InsufficientStockError. */
export async function deductAvailable(
  rt: StockRuntime,
  defaultTenant: string,
  input: DeductAvailableInput,
): Promise<DeductAvailableResult> {
  const request = validRequest(input, defaultTenant);
  const keys = rt.registered(request.tenant) ?? (await rt.register(request.tenant));
  const reply = await withSweep(rt, request.tenant, (sweepCheck) =>
    rt.run('deductAvailable', callFor(rt, keys, request, sweepCheck)),
  );
  return resultOf(request, reply);
}

/**
 * Many deductions, each exactly as `deductAvailable` would make it, in few round trips: one
 * pipeline per tenant and `pipelineSize` calls (a tenant's keys share a Cluster slot, and a long
 * pipeline holds Redis from other clients while it runs). For the sink's drain, which settles
 * hundreds of lines at once. Never throws: each input's result or error, in input order. A call
 * that meets an expired reservation is redone alone, through `deductAvailable`'s sweep.
 */
export async function deductAvailableMany(
  rt: StockRuntime,
  defaultTenant: string,
  inputs: readonly DeductAvailableInput[],
  pipelineSize = 64,
): Promise<PromiseSettledResult<DeductAvailableResult>[]> {
  const settled: PromiseSettledResult<DeductAvailableResult>[] = new Array(inputs.length);
  const byTenant = new Map<string, { index: number; request: DeductAvailableRequest }[]>();
  inputs.forEach((input, index) => {
    try {
      const request = validRequest(input, defaultTenant);
      const group = byTenant.get(request.tenant);
      if (group) group.push({ index, request });
      else byTenant.set(request.tenant, [{ index, request }]);
    } catch (error) {
      settled[index] = { status: 'rejected', reason: error };
    }
  });
  for (const [tenant, group] of byTenant) {
    let keys: TenantKeys;
    try {
      keys = rt.registered(tenant) ?? (await rt.register(tenant));
    } catch (error) {
      for (const { index } of group) settled[index] = { status: 'rejected', reason: error };
      continue;
    }
    for (let at = 0; at < group.length; at += pipelineSize) {
      const part = group.slice(at, at + pipelineSize);
      const replies = await rt.runMany(
        'deductAvailable',
        part.map(({ request }) => callFor(rt, keys, request, true)),
      );
      for (const [position, { index, request }] of part.entries()) {
        const reply = replies[position]!;
        if (reply instanceof Error) settled[index] = { status: 'rejected', reason: reply };
        else if (reply.code !== STOCK_REPLY.SWEEP_NEEDED)
          settled[index] = settle(() => resultOf(request, reply));
        else
          [settled[index]] = await Promise.allSettled([deductAvailable(rt, defaultTenant, inputs[index]!)]);
      }
    }
  }
  return settled;
}

function settle<T>(compute: () => T): PromiseSettledResult<T> {
  try {
    return { status: 'fulfilled', value: compute() };
  } catch (error) {
    return { status: 'rejected', reason: error };
  }
}
