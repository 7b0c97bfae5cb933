import type { RowDataPacket } from 'mysql2/promise';
import { forEachBounded } from '../bounded-concurrency.js';
import { classifyMysqlError } from '../mysql-errors.js';
import type { MysqlPools } from '../mysql-pools.js';
import { orderKey } from '../order.js';
import {
  chunks,
  type Outcome,
  type PendingOrder,
  run,
  upsertResultOf,
  writeShard,
} from '../order-shard-write.js';
import type { StockIntentOptions } from '../order-stock/intent-writes.js';
import type { UpsertResult } from '../order-store.js';
import { multiRowInsert } from '../order-store-sql.js';
import { type ShardLocation, ShardRouter } from '../shard-router.js';
import { forEachShardTransaction } from '../shard-workers.js';
import { fromSqlDateTime, type Instant } from '../time.js';
import type { IdentifiedOrder } from './legacy-mapping.js';

/**
 * Writes orders under ids the caller chooses into one layout, with exactly the store's versioned
 * per-shard transaction (order-shard-write.ts): the dual write's second layout takes the ids the
 * first one assigned, and the backfill keeps the source's ids. A key that already exists keeps
 * the id it has (its row is versioned like any other write).
 */
export interface LayoutWriterOptions {
  pools: MysqlPools;
  router: ShardRouter;
  /**
   * Whether to write `order_locator` rows. The locator lives in the meta database, which every
   * layout of a deployment shares: a layout copy of orders that are already located skips it.
   */
  writeLocator: boolean;
  /** Shard transactions in flight. Default 4 (as the store). */
  concurrency?: number;
  /** Rows per statement at most. Default 2000 (as the store). */
  maxRowsPerStatement?: number;
  /**
   * Stock intents of new and changed orders, in the shard's transaction (as the store). Only the
   * one write of an order that the stock drainer reads may carry them, or stock is deducted twice.
   */
  stockIntents?: StockIntentOptions | undefined;
  clock?: () => Instant;
}

export type LayoutWriter = (items: readonly IdentifiedOrder[]) => Promise<UpsertResult>;

export function createLayoutWriter(options: LayoutWriterOptions): LayoutWriter {
  const { pools, router } = options;
  const concurrency = options.concurrency ?? 4;
  const maxRows = options.maxRowsPerStatement ?? 2000;
  const clock = options.clock ?? (() => new Date().toISOString());
  const locatorTable = `\`${router.metaDatabaseName}\`.\`order_locator\``;

  return async (items) => {
    const byShard = new Map<string, { location: ShardLocation; pending: PendingOrder[] }>();
    for (const [key, { order, id }] of newestPerKey(items)) {
      const location = router.route(order.userId);
      const shardKey = ShardRouter.key(location);
      let group = byShard.get(shardKey);
      if (!group) {
        group = { location, pending: [] };
        byShard.set(shardKey, group);
      }
      group.pending.push({ key, order, proposedId: id });
    }
    const storedAt = clock();
    const outcomes = new Map<string, { id: string; outcome: Outcome; userId: string }>();
    const groups = [...byShard.values()].sort(
      (a, b) => a.location.database - b.location.database || a.location.table - b.location.table,
    );
    await forEachShardTransaction(
      groups,
      { concurrency, poolOf: (group) => pools.forDatabase(group.location.database) },
      async (context, { location, pending }) => {
        pending.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        const written = await writeShard(context, {
          router,
          location,
          pending,
          storedAt,
          maxRows,
          stockIntents: options.stockIntents,
        });
        for (const item of pending)
          outcomes.set(item.key, { ...written.get(item.key)!, userId: item.order.userId });
      },
    );
    const result: UpsertResult = upsertResultOf(outcomes);
    if (options.writeLocator && outcomes.size > 0) {
      // Sorted by id, as the store does: concurrent writers then take the locator's locks in one order.
      const rows = [...outcomes.values()]
        .map(({ id, userId }) => [id, userId] as const)
        .sort((a, b) => a[0].length - b[0].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      try {
        for (const part of chunks(rows, maxRows * 4)) {
          await run(
            pools.meta(),
            multiRowInsert(locatorTable, ['order_id', 'user_id'], part, { ignore: true }),
          );
        }
      } catch (error) {
        throw classifyMysqlError(error, 'write order locator', { orders: rows.length });
      }
    }
    return result;
  };
}

/** The newest version of each key; on equal versions the later item wins (as the store). */
function newestPerKey(items: readonly IdentifiedOrder[]): Map<string, IdentifiedOrder> {
  const byKey = new Map<string, IdentifiedOrder>();
  for (const item of items) {
    const key = orderKey(item.order);
    const seen = byKey.get(key);
    if (!seen || item.order.updatedAt >= seen.order.updatedAt) byKey.set(key, item);
  }
  return byKey;
}

/**
 * The items whose order the layout does not hold yet, or holds in an older version. A legacy
 * copy must not be applied over the SAME version written live: the legacy table keeps one line
 * per order, so the versioned upsert (which re-applies equal versions) would replace the live
 * order's lines with the legacy table's lossy one. One id lookup per 64 tables.
 */
export async function withoutCurrent(
  pools: MysqlPools,
  router: ShardRouter,
  items: readonly IdentifiedOrder[],
): Promise<IdentifiedOrder[]> {
  const byDatabase = new Map<number, Map<string, { location: ShardLocation; ids: string[] }>>();
  for (const item of items) {
    const location = router.route(item.order.userId);
    const tables = byDatabase.get(location.database) ?? new Map();
    byDatabase.set(location.database, tables);
    const key = ShardRouter.key(location);
    const group = tables.get(key) ?? { location, ids: [] };
    group.ids.push(item.id);
    tables.set(key, group);
  }
  const stored = new Map<string, Instant>();
  const statements = [...byDatabase].flatMap(([database, tables]) =>
    chunks([...tables.values()], 64).map((part) => ({ database, part })),
  );
  await forEachBounded(statements, 4, async ({ database, part }) => {
    const sql = part
      .map(
        ({ location, ids }) =>
          `SELECT \`id\`, \`updated_at\` FROM ${router.qualifiedTable(location, 'orders')} ` +
          `WHERE \`id\` IN (${ids.map(() => 'CAST(? AS UNSIGNED)').join(', ')})`,
      )
      .join(' UNION ALL ');
    try {
      const [rows] = await pools.forDatabase(database).query<RowDataPacket[]>(
        sql,
        part.flatMap(({ ids }) => ids),
      );
      for (const row of rows) stored.set(String(row.id), fromSqlDateTime(String(row.updated_at)));
    } catch (error) {
      throw classifyMysqlError(error, 'read target versions');
    }
  });
  return items.filter((item) => {
    const version = stored.get(item.id);
    return version === undefined || version < item.order.updatedAt;
  });
}
