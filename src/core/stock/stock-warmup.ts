import type { Pool, RowDataPacket } from 'mysql2/promise';
import { classifyMysqlError } from '../mysql-errors.js';
import type { ShardRouter } from '../shard-router.js';
import { fromSqlDateTime, type Instant } from '../time.js';
import { stockTable } from './ledger-schema.js';
import type { StockService } from './stock-service.js';

/** One `inventory` row: the durable stock of a SKU as far as the ledger has drained. */
export interface InventoryRow {
  tenant: string;
  sku: string;
  onHand: number;
  reserved: number;
  version: number;
  updatedAt: Instant;
}

/**
 * A page of a tenant's inventory in SKU order, after `afterSku` (keyset pagination), optionally
 * only the SKUs named. For warm-up and reconciliation.
 */
export async function readInventory(input: {
  pool: Pool;
  router: ShardRouter;
  tenant: string;
  afterSku?: string;
  skus?: readonly string[];
  /** Default 500. */
  limit?: number;
}): Promise<InventoryRow[]> {
  const where = ['tenant = ?', 'sku > ?'];
  const values: (string | number)[] = [input.tenant, input.afterSku ?? ''];
  if (input.skus !== undefined) {
    if (input.skus.length === 0) return [];
    where.push(`sku IN (${input.skus.map(() => '?').join(', ')})`);
    values.push(...input.skus);
  }
  values.push(input.limit ?? 500);
  try {
    const [rows] = await input.pool.query<RowDataPacket[]>(
      `SELECT tenant, sku, on_hand, reserved, version, updated_at FROM ${stockTable(input.router, 'inventory')} ` +
        `WHERE ${where.join(' AND ')} ORDER BY sku LIMIT ?`,
      values,
    );
    return rows.map((row) => ({
      tenant: String(row.tenant),
      sku: String(row.sku),
      onHand: Number(row.on_hand),
      reserved: Number(row.reserved),
      version: Number(row.version),
      updatedAt: fromSqlDateTime(String(row.updated_at)),
    }));
  } catch (error) {
    throw classifyMysqlError(error, 'read inventory', { tenant: input.tenant });
  }
}

export interface WarmUpResult {
  /** SKUs Redis did not have, now loaded from MySQL. */
  loaded: number;
  /** SKUs Redis already had: left as they are (Redis is ahead of MySQL by the undrained ledger). */
  kept: number;
}

/**
 * Loads Redis from MySQL for every SKU of a tenant (or the ones named) that Redis lacks, under one
 * warm-up operation id. Safe to repeat and to run while selling: a SKU present in Redis is never
 * overwritten (see load-stock-2.lua).
 */
export async function warmUpStock(input: {
  service: StockService;
  pool: Pool;
  router: ShardRouter;
  tenant: string;
  operationId: string;
  skus?: readonly string[];
  onProgress?: (progress: WarmUpResult) => void;
}): Promise<WarmUpResult> {
  const result: WarmUpResult = { loaded: 0, kept: 0 };
  let afterSku = '';
  for (;;) {
    const page = await readInventory({
      pool: input.pool,
      router: input.router,
      tenant: input.tenant,
      afterSku,
      ...(input.skus === undefined ? {} : { skus: input.skus }),
    });
    if (page.length === 0) return result;
    for (const row of page) {
      const loaded = await input.service.load({
        tenant: input.tenant,
        operationId: input.operationId,
        sku: row.sku,
        // A negative on_hand (drift) is loaded as zero: Redis never holds less than nothing.
        onHand: Math.max(0, row.onHand),
        reserved: Math.max(0, row.reserved),
        version: row.version,
      });
      if (loaded.loaded) result.loaded++;
      else result.kept++;
    }
    input.onProgress?.({ ...result });
    afterSku = page[page.length - 1]!.sku;
  }
}
