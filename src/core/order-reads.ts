import type { Pool, RowDataPacket } from 'mysql2/promise';
import { TradectlError } from './errors.js';
import { classifyMysqlError } from './mysql-errors.js';
import { orderFromRows, type StoredOrder } from './order-rows.js';
import { type OrderKey, selectLinesSql, selectOrderSql } from './order-store-sql.js';
import type { ShardLocation, ShardRouter } from './shard-router.js';

const ATTEMPTS = 3;

/**
 * Reads one order from its shard: the order with its details (one join), then its lines.
 *
 * The two statements are separate snapshots, so a writer may commit in between. Every row of an
 * order carries the order's version (details and lines are written with it, stale lines are
 * deleted), so a mismatch shows exactly that race, and the read is repeated.
 */
export async function readStoredOrder(input: {
  pool: Pool;
  router: ShardRouter;
  location: ShardLocation;
  where: { id: string } | OrderKey;
}): Promise<StoredOrder | null> {
  const { pool, router, location, where } = input;
  const orders = router.qualifiedTable(location, 'orders');
  const details = router.qualifiedTable(location, 'order_details');
  const lines = router.qualifiedTable(location, 'order_lines');
  try {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const [rows] = await pool.query<RowDataPacket[]>(selectOrderSql(orders, details, where));
      const row = rows[0];
      if (row === undefined) return null;
      if (row.d_updated_at === null) {
        throw new TradectlError('TRADECTL_ORDER_INCOMPLETE', `order ${row.id} has no details row`, {
          kind: 'data',
          details: { database: location.databaseName, table: location.tableSuffix },
        });
      }
      const [lineRows] = await pool.query<RowDataPacket[]>(selectLinesSql(lines, String(row.id)));
      const version = String(row.updated_at);
      const consistent =
        String(row.d_updated_at) === version && lineRows.every((line) => String(line.updated_at) === version);
      if (consistent) return orderFromRows(row, lineRows);
    }
  } catch (error) {
    throw classifyMysqlError(error, 'read order', { database: location.databaseName });
  }
  throw new TradectlError('TRADECTL_READ_CONFLICT', `order changed during ${ATTEMPTS} reads; try again`, {
    kind: 'transient',
    details: { database: location.databaseName, table: location.tableSuffix },
  });
}
