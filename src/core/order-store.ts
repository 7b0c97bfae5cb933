import type { RowDataPacket } from 'mysql2/promise';
import { ValidationError } from './errors.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlPools } from './mysql-pools.js';
import { orderKey, type UnifiedOrder } from './order.js';
import { readStoredOrder } from './order-reads.js';
import type { StoredOrder } from './order-rows.js';
import {
  chunks,
  type Outcome,
  type PendingOrder,
  run,
  upsertResultOf,
  writeShard,
} from './order-shard-write.js';
import type { StockIntentOptions } from './order-stock/intent-writes.js';
import { multiRowInsert, type OrderKey } from './order-store-sql.js';
import { type ShardLocation, ShardRouter } from './shard-router.js';
import { forEachShardTransaction } from './shard-workers.js';
import type { Instant } from './time.js';

export type { StoredOrder } from './order-rows.js';
export type { Outcome } from './order-shard-write.js';

export interface OrderStoreOptions {
  pools: MysqlPools;
  router: ShardRouter;
  /** Source of new order ids (SnowflakeGenerator#next in production). Called once per distinct key. */
  nextId: () => string;
  /** The time stamped into `stored_at`. Default: the system clock. */
  clock?: () => Instant;
  /**
   * Shard transactions in flight at once, each on its own pooled connection. A batch spreads
   * over many shards with few rows each, so overlapping their round trips is what makes the
   * store fast. Keep it at or below `mysql.connectionLimit`. Default 4; 8 was ~15% faster in
   * bench/upsert.ts but takes every connection of a default pool.
   */
  concurrency?: number;
  /** Rows per statement at most, so one statement stays far below max_allowed_packet. Default 2000. */
  maxRowsPerStatement?: number;
  /**
   * Writes the stock intents of new and changed orders in each shard's transaction (the order
   * stock outbox, docs/stock-orders.md). Default: off (no intents, no extra statement).
   */
  stockIntents?: StockIntentOptions | undefined;
}

/** What `upsertBatch` did, per distinct order key of the batch. */
export interface UpsertResult {
  /** Orders that did not exist: stored with a fresh id. */
  inserted: number;
  /** Orders that existed with an older version: the new version was applied. */
  updated: number;
  /**
   * Orders whose stored version is the same or newer. A same-version write is applied again
   * (harmless for a replay) but moves nothing forward, so it counts here.
   */
  unchanged: number;
  /** orderKey (platform:account:platformOrderId) -> the order's id, for every order of the batch. */
  ids: Map<string, string>;
  /** orderKey -> what happened to it, so a caller writing many accounts at once can count each. */
  outcomes: Map<string, Outcome>;
}

export interface PlatformKeyLookup extends OrderKey {
  /** The owning user: decides the shard. */
  userId: string;
}

export interface OrderStore {
  /**
   * Stores a batch of validated orders (parseOrder) with versioned upserts: one transaction per
   * shard, one multi-row statement per table, shards written concurrently. A failure is a
   * TradectlError; `retriable` ones (deadlock, lock wait, connection) mean "retry the batch":
   * shards that committed already make the retry a no-op for their orders.
   */
  upsertBatch(orders: readonly UnifiedOrder[]): Promise<UpsertResult>;
  /** The order with this id (one locator read, then one shard), or null. */
  getById(id: string): Promise<StoredOrder | null>;
  /** The order with this platform key in the user's shard, or null. */
  getByPlatformKey(key: PlatformKeyLookup): Promise<StoredOrder | null>;
}

export function createOrderStore(options: OrderStoreOptions): OrderStore {
  const { pools, router, nextId } = options;
  const clock = options.clock ?? (() => new Date().toISOString());
  const concurrency = options.concurrency ?? 4;
  const maxRows = options.maxRowsPerStatement ?? 2000;
  const locatorTable = `\`${router.metaDatabaseName}\`.\`order_locator\``;

  async function writeLocator(entries: readonly [id: string, userId: string][]): Promise<void> {
    // Written after the shards commit, for every order of the batch (not only new ones): if this
    // write fails, the batch fails, and its retry finds the orders unchanged but still writes
    // their locator rows. INSERT IGNORE: an id's user never changes.
    const sorted = [...entries].sort((a, b) => compareIds(a[0], b[0]));
    try {
      for (const part of chunks(sorted, maxRows * 4)) {
        await run(
          pools.meta(),
          multiRowInsert(locatorTable, ['order_id', 'user_id'], part, { ignore: true }),
        );
      }
    } catch (error) {
      throw classifyMysqlError(error, 'write order locator', { orders: entries.length });
    }
  }

  return {
    async upsertBatch(orders) {
      const byKey = newestPerKey(orders);
      const byShard = new Map<string, { location: ShardLocation; pending: PendingOrder[] }>();
      for (const [key, order] of byKey) {
        const location = router.route(order.userId);
        const shardKey = ShardRouter.key(location);
        let group = byShard.get(shardKey);
        if (!group) {
          group = { location, pending: [] };
          byShard.set(shardKey, group);
        }
        group.pending.push({ key, order, proposedId: nextId() });
      }
      const storedAt = clock();
      const outcomes = new Map<string, { id: string; outcome: Outcome; userId: string }>();
      // Database by database, table by table: a worker's consecutive shards share a server.
      const groups = [...byShard.values()].sort(
        (a, b) => a.location.database - b.location.database || a.location.table - b.location.table,
      );
      await forEachShardTransaction(
        groups,
        { concurrency, poolOf: (group) => pools.forDatabase(group.location.database) },
        async (context, { location, pending }) => {
          // Same key order in every transaction: concurrent writers of a shard lock in one order.
          pending.sort((a, b) => compareKeys(a.key, b.key));
          const written = await writeShard(context, {
            router,
            location,
            pending,
            storedAt,
            maxRows,
            stockIntents: options.stockIntents,
          });
          for (const item of pending) {
            const outcome = written.get(item.key)!;
            outcomes.set(item.key, { ...outcome, userId: item.order.userId });
          }
        },
      );
      const result = upsertResultOf(outcomes);
      if (outcomes.size > 0) {
        await writeLocator([...outcomes.values()].map(({ id, userId }) => [id, userId] as [string, string]));
      }
      return result;
    },

    async getById(id) {
      if (!/^\d{1,20}$/.test(id)) {
        throw new ValidationError('invalid order id', [{ path: 'id', message: 'expected a decimal id' }]);
      }
      let userId: string | undefined;
      try {
        const [rows] = await pools
          .meta()
          .query<RowDataPacket[]>(`SELECT \`user_id\` FROM ${locatorTable} WHERE \`order_id\` = ?`, [id]);
        userId = rows[0] === undefined ? undefined : String(rows[0].user_id);
      } catch (error) {
        throw classifyMysqlError(error, 'read order locator');
      }
      if (userId === undefined) return null;
      const location = router.route(userId);
      return readStoredOrder({ pool: pools.forDatabase(location.database), router, location, where: { id } });
    },

    async getByPlatformKey(key) {
      const location = router.route(key.userId);
      const where = { platform: key.platform, account: key.account, platformOrderId: key.platformOrderId };
      return readStoredOrder({ pool: pools.forDatabase(location.database), router, location, where });
    },
  };
}

/** Keeps the newest version of each key; on equal versions the later one in the batch wins. */
function newestPerKey(orders: readonly UnifiedOrder[]): Map<string, UnifiedOrder> {
  const byKey = new Map<string, UnifiedOrder>();
  for (const order of orders) {
    const key = orderKey(order);
    const seen = byKey.get(key);
    if (!seen || order.updatedAt >= seen.updatedAt) byKey.set(key, order);
  }
  return byKey;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Decimal ids in numeric order (shorter is smaller), without parsing them. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || compareKeys(a, b);
}
