import type { TenantKeys } from './keys.js';
import { detailNumbers, STOCK_REPLY, stockErrorFor } from './reply-codes.js';
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

/** Throws UnknownSkuError, OperationConflictError, ValidationError; never InsufficientStockError. */
export async function deductAvailable(
  rt: StockRuntime,
  defaultTenant: string,
  input: DeductAvailableInput,
): Promise<DeductAvailableResult> {
  requireRequest(input, 'invalid deduct request');
  const issues = new IssueList();
  const tenant = input.tenant === undefined ? defaultTenant : issues.tenant(input.tenant);
  const operationId = issues.id(input.operationId, 'operationId');
  const sku = issues.sku(input.sku, 'sku');
  const quantity = issues.quantity(input.quantity, 'quantity');
  issues.throwIfAny('invalid deduct request');
  const keys = rt.registered(tenant) ?? (await rt.register(tenant));
  const reply = await withSweep(rt, tenant, (sweepCheck) =>
    rt.run(
      'deductAvailable',
      deductAvailableArgs(keys, {
        now: rt.clock(),
        recordTtlMs: rt.ttl,
        operationId,
        sku,
        quantity,
        sweepCheck,
      }),
    ),
  );
  const base = { tenant, operationId, sku, replayed: reply.replayed, requested: quantity };
  if (reply.code === STOCK_REPLY.OK) {
    const [available = 0, version = 0, taken = 0] = detailNumbers(reply.detail);
    return { ...base, deducted: taken, shortfall: quantity - taken, available, version };
  }
  if (reply.code === STOCK_REPLY.INSUFFICIENT) {
    const [, available = 0] = detailNumbers(reply.detail);
    return { ...base, deducted: 0, shortfall: quantity, available, version: null };
  }
  throw stockErrorFor(reply, {
    script: 'deductAvailable',
    tenant,
    operationId,
    kind: 'deduct',
    lines: [{ sku, quantity }],
  });
}
