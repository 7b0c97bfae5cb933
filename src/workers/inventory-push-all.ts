import type { Pool, RowDataPacket } from 'mysql2/promise';
import { forEachBounded } from '../core/bounded-concurrency.js';
import { classifyMysqlError } from '../core/mysql-errors.js';
import type { ShardRouter } from '../core/shard-router.js';
import { listingsTable } from '../core/stock/listing-schema.js';
import { type PushSkuDeps, pushSku, type SkuPush } from './inventory-push-job.js';

/**
 * `tradectl stock push`: the operator's full re-push. Every internal SKU that has a listing (of
 * one tenant, or one SKU) is pushed once, now, with the quantity its rules give — after a
 * restore, a rules change, new listings, or a channel that drifted. The SKUs are read a page at
 * a time in (tenant, sku) order from the listings table's internal index, so memory stays flat
 * whatever the catalogue's size.
 */

export interface RepushOptions {
  /** The meta database's pool: `MysqlPools.meta()`. */
  pool: Pool;
  router: ShardRouter;
  deps: PushSkuDeps;
  /** Only this tenant's SKUs. */
  tenant?: string | undefined;
  /** Only this SKU (of `tenant`). */
  sku?: string | undefined;
  dryRun: boolean;
  /** SKUs pushed at once. */
  concurrency: number;
  /** Each SKU's result as it comes. */
  onSku?(result: SkuPush): void;
  signal?: AbortSignal;
}

export interface RepushSummary {
  skus: number;
  applied: number;
  /** Listings whose write failed (transient or not): the command reports them, it does not loop. */
  failed: number;
  skipped: number;
  dryRun: boolean;
}

const PAGE = 500;

export async function repushInventory(options: RepushOptions): Promise<RepushSummary> {
  const summary: RepushSummary = { skus: 0, applied: 0, failed: 0, skipped: 0, dryRun: options.dryRun };
  let after: { tenant: string; sku: string } | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await skuPage(options, after);
    await forEachBounded(page, options.concurrency, async (target) => {
      const result = await pushSku(options.deps, {
        ...target,
        dryRun: options.dryRun,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      summary.skus++;
      for (const listing of result.listings) {
        if (listing.status === 'applied') summary.applied++;
        else if (listing.status === 'retry' || listing.status === 'failed') summary.failed++;
        else if (listing.status === 'skipped') summary.skipped++;
      }
      options.onSku?.(result);
    });
    if (page.length < PAGE) return summary;
    after = page.at(-1);
  }
}

async function skuPage(
  options: RepushOptions,
  after: { tenant: string; sku: string } | undefined,
): Promise<{ tenant: string; sku: string }[]> {
  const where: string[] = [];
  const values: (string | number)[] = [];
  if (options.tenant !== undefined) {
    where.push('tenant = ?');
    values.push(options.tenant);
  }
  if (options.sku !== undefined) {
    where.push('sku = ?');
    values.push(options.sku);
  }
  if (after) {
    where.push('(tenant, sku) > (?, ?)');
    values.push(after.tenant, after.sku);
  }
  values.push(PAGE);
  try {
    const [rows] = await options.pool.query<RowDataPacket[]>(
      `SELECT DISTINCT tenant, sku FROM ${listingsTable(options.router)}` +
        `${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY tenant, sku LIMIT ?`,
      values,
    );
    return rows.map((row) => ({ tenant: String(row.tenant), sku: String(row.sku) }));
  } catch (error) {
    throw classifyMysqlError(error, 'list the SKUs to push');
  }
}
