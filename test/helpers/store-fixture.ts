import type { Config } from '../../src/core/config.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import type { ShardRouter } from '../../src/core/shard-router.js';
import { dropDatabases, testConfig } from './services.js';

/** A fresh small shard layout (own database prefix) with its pools, created and torn down by the test. */
export interface StoreFixture {
  config: Config;
  router: ShardRouter;
  pools: MysqlPools;
  close(): Promise<void>;
}

export async function createStoreFixture(
  layout: { databases: number; tablesPerDatabase: number } = { databases: 4, tablesPerDatabase: 8 },
  connectionLimit = 8,
): Promise<StoreFixture> {
  const config = testConfig({ shards: layout });
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, { connectionLimit });
  await initShards({ config, pools, router });
  return {
    config,
    router,
    pools,
    async close() {
      await pools.close();
      await dropDatabases(config);
    },
  };
}
