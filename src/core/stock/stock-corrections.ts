import { tenantKeys } from './keys.js';
import { detailNumbers, STOCK_REPLY, stockErrorFor } from './reply-codes.js';
import { adjustArgs, loadArgs, type ScriptCall, setArgs } from './script-args.js';
import { unexpectedReply } from './stock-errors.js';
import { redisFailure, type StockRuntime } from './stock-runtime.js';
import type { AdjustInput, LoadInput, LoadResult, SetInput, SetResult, StockLevel } from './stock-types.js';
import { IssueList, requireRequest } from './stock-validation.js';

/**
 * Corrections and reads: set and adjust guarded by the SKU's version (compare-and-set, for
 * reconciliation), warm-up from MySQL, and plain reads. StockService delegates here.
 */

export async function setStock(rt: StockRuntime, defaultTenant: string, input: SetInput): Promise<SetResult> {
  requireRequest(input, 'invalid set request');
  const issues = new IssueList();
  const tenant = input.tenant === undefined ? defaultTenant : issues.tenant(input.tenant);
  const operationId = issues.id(input.operationId, 'operationId');
  const sku = issues.sku(input.sku, 'sku');
  const expectedVersion = issues.version(input.expectedVersion, 'expectedVersion');
  const available = issues.count(input.available, 'available');
  issues.throwIfAny('invalid set request');
  const keys = rt.registered(tenant) ?? (await rt.register(tenant));
  const call = setArgs(keys, {
    operationId,
    sku,
    expectedVersion,
    available,
    now: rt.clock(),
    recordTtlMs: rt.ttl,
  });
  return versioned(rt, 'set', call, { tenant, operationId, sku, expectedVersion });
}

export async function adjustStock(
  rt: StockRuntime,
  defaultTenant: string,
  input: AdjustInput,
): Promise<SetResult> {
  requireRequest(input, 'invalid adjust request');
  const issues = new IssueList();
  const tenant = input.tenant === undefined ? defaultTenant : issues.tenant(input.tenant);
  const operationId = issues.id(input.operationId, 'operationId');
  const sku = issues.sku(input.sku, 'sku');
  const expectedVersion = issues.version(input.expectedVersion, 'expectedVersion');
  const delta = issues.delta(input.delta, 'delta');
  issues.throwIfAny('invalid adjust request');
  const keys = rt.registered(tenant) ?? (await rt.register(tenant));
  const call = adjustArgs(keys, {
    operationId,
    sku,
    expectedVersion,
    delta,
    now: rt.clock(),
    recordTtlMs: rt.ttl,
  });
  return versioned(rt, 'adjust', call, { tenant, operationId, sku, expectedVersion });
}

export async function loadStock(
  rt: StockRuntime,
  defaultTenant: string,
  input: LoadInput,
): Promise<LoadResult> {
  requireRequest(input, 'invalid load request');
  const issues = new IssueList();
  const tenant = input.tenant === undefined ? defaultTenant : issues.tenant(input.tenant);
  const operationId = issues.id(input.operationId, 'operationId');
  const sku = issues.sku(input.sku, 'sku');
  const onHand = issues.count(input.onHand, 'onHand');
  const reserved = issues.count(input.reserved, 'reserved');
  const version = issues.version(input.version, 'version');
  issues.throwIfAny('invalid load request');
  const keys = rt.registered(tenant) ?? (await rt.register(tenant));
  const reply = await rt.run(
    'load',
    loadArgs(keys, { operationId, sku, onHand, reserved, version, now: rt.clock() }),
  );
  if (reply.code !== STOCK_REPLY.OK) throw unexpectedReply('load', reply);
  const [available = 0, current = 0] = detailNumbers(reply.detail);
  return { tenant, sku, loaded: !reply.replayed, available, version: current };
}

export async function readStock(
  rt: StockRuntime,
  defaultTenant: string,
  input: { skus: readonly string[]; tenant?: string },
): Promise<(StockLevel | null)[]> {
  requireRequest(input, 'invalid stock query');
  const issues = new IssueList();
  const tenant = input.tenant === undefined ? defaultTenant : issues.tenant(input.tenant);
  for (const [index, sku] of input.skus.entries()) issues.sku(sku, `skus[${index}]`);
  issues.throwIfAny('invalid stock query');
  const keys = tenantKeys(rt.keyPrefix, tenant);
  try {
    const levels = await Promise.all(
      input.skus.map((sku) => rt.redis.hmget(keys.stock(sku), 'available', 'reserved', 'version')),
    );
    return levels.map(([available, reserved, version], index) =>
      available === null
        ? null
        : {
            tenant,
            sku: input.skus[index]!,
            available: Number(available),
            reserved: Number(reserved ?? 0),
            version: Number(version ?? 0),
          },
    );
  } catch (error) {
    throw redisFailure('read stock', error);
  }
}

async function versioned(
  rt: StockRuntime,
  name: 'set' | 'adjust',
  call: ScriptCall,
  context: { tenant: string; operationId: string; sku: string; expectedVersion: number },
): Promise<SetResult> {
  const reply = await rt.run(name, call);
  if (reply.code !== STOCK_REPLY.OK) {
    throw stockErrorFor(reply, {
      script: name,
      kind: name,
      lines: [{ sku: context.sku, quantity: 0 }],
      ...context,
    });
  }
  const [available = 0, version = 0] = detailNumbers(reply.detail);
  const { tenant, operationId, sku } = context;
  return { tenant, operationId, sku, available, version, replayed: reply.replayed };
}
