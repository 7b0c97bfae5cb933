import type { Pool, RowDataPacket } from 'mysql2/promise';
import { forEachBounded } from '../bounded-concurrency.js';
import { TradectlError } from '../errors.js';
import { classifyMysqlError } from '../mysql-errors.js';
import { DETAIL_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS, orderFromRows } from '../order-rows.js';
import type { ShardLocation, ShardRouter } from '../shard-router.js';
import type { LayoutHandle } from './layouts.js';
import type { IdentifiedOrder } from './legacy-mapping.js';
import type { BackfillCheckpoint } from './state.js';

/**
 * Reads whole orders (orders + details + lines rows) out of a shard layout: in keyset batches
 * for the backfill (table by table in ShardRouter#all order, by id within a table; never
 * OFFSET), and by id range for verify's repair. Each table is read in one consistent snapshot,
 * so an order's three rows are of one version even while the dual write updates it.
 */

const ORDER_SELECT = [
  ...ORDER_COLUMNS.map((column) => `o.\`${column}\``),
  ...DETAIL_COLUMNS.filter((column) => column !== 'order_id').map(
    (column) => `d.\`${column}\` AS \`d_${column}\``,
  ),
].join(', ');

type TableWhere = { afterId: string | null; limit: number } | { lo: string; hi: string };

/** The orders of one shard table matching `where`, in id order, with their details and lines. */
export async function readTableOrders(
  pool: Pool,
  router: ShardRouter,
  location: ShardLocation,
  where: TableWhere,
): Promise<IdentifiedOrder[]> {
  const orders = router.qualifiedTable(location, 'orders');
  const details = router.qualifiedTable(location, 'order_details');
  const lines = router.qualifiedTable(location, 'order_lines');
  let sql = `SELECT ${ORDER_SELECT} FROM ${orders} AS o LEFT JOIN ${details} AS d ON d.\`order_id\` = o.\`id\``;
  const values: unknown[] = [];
  // CAST keeps the comparisons integer: a string compared with BIGINT is compared as a double.
  if ('lo' in where) {
    sql += ' WHERE o.`id` BETWEEN CAST(? AS UNSIGNED) AND CAST(? AS UNSIGNED) ORDER BY o.`id`';
    values.push(where.lo, where.hi);
  } else {
    if (where.afterId !== null) {
      sql += ' WHERE o.`id` > CAST(? AS UNSIGNED)';
      values.push(where.afterId);
    }
    sql += ' ORDER BY o.`id` LIMIT ?';
    values.push(where.limit);
  }
  let connection: Awaited<ReturnType<Pool['getConnection']>> | undefined;
  let broken = false;
  try {
    connection = await pool.getConnection();
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [orderRows] = await connection.query<RowDataPacket[]>(sql, values);
    let lineRows: RowDataPacket[] = [];
    if (orderRows.length > 0) {
      [lineRows] = await connection.query<RowDataPacket[]>(
        `SELECT ${LINE_COLUMNS.map((column) => `\`${column}\``).join(', ')} FROM ${lines} ` +
          'WHERE `order_id` BETWEEN CAST(? AS UNSIGNED) AND CAST(? AS UNSIGNED) ORDER BY `order_id`, `line_no`, `line_id`',
        [String(orderRows[0]!.id), String(orderRows.at(-1)!.id)],
      );
    }
    await connection.query('COMMIT');
    return assemble(orderRows, lineRows, location);
  } catch (error) {
    await connection?.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw classifyMysqlError(error, 'read source orders', {
      database: location.databaseName,
      table: location.tableSuffix,
    });
  } finally {
    // A connection whose ROLLBACK failed may still hold the snapshot: never pool it again.
    if (broken) connection?.destroy();
    else connection?.release();
  }
}

function assemble(
  orderRows: RowDataPacket[],
  lineRows: RowDataPacket[],
  location: ShardLocation,
): IdentifiedOrder[] {
  const linesById = new Map<string, RowDataPacket[]>();
  for (const line of lineRows) {
    const id = String(line.order_id);
    const list = linesById.get(id);
    if (list) list.push(line);
    else linesById.set(id, [line]);
  }
  return orderRows.map((row) => {
    const id = String(row.id);
    const lines = linesById.get(id) ?? [];
    const version = String(row.updated_at);
    // One snapshot, and every row of an order carries its version: a mismatch means the rows
    // were not written by the store (or the server ignored the snapshot). Never copy a torn order.
    if (
      row.d_updated_at === null ||
      String(row.d_updated_at) !== version ||
      lines.some((l) => String(l.updated_at) !== version)
    ) {
      throw new TradectlError('TRADECTL_READ_CONFLICT', `order ${id} has rows of different versions`, {
        kind: 'transient',
        details: { database: location.databaseName, table: location.tableSuffix, order: id },
      });
    }
    const { id: _id, storedAt: _storedAt, ...order } = orderFromRows(row, lines);
    return { id, order };
  });
}

/**
 * The next batch after `from`: up to `limit` orders, continuing over empty or finished tables.
 * `next` is where the batch ends; `done` when every table is read to its end.
 */
export async function readLayoutBatch(
  handle: LayoutHandle,
  from: BackfillCheckpoint | null,
  limit: number,
): Promise<{ items: IdentifiedOrder[]; next: BackfillCheckpoint; done: boolean }> {
  const locations = [...handle.router.all()];
  let table = from?.table ?? 0;
  let afterId = from?.afterId ?? null;
  const items: IdentifiedOrder[] = [];
  while (table < locations.length && items.length < limit) {
    const location = locations[table]!;
    const want = limit - items.length;
    const read = await readTableOrders(handle.pools.forDatabase(location.database), handle.router, location, {
      afterId,
      limit: want,
    });
    items.push(...read);
    if (read.length < want) {
      table++;
      afterId = null;
    } else {
      afterId = read.at(-1)!.id;
    }
  }
  return { items, next: { table, afterId }, done: table >= locations.length };
}

/** Every order with lo <= id <= hi, from every table of the layout. */
export async function readLayoutRange(
  handle: LayoutHandle,
  lo: string,
  hi: string,
): Promise<IdentifiedOrder[]> {
  const out: IdentifiedOrder[] = [];
  await forEachBounded([...handle.router.all()], 4, async (location) => {
    out.push(
      ...(await readTableOrders(handle.pools.forDatabase(location.database), handle.router, location, {
        lo,
        hi,
      })),
    );
  });
  return out;
}
