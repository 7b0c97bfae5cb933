import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { MysqlPools } from '../mysql-pools.js';
import { orderKey, type UnifiedOrder } from '../order.js';
import type { StockIntentOptions } from '../order-stock/intent-writes.js';
import { createOrderStore, type OrderStore, type UpsertResult } from '../order-store.js';
import type { ShardRouter } from '../shard-router.js';
import { createLayoutWriter } from './layout-writer.js';
import { configLayout, type LayoutHandle, layoutHandle, metaDatabaseOf, sameLayout } from './layouts.js';
import type { IdentifiedOrder, LegacySource } from './legacy-mapping.js';
import { createLegacyMirror } from './legacy-table.js';
import { writePlan } from './phases.js';
import { type MigrationState, MigrationStateStore } from './state.js';

/**
 * The order store as a running migration wants it, picked up without a restart: the wrapped
 * store re-reads the migration state at most every `refreshMs` (on the first write after that),
 * and writes through the store its phase calls for:
 *
 *   no migration, planned, aborted   the source layout only (the config's store, unchanged)
 *   started, backfilled, verified    DualWriteOrderStore: the source, then the target
 *   cut_over                         DualWriteOrderStore: the target, then the source
 *   cleaned_up                       the target layout only
 *
 * A legacy migration writes the layout (which owns the order ids) and, from start until
 * cleanup, mirrors each order into the legacy table second. Reads (`getById`,
 * `getByPlatformKey`) go to the store written first.
 *
 * When the state cannot be read the write fails (the bus redelivers the batch), so no batch is
 * written under a phase older than `refreshMs` plus the batch's own duration: the backfill and
 * cleanup wait longer than that (their `--settle`) before relying on the new phase.
 */
export interface ShardMigrationDeps {
  config: Pick<Config, 'mysql' | 'shards'>;
  /** The config's router and pools (the wrapped store's). */
  router: ShardRouter;
  pools: MysqlPools;
  nextId: () => string;
  logger: Logger;
  /** How old the state may be before a write re-reads it. Default 5000 ms. */
  refreshMs?: number;
  /**
   * The wrapped store's stock intents (order stock outbox). The stock drainer reads the config's
   * layout, so in dual write the intents go with the write into that layout (the source before
   * cutover, still the source after it); when neither layout is the config's, with the first.
   */
  stockIntents?: StockIntentOptions | undefined;
  now?: () => number;
}

export const DEFAULT_REFRESH_MS = 5000;

export function withShardMigrations(base: OrderStore, deps: ShardMigrationDeps): OrderStore {
  const refreshMs = deps.refreshMs ?? DEFAULT_REFRESH_MS;
  const now = deps.now ?? Date.now;
  const states = new MigrationStateStore(deps.pools.meta(), metaDatabaseOf(deps.config));
  const logger = deps.logger.child({ component: 'shard-migration' });
  let current: { key: string; store: OrderStore; readAt: number } | undefined;
  let reading: Promise<OrderStore> | undefined;

  async function store(): Promise<OrderStore> {
    if (current && now() - current.readAt < refreshMs) return current.store;
    // One read for all the calls that find the state old at the same time.
    reading ??= (async () => {
      try {
        const state = await states.current();
        const key = state === null ? 'none' : `${state.id}:${state.phase}`;
        if (current?.key !== key) {
          const next = storeFor(state, base, deps);
          if (current !== undefined || state !== null) {
            logger.info(
              { migration: state?.id ?? null, phase: state?.phase ?? 'none', writes: next.describe },
              'shard migration state changed: order writes follow it',
            );
          }
          current = { key, store: next.store, readAt: now() };
        } else {
          current.readAt = now();
        }
        return current.store;
      } finally {
        reading = undefined;
      }
    })();
    return reading;
  }

  return {
    upsertBatch: async (orders) => (await store()).upsertBatch(orders),
    getById: async (id) => (await store()).getById(id),
    getByPlatformKey: async (key) => (await store()).getByPlatformKey(key),
  };
}

function storeFor(
  state: MigrationState | null,
  base: OrderStore,
  deps: ShardMigrationDeps,
): { store: OrderStore; describe: string } {
  if (state === null) return { store: base, describe: 'config layout' };
  const handleOf = (spec: LayoutHandle['spec']) => layoutHandle(deps.config, deps, spec);
  const isConfigLayout = (handle: LayoutHandle) => sameLayout(handle.spec, configLayout(deps.config));
  const single = (handle: LayoutHandle, withIntents = true) =>
    isConfigLayout(handle)
      ? base
      : createOrderStore({
          pools: handle.pools,
          router: handle.router,
          nextId: deps.nextId,
          stockIntents: withIntents ? deps.stockIntents : undefined,
        });
  const plan = writePlan(state.phase);
  if (state.source.kind === 'layout') {
    const handles = { source: handleOf(state.source.layout), target: handleOf(state.target) };
    if (plan.secondary === null) return { store: single(handles[plan.primary]), describe: plan.primary };
    const secondary = handles[plan.secondary];
    const intentsWithSecondary = isConfigLayout(secondary);
    const primary = single(handles[plan.primary], !intentsWithSecondary);
    const writer = createLayoutWriter({
      pools: secondary.pools,
      router: secondary.router,
      writeLocator: false,
      stockIntents: intentsWithSecondary ? deps.stockIntents : undefined,
    });
    return {
      store: createDualWriteOrderStore(primary, (items) => writer(items).then(() => undefined)),
      describe: `${plan.primary}, then ${plan.secondary}`,
    };
  }
  const layout = handleOf(state.target);
  const legacy = state.source.legacy;
  // Before start and after cleanup the legacy table is not written.
  if (state.phase === 'planned' || state.phase === 'aborted' || state.phase === 'cleaned_up') {
    return { store: single(layout), describe: 'layout' };
  }
  const reads = single(layout);
  const writer = createLayoutWriter({
    pools: layout.pools,
    router: layout.router,
    writeLocator: true,
    stockIntents: deps.stockIntents,
  });
  const primary: OrderStore = {
    upsertBatch: (orders) =>
      writer(orders.map((order) => ({ order, id: legacyAwareId(order, legacy, deps.nextId) }))),
    getById: (id) => reads.getById(id),
    getByPlatformKey: (key) => reads.getByPlatformKey(key),
  };
  return {
    store: createDualWriteOrderStore(primary, createLegacyMirror(deps.pools.meta(), legacy)),
    describe: 'layout, then the legacy table',
  };
}

/**
 * A legacy order keeps its legacy id wherever it is written from: an update of one that the
 * backfill has not copied yet must not get a fresh id, or the backfill's copy and the live
 * version would be two rows of one order.
 */
export function legacyAwareId(order: UnifiedOrder, legacy: LegacySource, nextId: () => string): string {
  const id = order.platformOrderId;
  const inKeySpace =
    order.platform === legacy.platform &&
    order.account === legacy.account &&
    legacy.highKey !== null &&
    /^\d{1,20}$/.test(id) &&
    BigInt(id) <= BigInt(legacy.highKey);
  return inKeySpace ? id : nextId();
}

/**
 * Writes a batch to `primary`, then the same orders under the ids the primary resolved to
 * `secondary`. A failure of either fails the batch, so the bus redelivers it; both writes are
 * idempotent versioned upserts, so the repeat is harmless. Reads go to the primary.
 */
export function createDualWriteOrderStore(
  primary: OrderStore,
  secondary: (items: readonly IdentifiedOrder[]) => Promise<void>,
): OrderStore {
  return {
    async upsertBatch(orders): Promise<UpsertResult> {
      const result = await primary.upsertBatch(orders);
      const items: IdentifiedOrder[] = [];
      for (const order of orders) {
        const id = result.ids.get(orderKey(order));
        if (id !== undefined) items.push({ order, id });
      }
      await secondary(items);
      return result;
    },
    getById: (id) => primary.getById(id),
    getByPlatformKey: (key) => primary.getByPlatformKey(key),
  };
}
