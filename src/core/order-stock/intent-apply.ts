import { isTradectlError } from '../errors.js';
import type { DeductAvailableResult } from '../stock/deduct-available.js';
import {
  OperationConflictError,
  RestoreError,
  UnknownSkuError,
  VersionConflictError,
} from '../stock/stock-errors.js';
import type { StockService } from '../stock/stock-service.js';
import { fromEpochMs } from '../time.js';
import type { IntentRow } from './intent-rows.js';
import type { IssueKind, OrderStockIssue } from './intent-sql.js';
import { intentOperationId } from './operation-ids.js';

/**
 * What one intent does in Redis, and the row (and issue) that records it. Never throws: a
 * failure becomes a failed attempt with its next time, so one bad line never holds up the rest.
 */

/** What happened to one intent, as counted in the metrics. */
export type IntentOutcome =
  | 'deducted'
  | 'oversold'
  | 'unmapped'
  | 'unknown_sku'
  | 'released'
  | 'deferred'
  | 'failed';

export interface Applied {
  /** The row to write back (final, or pending with its next attempt). */
  row: IntentRow;
  outcome: IntentOutcome;
  /** Units moved in Redis (taken by a deduct, given back by a release). */
  units: number;
  issue?: OrderStockIssue;
}

export interface ApplyContext {
  stock: Pick<StockService, 'deductAvailableMany' | 'restore' | 'adjust' | 'get'>;
  /** Unix ms. */
  now: number;
  /** First delay after a failed attempt, ms; doubles per attempt. */
  retryAfterMs: number;
  maxBackoffMs: number;
  /** Attempts before a SKU unknown to Redis is given up on (final `unknown_sku`). */
  unknownSkuAttempts: number;
}

// Rounds of "read the version, adjust" before a contended SKU waits for the next attempt.
const ADJUST_ROUNDS = 5;

/**
 * Deducts resolved rows in Redis, many per round trip (`deductAvailableMany`): each row's
 * outcome, in order. A call that fails as a whole fails every row's attempt.
 */
export async function applyDeducts(context: ApplyContext, rows: readonly IntentRow[]): Promise<Applied[]> {
  const inputs = rows.map((row) => {
    const { tenant, sku } = row;
    if (tenant === null || sku === null) throw new Error('applyDeducts needs resolved rows');
    return { tenant, sku, quantity: row.quantity, operationId: intentOperationId(row, 'd') };
  });
  let settled: PromiseSettledResult<DeductAvailableResult>[];
  try {
    settled = await context.stock.deductAvailableMany(inputs);
  } catch (error) {
    settled = rows.map(() => ({ status: 'rejected', reason: error }));
  }
  return rows.map((row, index) => deductOutcome(context, row, settled[index]!));
}

function deductOutcome(
  context: ApplyContext,
  row: IntentRow,
  settled: PromiseSettledResult<DeductAvailableResult>,
): Applied {
  if (settled.status === 'rejected') {
    const error: unknown = settled.reason;
    if (error instanceof UnknownSkuError && row.attempts + 1 >= context.unknownSkuAttempts) {
      const detail = `${row.tenant}/${row.sku} has no stock in Redis after ${row.attempts + 1} attempts`;
      return final(context, row, 'unknown_sku', 0, {
        status: 'unknown_sku',
        shortfall: row.quantity,
        detail,
      });
    }
    return failed(context, row, error);
  }
  const { deducted, shortfall } = settled.value;
  if (shortfall === 0) return final(context, row, 'deducted', deducted, { status: 'applied', shortfall: 0 });
  return final(context, row, 'oversold', deducted, {
    status: 'applied',
    shortfall,
    detail: `sold ${row.quantity}, ${deducted} in stock: ${shortfall} sold without stock`,
  });
}

/** The line has no listing mapping: nothing is deducted, and the line is reported. */
export function unmapped(context: ApplyContext, row: IntentRow, reason: string): Applied {
  return final(context, row, 'unmapped', 0, { status: 'unmapped', shortfall: null, detail: reason });
}

/**
 * Gives back what the line's deduct took, decided from the deduct's committed row: pending
 * deducts defer the release (it must never overtake its deduct), deducts that took nothing
 * release nothing.
 */
export async function applyRelease(
  context: ApplyContext,
  row: IntentRow,
  deduct: IntentRow | undefined,
): Promise<Applied> {
  if (deduct?.status === 'pending') {
    const next = { ...row, nextAttemptAt: fromEpochMs(context.now + context.retryAfterMs) };
    return { row: { ...next, updatedAt: iso(context) }, outcome: 'deferred', units: 0 };
  }
  const target = { tenant: deduct?.tenant ?? null, sku: deduct?.sku ?? null };
  const taken = deduct?.status === 'applied' ? (deduct.appliedQuantity ?? 0) : 0;
  if (target.tenant === null || target.sku === null || taken === 0) {
    return {
      row: finalRow(context, { ...row, ...target }, 'applied', 0, null),
      outcome: 'released',
      units: 0,
    };
  }
  const tenant = target.tenant;
  const sku = target.sku;
  try {
    const restored = await context.stock.restore({
      tenant,
      operationId: intentOperationId(row, 'r'),
      restores: intentOperationId(row, 'd'),
    });
    const units = restored.lines.reduce((sum, line) => sum + line.quantity, 0);
    return {
      row: finalRow(context, { ...row, ...target }, 'applied', units, null),
      outcome: 'released',
      units,
    };
  } catch (error) {
    if (error instanceof RestoreError && error.problem === 'already_restored') {
      // Someone restored the sale by hand: the units are back once, and must not come back twice.
      const note = `already restored: ${error.message}`;
      return {
        row: finalRow(context, { ...row, ...target }, 'applied', 0, note),
        outcome: 'released',
        units: 0,
      };
    }
    if (!(error instanceof RestoreError && error.problem === 'not_applied'))
      return failed(context, row, error);
  }
  // MySQL says the deduct took `taken`, Redis no longer knows the sale: its record outlived the
  // idempotency window. Give the units back by a version-guarded adjustment instead.
  try {
    for (let round = 1; round <= ADJUST_ROUNDS; round++) {
      const level = await context.stock.get({ tenant, sku });
      if (level === null) throw new UnknownSkuError({ tenant, sku });
      try {
        await context.stock.adjust({
          tenant,
          sku,
          operationId: intentOperationId(row, 'ra'),
          expectedVersion: level.version,
          delta: taken,
        });
      } catch (error) {
        if (error instanceof VersionConflictError) continue;
        // Stored under this id by an earlier round that read another version: it applied.
        if (!(error instanceof OperationConflictError)) throw error;
      }
      const note = 'restored by adjustment: the sale was past the idempotency window';
      return {
        row: finalRow(context, { ...row, ...target }, 'applied', taken, note),
        outcome: 'released',
        units: taken,
      };
    }
    throw new Error(`${sku} kept changing during ${ADJUST_ROUNDS} adjustment rounds`);
  } catch (error) {
    return failed(context, row, error);
  }
}

function final(
  context: ApplyContext,
  row: IntentRow,
  outcome: IntentOutcome,
  units: number,
  how: { status: IntentRow['status']; shortfall: number | null; detail?: string },
): Applied {
  const done = { ...finalRow(context, row, how.status, units, null), shortfall: how.shortfall };
  const applied: Applied = { row: done, outcome, units };
  const kind: IssueKind | null =
    outcome === 'oversold' || outcome === 'unmapped' || outcome === 'unknown_sku' ? outcome : null;
  if (kind !== null) applied.issue = issueOf(context, done, kind, how.detail ?? '');
  return applied;
}

function finalRow(
  context: ApplyContext,
  row: IntentRow,
  status: IntentRow['status'],
  units: number,
  note: string | null,
): IntentRow {
  return { ...row, status, appliedQuantity: units, lastError: note, updatedAt: iso(context) };
}

function failed(context: ApplyContext, row: IntentRow, error: unknown): Applied {
  const attempts = row.attempts + 1;
  const delay = Math.min(context.maxBackoffMs, context.retryAfterMs * 2 ** Math.min(attempts - 1, 30));
  const code = isTradectlError(error) ? error.code : 'error';
  const message = error instanceof Error ? error.message : String(error);
  return {
    row: {
      ...row,
      attempts,
      lastError: `${code}: ${message}`.slice(0, 500),
      nextAttemptAt: fromEpochMs(context.now + delay),
      updatedAt: iso(context),
    },
    outcome: 'failed',
    units: 0,
  };
}

function issueOf(context: ApplyContext, row: IntentRow, kind: IssueKind, detail: string): OrderStockIssue {
  const deducted = row.appliedQuantity ?? 0;
  return {
    orderId: row.orderId,
    lineId: row.lineId,
    kind,
    platform: row.platform,
    account: row.account,
    platformOrderId: row.platformOrderId,
    channelSku: row.channelSku,
    listingId: row.listingId,
    tenant: row.tenant,
    sku: row.sku,
    requested: row.quantity,
    deducted,
    shortfall: row.quantity - deducted,
    detail,
    createdAt: iso(context),
  };
}

const iso = (context: ApplyContext) => fromEpochMs(context.now);
