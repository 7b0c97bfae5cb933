import type { UnifiedOrder } from '../order.js';
import type { SqlStatement } from '../order-store-sql.js';
import type { ShardRouter } from '../shard-router.js';
import { addMs, type Instant } from '../time.js';
import { deductIntents, type IntentRow, releaseSelection } from './intent-rows.js';
import { intentsTable } from './intent-schema.js';
import { insertIntentsSql, insertReleasesSql } from './intent-sql.js';

/**
 * What the order store adds to a shard's upsert transaction when stock intents are on: at most
 * two statements, and none for a batch that changed nothing (a redelivery).
 */
export interface StockIntentOptions {
  /**
   * How long the sweep leaves a new intent to the sink that wrote it (which drains right after
   * its commit) before picking it up itself, ms.
   */
  sweepAfterMs: number;
  /**
   * Gives deduct intents their target (tenant, internal SKU) before they are written, so the
   * drainer sends them to Redis without a write to persist the target first. Called before the
   * shard's transaction opens (a listing lookup never holds the orders' row locks), for the
   * active lines of every order of the shard's batch. Returns the rows it resolved, with their
   * targets; the rest are written unresolved (the drainer resolves them again, and reports them
   * if still unmapped). Without it the drainer resolves every intent.
   */
  resolveTargets?: (rows: readonly IntentRow[]) => Promise<readonly IntentRow[]>;
}

/** Resolved targets by marketplace line (`lineTargetKey`). */
export type LineTargets = ReadonlyMap<string, { tenant: string; sku: string }>;

const lineTargetKey = (row: Pick<IntentRow, 'platform' | 'account' | 'platformOrderId' | 'lineId'>) =>
  `${row.platform}\u0000${row.account}\u0000${row.platformOrderId}\u0000${row.lineId}`;

/**
 * The targets of the active lines of these orders, through `resolveTargets`; undefined without
 * one. Which of the orders the transaction then changes is not known yet, so an order that turns
 * out unchanged (a redelivery) was looked up for nothing: the listing map's cache answers those.
 */
export async function resolveLineTargets(
  options: StockIntentOptions | undefined,
  orders: readonly { order: UnifiedOrder; proposedId: string }[],
  now: Instant,
): Promise<LineTargets | undefined> {
  if (!options?.resolveTargets) return undefined;
  const times = { now, dueAt: now };
  const rows = orders.flatMap(({ order, proposedId }) => deductIntents(order, proposedId, times));
  const targets = new Map<string, { tenant: string; sku: string }>();
  if (rows.length === 0) return targets;
  for (const row of await options.resolveTargets(rows)) {
    if (row.tenant !== null && row.sku !== null)
      targets.set(lineTargetKey(row), { tenant: row.tenant, sku: row.sku });
  }
  return targets;
}

/** An order this transaction inserted, or moved forward to a newer version. */
export interface ChangedOrder {
  id: string;
  order: UnifiedOrder;
  outcome: 'inserted' | 'updated';
}

export function stockIntentStatements(
  router: ShardRouter,
  database: number,
  changed: readonly ChangedOrder[],
  options: StockIntentOptions & { now: Instant; maxRows: number; targets?: LineTargets | undefined },
): SqlStatement[] {
  const table = intentsTable(router, database);
  const times = { now: options.now, dueAt: addMs(options.now, options.sweepAfterMs) };
  const statements: SqlStatement[] = [];
  const { targets } = options;
  const deducts = changed.flatMap(({ id, order }) =>
    deductIntents(order, id, times).map((row) => {
      const target = targets?.get(lineTargetKey(row));
      return target ? { ...row, ...target } : row;
    }),
  );
  for (let at = 0; at < deducts.length; at += options.maxRows) {
    statements.push(insertIntentsSql(table, deducts.slice(at, at + options.maxRows)));
  }
  // A new order has no earlier deduct intents to release; only versions that moved forward do.
  const updated = changed.filter((entry) => entry.outcome === 'updated');
  for (let at = 0; at < updated.length; at += options.maxRows) {
    const selections = updated.slice(at, at + options.maxRows).map(({ order }) => releaseSelection(order));
    statements.push(insertReleasesSql(table, selections, times));
  }
  return statements;
}
