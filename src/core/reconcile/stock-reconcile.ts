import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { Logger } from '../logger.js';
import { classifyMysqlError } from '../mysql-errors.js';
import type { ShardRouter } from '../shard-router.js';
import { type TenantKeys, tenantKeys, tenantRegistryKey } from '../stock/keys.js';
import { stockTable } from '../stock/ledger-schema.js';
import { redisFailure } from '../stock/stock-runtime.js';
import { readInventory } from '../stock/stock-warmup.js';
import type { DriftNotifier, ReconcileMetrics } from './drift-report.js';
import { repairSku } from './stock-repair.js';
import { skusInFlight, snapshotSkus } from './stock-snapshot.js';
import { driftOf, type RedisLevel, type SkuTruth, type StockDrift } from './stock-truth.js';

/**
 * `tradectl reconcile stock`: every SKU of every tenant (or the ones named), Redis against the
 * MySQL truth counting the ledger entries in flight (stock-snapshot.ts), each difference
 * reported; with `fix`, Redis is put back on the truth by a compare-and-set that refuses when
 * the SKU changed since it was read (then it is read again, up to `maxFixAttempts` times).
 */
export interface StockReconcileOptions {
  /** A client without the ioredis keyPrefix option. */
  redis: Redis;
  /** The meta database's pool. */
  pool: Pool;
  router: ShardRouter;
  /** `config.redis.keyPrefix`. */
  keyPrefix: string;
  logger: Logger;
  /** Only this tenant. Default: every tenant Redis or MySQL knows. */
  tenant?: string | undefined;
  /** Only these SKUs (of each tenant). Default: every SKU either side has. */
  skus?: readonly string[] | undefined;
  fix?: boolean | undefined;
  /** The ledger drain's consumer group. Default `ledger`. */
  group?: string;
  /** SKUs per snapshot. Default 500. */
  batchSize?: number;
  /** Compare-and-set attempts per SKU before it is reported as not fixed. Default 5. */
  maxFixAttempts?: number;
  /** Unix ms: the `now` of repairs. Default `Date.now`. */
  clock?: () => number;
  metrics?: ReconcileMetrics | undefined;
  notify?: DriftNotifier | undefined;
  /** Names this run's repairs in the ledger (`reconcile:<run>:<n>`). Default: random. */
  runId?: string;
}

export type RepairState = 'fixed' | 'cleared' | 'failed' | 'unrepairable';

export interface StockDriftItem extends StockDrift {
  /** With `fix`: fixed (repaired), cleared (gone when read again), failed, unrepairable. */
  repair?: RepairState;
  /** What Redis holds after the repair. */
  repaired?: RedisLevel;
  attempts?: number;
}

export interface StockReconcileResult {
  runId: string;
  tenants: string[];
  /** SKUs compared. */
  skus: number;
  drift: StockDriftItem[];
  fixed: number;
  /** Drift still there at the end (all of it without `fix`). */
  remaining: number;
}

export async function reconcileStock(options: StockReconcileOptions): Promise<StockReconcileResult> {
  const runId = options.runId ?? randomBytes(6).toString('hex');
  const group = options.group ?? 'ledger';
  const batchSize = options.batchSize ?? 500;
  const logger = options.logger.child({ component: 'reconcile', subject: 'stock', run: runId });
  const tenants = options.tenant === undefined ? await listTenants(options) : [options.tenant];
  const result: StockReconcileResult = { runId, tenants, skus: 0, drift: [], fixed: 0, remaining: 0 };
  let repairs = 0;
  for (const tenant of tenants) {
    const keys = tenantKeys(options.keyPrefix, tenant);
    const skus = options.skus ? [...new Set(options.skus)].sort() : await listSkus(options, keys, group);
    result.skus += skus.length;
    for (let at = 0; at < skus.length; at += batchSize) {
      const batch = skus.slice(at, at + batchSize);
      const truths = await snapshotSkus({ ...options, keys, group, skus: batch });
      for (const truth of truths) {
        const drift = driftOf(tenant, truth);
        if (drift === null) continue;
        options.metrics?.drift.inc({ subject: 'stock', problem: drift.problem });
        logger.warn(
          {
            tenant,
            sku: drift.sku,
            problem: drift.problem,
            redis: drift.redis,
            expected: drift.expected,
            pending: drift.pending,
          },
          'stock drift: Redis differs from the MySQL truth',
        );
        const item: StockDriftItem = { ...drift };
        if (options.fix) {
          await fixOne(item, truth, {
            ...options,
            keys,
            group,
            nextOperationId: () => `reconcile:${runId}:${++repairs}`,
            logger,
          });
          options.metrics?.repairs.inc({
            subject: 'stock',
            outcome: item.repair === 'fixed' || item.repair === 'cleared' ? 'fixed' : 'failed',
          });
        }
        result.drift.push(item);
      }
    }
  }
  result.fixed = result.drift.filter((item) => item.repair === 'fixed' || item.repair === 'cleared').length;
  result.remaining = result.drift.length - result.fixed;
  if (result.drift.length > 0 && options.notify) {
    await options.notify({
      subject: 'stock',
      runId,
      at: new Date(options.clock?.() ?? Date.now()).toISOString(),
      skus: result.skus,
      drift: result.drift.length,
      fixed: result.fixed,
      remaining: result.remaining,
      items: result.drift.slice(0, 100),
    });
  }
  return result;
}

async function fixOne(
  item: StockDriftItem,
  first: SkuTruth,
  context: StockReconcileOptions & {
    keys: TenantKeys;
    group: string;
    nextOperationId: () => string;
    logger: Logger;
  },
): Promise<void> {
  const maxAttempts = context.maxFixAttempts ?? 5;
  const clock = context.clock ?? Date.now;
  // The registry is how the drain finds a stream: a tenant known only to MySQL (Redis lost
  // everything) gets its repairs drained too.
  await context.redis.sadd(tenantRegistryKey(context.keyPrefix), context.keys.tenant).catch((error) => {
    throw redisFailure('register the stock tenant', error);
  });
  let truth = first;
  let highestVersion = first.highestVersion;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    item.attempts = attempt;
    const outcome = await repairSku({
      redis: context.redis,
      keys: context.keys,
      sku: item.sku,
      operationId: context.nextOperationId(),
      now: clock(),
      snapshotId: truth.snapshotId,
      seen: truth.redis,
      expected: truth.expected ?? { available: 0, reserved: 0 },
      versionFloor: highestVersion + 1,
    });
    if (outcome.status === 'applied') {
      item.repair = 'fixed';
      item.repaired = outcome.level;
      context.logger.warn({ tenant: item.tenant, sku: item.sku, now: outcome.level }, 'stock drift repaired');
      return;
    }
    if (outcome.status === 'negative') {
      item.repair = 'unrepairable';
      context.logger.error(
        { tenant: item.tenant, sku: item.sku, truth: outcome.target },
        'stock truth is below zero (sold beyond it while Redis was drifted): not repaired, an operator must look',
      );
      return;
    }
    // Changed behind the scripts' back again since the read (or too busy to check): read again.
    [truth] = (await snapshotSkus({ ...context, skus: [item.sku] })) as [SkuTruth];
    highestVersion = Math.max(highestVersion, truth.highestVersion);
    if (driftOf(item.tenant, truth) === null) {
      item.repair = 'cleared';
      return;
    }
  }
  item.repair = 'failed';
  context.logger.error(
    { tenant: item.tenant, sku: item.sku, attempts: maxAttempts },
    'stock drift not repaired: the SKU kept changing behind the scripts between read and repair',
  );
}

/** Tenants with a stream (the drain's registry) or inventory rows, sorted. */
async function listTenants(options: StockReconcileOptions): Promise<string[]> {
  let registered: string[];
  try {
    registered = await options.redis.smembers(tenantRegistryKey(options.keyPrefix));
  } catch (error) {
    throw redisFailure('list stock tenants', error);
  }
  let stored: RowDataPacket[];
  try {
    [stored] = await options.pool.query<RowDataPacket[]>(
      `SELECT DISTINCT tenant FROM ${stockTable(options.router, 'inventory')}`,
    );
  } catch (error) {
    throw classifyMysqlError(error, 'list inventory tenants');
  }
  return [...new Set([...registered, ...stored.map((row) => String(row.tenant))])].sort();
}

/**
 * Every SKU of a tenant that Redis has a hash for, MySQL an inventory row for, or an undrained
 * stream entry names, sorted.
 */
async function listSkus(options: StockReconcileOptions, keys: TenantKeys, group: string): Promise<string[]> {
  const skus = await skusInFlight({ redis: options.redis, keys, group });
  const prefix = keys.stock('');
  try {
    let cursor = '0';
    do {
      const [next, found] = await options.redis.scan(
        cursor,
        'MATCH',
        `${globEscape(prefix)}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      for (const key of found) skus.add(key.slice(prefix.length));
    } while (cursor !== '0');
  } catch (error) {
    throw redisFailure('list stock keys', error);
  }
  let afterSku = '';
  for (;;) {
    const page = await readInventory({
      pool: options.pool,
      router: options.router,
      tenant: keys.tenant,
      afterSku,
      limit: 1000,
    });
    for (const row of page) skus.add(row.sku);
    if (page.length < 1000) break;
    afterSku = page[page.length - 1]!.sku;
  }
  return [...skus].sort();
}

/** A literal for a Redis MATCH pattern: `*`, `?`, `[`, `]` and `\` lose their meaning. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
