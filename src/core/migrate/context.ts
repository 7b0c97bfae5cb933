import type { Config } from '../config.js';
import { MysqlPools } from '../mysql-pools.js';
import { routerForConfig } from '../shard-admin.js';
import type { ShardRouter } from '../shard-router.js';
import { metaDatabaseOf } from './layouts.js';
import { MigrationStateStore } from './state.js';

/** What every migration step works with: the config's router and pools, and the state rows. */
export interface MigrationContext {
  config: Config;
  base: { router: ShardRouter; pools: MysqlPools };
  states: MigrationStateStore;
  close(): Promise<void>;
}

/**
 * Opens the config's pools with room for `connections` at once (the backfill's writers and
 * reader). Multiple statements are allowed: the server-side legacy copy sends each table's
 * transaction in one round trip (values are still escaped by the driver).
 */
export function openMigrationContext(config: Config, connections = 8): MigrationContext {
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, {
    connectionLimit: Math.max(config.mysql.connectionLimit, connections),
    multipleStatements: true,
  });
  return {
    config,
    base: { router, pools },
    states: new MigrationStateStore(pools.meta(), metaDatabaseOf(config)),
    close: () => pools.close(),
  };
}
