import type { Config } from '../config.js';
import type { MysqlPools } from '../mysql-pools.js';
import type { ShardRouter } from '../shard-router.js';
import type { ChecksumProfile, Chunking } from './checksum-sql.js';
import {
  type ChunkSums,
  layoutChunkSums,
  layoutRowHashes,
  layoutStats,
  legacyChunkSums,
  legacyRowHashes,
  type RowHash,
} from './chunk-sums.js';
import { copyOrderIntents, keyedOrders } from './layout-intents.js';
import { readLayoutBatch, readLayoutRange } from './layout-source.js';
import { createLayoutWriter, type LayoutWriter, withoutCurrent } from './layout-writer.js';
import { type LayoutHandle, layoutHandle } from './layouts.js';
import { canCopyOnServer, createLegacyBulkCopier, type LegacyBulkCopier } from './legacy-bulk.js';
import { type IdentifiedOrder, legacyRowToOrder } from './legacy-mapping.js';
import { legacyStats, readLegacyRows } from './legacy-table.js';
import type { BackfillCheckpoint, MigrationState } from './state.js';

/**
 * The two sides of a migration as verify and the repair see them: each can count its rows,
 * checksum them per chunk, hash them row by row, and (the source) hand out whole orders.
 */
export interface Side {
  stats(): Promise<{ rows: number; lo: bigint | null; hi: bigint | null }>;
  sums(chunking: Chunking): Promise<ChunkSums>;
  rows(range: { lo: bigint; hi: bigint }): Promise<Map<string, RowHash>>;
  /** The whole orders with these ids, all inside `range`. */
  orders(range: { lo: bigint; hi: bigint }, ids: readonly string[]): Promise<IdentifiedOrder[]>;
}

export interface MigrationSides {
  source: Side;
  target: Side;
  targetHandle: LayoutHandle;
  /**
   * Writes into the target under the source's ids (the locator too for a legacy source; the
   * orders' stock intents too for a layout source).
   */
  writeTarget: LayoutWriter;
  /** The newest id the backfill copies and verify compares; null: up to the source's newest. */
  highKey: bigint | null;
  /** A legacy source on the target's server: copies batches without passing them through here. */
  serverCopier?: () => Promise<LegacyBulkCopier>;
  /** The backfill's next batch after `from` (keyset), where it ends, and whether the source is done. */
  readBatch(
    from: BackfillCheckpoint | null,
    limit: number,
  ): Promise<{ items: IdentifiedOrder[]; next: BackfillCheckpoint; done: boolean }>;
}

export function migrationSides(
  config: Pick<Config, 'mysql' | 'shards'>,
  base: { router: ShardRouter; pools: MysqlPools },
  state: MigrationState,
  writerConcurrency = 4,
): MigrationSides {
  const targetHandle = layoutHandle(config, base, state.target);
  const legacy = state.source.kind === 'legacy' ? state.source.legacy : null;
  const profile: ChecksumProfile =
    legacy === null
      ? { kind: 'full' }
      : {
          kind: 'legacy',
          platform: legacy.platform,
          account: legacy.account,
          precision: legacy.timePrecision,
        };
  const layoutSide = (handle: LayoutHandle): Side => ({
    stats: () => layoutStats(handle, profile),
    sums: (chunking) => layoutChunkSums(handle, profile, chunking),
    rows: (range) => layoutRowHashes(handle, profile, range),
    orders: async (range, ids) => {
      const wanted = new Set(ids);
      return (await readLayoutRange(handle, String(range.lo), String(range.hi))).filter((item) =>
        wanted.has(item.id),
      );
    },
  });
  let source: Side;
  let readBatch: MigrationSides['readBatch'];
  let sourceHandle: LayoutHandle | null = null;
  if (state.source.kind === 'layout') {
    const handle = layoutHandle(config, base, state.source.layout);
    sourceHandle = handle;
    source = layoutSide(handle);
    readBatch = (from, limit) => readLayoutBatch(handle, from, limit);
  } else {
    const pool = base.pools.meta();
    const spec = state.source.legacy;
    source = {
      stats: async () => {
        const stats = await legacyStats(pool, spec, spec.highKey);
        return {
          rows: stats.rows,
          lo: stats.minId === null ? null : BigInt(stats.minId),
          hi: stats.maxId === null ? null : BigInt(stats.maxId),
        };
      },
      sums: (chunking) => legacyChunkSums(pool, spec, chunking),
      rows: async (range) => (await legacyRowHashes(pool, spec, range)).hashes,
      orders: async (range, ids) => {
        const { orders } = await legacyRowHashes(pool, spec, range);
        return ids.map((id) => orders.get(id)).filter((item) => item !== undefined);
      },
    };
    readBatch = async (from, limit) => {
      const afterId = from?.afterId ?? null;
      // An empty table at start has no high key: nothing to copy.
      if (spec.highKey === null) return { items: [], next: { table: 0, afterId }, done: true };
      const rows = await readLegacyRows(pool, spec, { afterId, upTo: spec.highKey }, limit);
      return {
        items: rows.map((row) => legacyRowToOrder(row, spec)),
        next: { table: 0, afterId: rows.length > 0 ? String(rows.at(-1)!.id) : afterId },
        done: rows.length < limit,
      };
    };
  }
  const write = createLayoutWriter({
    pools: targetHandle.pools,
    router: targetHandle.router,
    writeLocator: legacy !== null,
    concurrency: writerConcurrency,
  });
  const layoutCopy = sourceHandle;
  return {
    source,
    target: layoutSide(targetHandle),
    targetHandle,
    writeTarget:
      layoutCopy !== null
        ? // The orders, then their stock intents (layout-intents.ts): the backfill and the repair.
          async (items) => {
            const result = await write(items);
            await copyOrderIntents(layoutCopy, targetHandle, keyedOrders(items));
            return result;
          }
        : async (items) => write(await withoutCurrent(targetHandle.pools, targetHandle.router, items)),
    highKey: legacy?.highKey == null ? null : BigInt(legacy.highKey),
    readBatch,
    serverCopier:
      legacy !== null && canCopyOnServer(targetHandle, config.mysql.url)
        ? () =>
            createLegacyBulkCopier({
              pool: base.pools.meta(),
              legacy,
              target: targetHandle,
              migrationId: state.id,
              concurrency: writerConcurrency,
            })
        : undefined,
  };
}
