import type { UnifiedOrder } from '../order.js';
import type { SqlStatement } from '../order-store-sql.js';
import type { ShardRouter } from '../shard-router.js';
import { addMs, type Instant } from '../time.js';
import { deductIntents, releaseSelection } from './intent-rows.js';
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
  options: StockIntentOptions & { now: Instant; maxRows: number },
): SqlStatement[] {
  const table = intentsTable(router, database);
  const times = { now: options.now, dueAt: addMs(options.now, options.sweepAfterMs) };
  const statements: SqlStatement[] = [];
  const deducts = changed.flatMap(({ id, order }) => deductIntents(order, id, times));
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
