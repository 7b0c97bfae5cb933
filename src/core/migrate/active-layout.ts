import type { Config } from '../config.js';
import type { MysqlPools } from '../mysql-pools.js';
import type { ShardRouter } from '../shard-router.js';
import { configLayout, type LayoutHandle, type LayoutSpec, layoutHandle, metaDatabaseOf } from './layouts.js';
import { writePlan } from './phases.js';
import { type MigrationState, MigrationStateStore } from './state.js';

/**
 * Which layout reads use: the config's until a migration says otherwise. A layout migration's
 * source is read until cutover and its target from then on (also after cleanup, when the
 * config may still describe the old layout: the state row is what records the move). A legacy
 * migration's target is the layout tradectl already used, so reads never change. This is also
 * the layout a new migration starts from.
 */
export function readLayoutOf(
  state: MigrationState | null,
  config: Pick<Config, 'mysql' | 'shards'>,
): LayoutSpec {
  if (state === null) return configLayout(config);
  if (state.source.kind === 'legacy') return state.target;
  return writePlan(state.phase).primary === 'source' ? state.source.layout : state.target;
}

/**
 * The handle every reader of orders should use (`tradectl orders list`, lookups): resolves the
 * migration state once. `base` are the config's router and pools; the handle borrows them.
 */
export async function resolveReadLayout(
  config: Pick<Config, 'mysql' | 'shards'>,
  base: { router: ShardRouter; pools: MysqlPools },
): Promise<LayoutHandle> {
  const state = await new MigrationStateStore(base.pools.meta(), metaDatabaseOf(config)).current();
  return layoutHandle(config, base, readLayoutOf(state, config));
}
