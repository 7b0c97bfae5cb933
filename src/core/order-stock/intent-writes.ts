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
   * Gives new deduct intents their target (tenant, internal SKU) before they are written, in
   * the order's transaction, so the drainer sends them to Redis without a write to persist the
   * target first. Returns the rows in the same order; a row it cannot resolve stays unresolved
   * (the drainer resolves it again, and reports it if still unmapped). Without it the drainer
   * resolves every intent.
   */
  resolveTargets?: (rows: readonly IntentRow[]) => Promise<readonly IntentRow[]>;
}

/** An order this transaction inserted, or moved forward to a newer version. */
export interface ChangedOrder {
  id: string;
  order: UnifiedOrder;
  outcome: 'inserted' | 'updated';
}

export async function stockIntentStatements(
  router: ShardRouter,
  database: number,
  changed: readonly ChangedOrder[],
  options: StockIntentOptions & { now: Instant; maxRows: number },
): Promise<SqlStatement[]> {
  const table = intentsTable(router, database);
  const times = { now: options.now, dueAt: addMs(options.now, options.sweepAfterMs) };
  const statements: SqlStatement[] = [];
  const built = changed.flatMap(({ id, order }) => deductIntents(order, id, times));
  const deducts = options.resolveTargets && built.length > 0 ? await options.resolveTargets(built) : built;
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
