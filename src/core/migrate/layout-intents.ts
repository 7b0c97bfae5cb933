import { forEachBounded } from '../bounded-concurrency.js';
import { queryRows } from '../mysql-errors.js';
import { INTENT_COLUMNS, type IntentRow, intentFromRow } from '../order-stock/intent-rows.js';
import { intentsTable } from '../order-stock/intent-schema.js';
import {
  guardedIntentUpsertSql,
  type MarketplaceOrderKey,
  selectOfOrdersSql,
} from '../order-stock/intent-sql.js';
import { compareIds } from '../order-store.js';
import type { SqlStatement } from '../order-store-sql.js';
import type { ShardLocation } from '../shard-router.js';
import type { LayoutHandle } from './layouts.js';
import type { IdentifiedOrder } from './legacy-mapping.js';

/**
 * The stock intents of orders (the order stock outbox, one `stock_intents` table per shard
 * database, docs/stock-orders.md) carried from one layout into another. Without them a layout
 * that takes over would deduct an old order's lines again when it is stored again (the intent
 * that says "deducted once" is missing) and find nothing to release when it is cancelled.
 *
 * An intent has no user id: it goes to the target database of the user of the order that has
 * its marketplace key (platform, account, platform order id) in the source. Rows are copied as
 * they are (order id, operation key, status, outcome), so the Redis operation ids stay the same.
 *
 * While a migration runs the stock drainer works on the config's layout, the source, so the
 * copies in the target go stale (a pending deduct gets applied in the source). Copying again
 * converges: a target row that is still pending takes the source's row when that one is final
 * or not older; a final target row never changes (it already moved stock, as a final row never
 * returns to pending in the drainer either).
 */

const PAGE = 1000;

// The row's identity: both unique keys of the table, never assigned.
const IDENTITY = new Set(['order_id', 'line_id', 'kind', 'platform', 'account', 'platform_order_id']);
const MAY_REPLACE =
  "`status` = 'pending' AND (VALUES(`status`) <> 'pending' OR VALUES(`updated_at`) >= `updated_at`)";
// The condition reads `status` and `updated_at`: they are assigned last, status the very last,
// so every assignment before them compares the row's old values.
const ASSIGNED = [
  ...INTENT_COLUMNS.filter(
    (column) => !IDENTITY.has(column) && column !== 'status' && column !== 'updated_at',
  ),
  'updated_at',
  'status',
];

/** Upserts copied intents: missing rows are inserted, pending rows catch up, final rows stay. */
export function copyIntentsSql(table: string, rows: readonly IntentRow[]): SqlStatement {
  if (rows.length === 0) throw new RangeError('copyIntentsSql needs at least one row');
  return guardedIntentUpsertSql(table, rows, ASSIGNED, MAY_REPLACE);
}

type KeyedOrder = MarketplaceOrderKey & { userId: string };
const keyOf = (order: MarketplaceOrderKey) =>
  JSON.stringify([order.platform, order.account, order.platformOrderId]);

/**
 * Copies the intents of these orders from `source` into `target`. Returns how many intent rows
 * were sent (inserted, caught up or left as they were).
 */
export async function copyOrderIntents(
  source: LayoutHandle,
  target: LayoutHandle,
  orders: readonly KeyedOrder[],
): Promise<number> {
  const byDatabase = new Map<number, KeyedOrder[]>();
  for (const order of orders) {
    const { database } = source.router.route(order.userId);
    const list = byDatabase.get(database) ?? [];
    list.push(order);
    byDatabase.set(database, list);
  }
  let copied = 0;
  await forEachBounded([...byDatabase], 4, async ([database, list]) => {
    for (let at = 0; at < list.length; at += PAGE) {
      copied += await copyFromDatabase(source, target, database, list.slice(at, at + PAGE));
    }
  });
  return copied;
}

async function copyFromDatabase(
  source: LayoutHandle,
  target: LayoutHandle,
  database: number,
  orders: readonly KeyedOrder[],
): Promise<number> {
  const users = new Map(orders.map((order) => [keyOf(order), order.userId]));
  const select = selectOfOrdersSql(intentsTable(source.router, database), orders);
  const rows = await queryRows(
    source.pools.forDatabase(database),
    select.sql,
    select.values,
    'read source stock intents',
  );
  const byTarget = new Map<number, IntentRow[]>();
  for (const row of rows) {
    const intent = intentFromRow(row);
    const { database: to } = target.router.route(users.get(keyOf(intent))!);
    const list = byTarget.get(to) ?? [];
    list.push(intent);
    byTarget.set(to, list);
  }
  for (const [to, intents] of byTarget) {
    // One fixed order over the primary key (order id, line id, kind): two copies of overlapping
    // intents then lock their rows in the same order.
    intents.sort(
      (a, b) =>
        compareIds(a.orderId, b.orderId) || compareIds(a.lineId, b.lineId) || compareIds(a.kind, b.kind),
    );
    for (let at = 0; at < intents.length; at += PAGE) {
      const { sql, values } = copyIntentsSql(intentsTable(target.router, to), intents.slice(at, at + PAGE));
      await queryRows(target.pools.forDatabase(to), sql, values, 'copy stock intents');
    }
  }
  return rows.length;
}

export interface IntentSync {
  /** Intent rows copied (inserted, caught up or already equal). */
  copied: number;
  /**
   * Source intents this pass did not copy: their marketplace order is in no table of their
   * database (deleted, or moved to another user), or they were written after the pass read
   * their order (a pass after the source stopped being written has none of those).
   */
  notCopied: number;
}

/**
 * Copies every intent of `source` into `target`: each source table's orders in keyset pages,
 * with their intents. Safe to repeat, and to run while the dual write and the drainer work.
 */
export async function syncLayoutIntents(source: LayoutHandle, target: LayoutHandle): Promise<IntentSync> {
  const result: IntentSync = { copied: 0, notCopied: 0 };
  const perDatabase = new Map<number, number>();
  await forEachBounded([...source.router.all()], 4, async (location) => {
    const copied = await syncTable(source, target, location);
    result.copied += copied;
    perDatabase.set(location.database, (perDatabase.get(location.database) ?? 0) + copied);
  });
  for (const [database, copied] of perDatabase) {
    const [row] = await queryRows(
      source.pools.forDatabase(database),
      `SELECT COUNT(*) AS n FROM ${intentsTable(source.router, database)}`,
      [],
      'count source stock intents',
    );
    result.notCopied += Math.max(0, Number(row!.n) - copied);
  }
  return result;
}

async function syncTable(
  source: LayoutHandle,
  target: LayoutHandle,
  location: ShardLocation,
): Promise<number> {
  const orders = source.router.qualifiedTable(location, 'orders');
  const pool = source.pools.forDatabase(location.database);
  let copied = 0;
  let after = '0';
  for (;;) {
    const rows = await queryRows(
      pool,
      `SELECT \`id\`, \`user_id\`, \`platform\`, \`account\`, \`platform_order_id\` FROM ${orders} ` +
        'WHERE `id` > CAST(? AS UNSIGNED) ORDER BY `id` LIMIT ?',
      [after, PAGE],
      'read source orders',
    );
    if (rows.length > 0) {
      copied += await copyFromDatabase(
        source,
        target,
        location.database,
        rows.map((row) => ({
          platform: String(row.platform),
          account: String(row.account),
          platformOrderId: String(row.platform_order_id),
          userId: String(row.user_id),
        })),
      );
    }
    if (rows.length < PAGE) return copied;
    after = String(rows.at(-1)!.id);
  }
}

/** The orders of a backfill batch as copyOrderIntents takes them. */
export function keyedOrders(items: readonly IdentifiedOrder[]): KeyedOrder[] {
  return items.map(({ order }) => ({
    platform: order.platform,
    account: order.account,
    platformOrderId: order.platformOrderId,
    userId: order.userId,
  }));
}
