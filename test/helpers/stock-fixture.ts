import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import type { Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { routerForConfig } from '../../src/core/shard-admin.js';
import type { ShardRouter } from '../../src/core/shard-router.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { LedgerDrain, type LedgerDrainOptions } from '../../src/core/stock/ledger-drain.js';
import { initStockTables, stockTable } from '../../src/core/stock/ledger-schema.js';
import { StockService, type StockServiceOptions } from '../../src/core/stock/stock-service.js';
import { dropDatabases, REDIS_URL, testConfig } from './services.js';

/**
 * A fresh stock setup per test file: its own Redis key prefix and meta database (stock tables
 * created), with helpers to compare MySQL with Redis. `close()` removes both.
 */
export interface StockFixture {
  config: Config;
  router: ShardRouter;
  pools: MysqlPools;
  redis: Redis;
  keyPrefix: string;
  service(options?: Partial<StockServiceOptions>): StockService;
  drain(options?: Partial<LedgerDrainOptions>): LedgerDrain;
  /** inventory row of a SKU, or undefined. */
  inventory(
    sku: string,
    tenant?: string,
  ): Promise<{ onHand: number; reserved: number; version: number } | undefined>;
  /** Ledger rows of a SKU by kind. */
  ledgerCounts(sku: string, tenant?: string): Promise<Record<string, number>>;
  /** Redis stock of a SKU, read directly (not through the service). */
  redisStock(
    sku: string,
    tenant?: string,
  ): Promise<{ available: number; reserved: number; version: number } | undefined>;
  close(): Promise<void>;
}

export async function createStockFixture(redisUrl = REDIS_URL): Promise<StockFixture> {
  const config = testConfig({ shards: { databases: 1, tablesPerDatabase: 1 } });
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router);
  await initStockTables({ pool: pools.meta(), router });
  const redis = new Redis(redisUrl);
  // Outages are seen through failed commands; an unobserved 'error' event would only add noise.
  redis.on('error', () => undefined);
  const keyPrefix = config.redis.keyPrefix;
  return {
    config,
    router,
    pools,
    redis,
    keyPrefix,
    service: (options = {}) => new StockService({ redis, keyPrefix, ...options }),
    drain: (options = {}) =>
      new LedgerDrain({
        redis,
        pool: pools.meta(),
        router,
        keyPrefix,
        logger: silentLogger(),
        pollIntervalMs: 20,
        ...options,
      }),
    async inventory(sku, tenant = 'default') {
      const [rows] = await pools
        .meta()
        .query<RowDataPacket[]>(
          `SELECT on_hand, reserved, version FROM ${stockTable(router, 'inventory')} WHERE tenant = ? AND sku = ?`,
          [tenant, sku],
        );
      const row = rows[0];
      return (
        row && { onHand: Number(row.on_hand), reserved: Number(row.reserved), version: Number(row.version) }
      );
    },
    async ledgerCounts(sku, tenant = 'default') {
      const [rows] = await pools
        .meta()
        .query<RowDataPacket[]>(
          `SELECT kind, COUNT(*) AS n FROM ${stockTable(router, 'stock_ledger')} WHERE tenant = ? AND sku = ? GROUP BY kind`,
          [tenant, sku],
        );
      return Object.fromEntries(rows.map((row) => [String(row.kind), Number(row.n)]));
    },
    async redisStock(sku, tenant = 'default') {
      const [available, reserved, version] = await redis.hmget(
        tenantKeys(keyPrefix, tenant).stock(sku),
        'available',
        'reserved',
        'version',
      );
      if (available === null) return undefined;
      return { available: Number(available), reserved: Number(reserved ?? 0), version: Number(version ?? 0) };
    },
    async close() {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await pools.close();
      await dropDatabases(config);
    },
  };
}

/** MySQL's view of a SKU next to Redis's, in the same shape: equal once the ledger is drained. */
export async function bothSides(
  fixture: StockFixture,
  sku: string,
  tenant = 'default',
): Promise<{ redis: unknown; mysql: unknown }> {
  const stock = await fixture.redisStock(sku, tenant);
  const row = await fixture.inventory(sku, tenant);
  return {
    redis: stock && {
      onHand: stock.available + stock.reserved,
      reserved: stock.reserved,
      version: stock.version,
    },
    mysql: row,
  };
}
