import { classifyMysqlError } from '../mysql-errors.js';
import type { MysqlPools } from '../mysql-pools.js';
import { type ShardLocation, ShardRouter } from '../shard-router.js';
import { forEachShardTransaction } from '../shard-workers.js';
import { type RowHash, sameSums } from './chunk-sums.js';
import type { LayoutWriter } from './layout-writer.js';
import type { LayoutHandle } from './layouts.js';
import type { IdentifiedOrder } from './legacy-mapping.js';

/**
 * Row-level comparison of one key range, and its repair: the target is made equal to the
 * source for exactly the orders that differ. Orders the target has and the source does not are
 * deleted; orders that differ are deleted and copied again (a plain versioned re-copy could not
 * undo a target row that is newer or has an extra line); missing orders are copied.
 */
export interface RowDiff {
  missing: string[];
  extra: string[];
  different: string[];
}

export function diffRows(source: Map<string, RowHash>, target: Map<string, RowHash>): RowDiff {
  const diff: RowDiff = { missing: [], extra: [], different: [] };
  for (const [id, row] of source) {
    const other = target.get(id);
    if (other === undefined) diff.missing.push(id);
    else if (!sameSums(row.sums, other.sums)) diff.different.push(id);
  }
  for (const id of target.keys()) if (!source.has(id)) diff.extra.push(id);
  return diff;
}

export async function repairRows(input: {
  diff: RowDiff;
  target: LayoutHandle;
  targetRows: Map<string, RowHash>;
  /** The source orders of the range (at least those missing or different). */
  sourceOrders: (ids: readonly string[]) => Promise<IdentifiedOrder[]>;
  write: LayoutWriter;
}): Promise<void> {
  const { diff, target } = input;
  const doomed = [...diff.extra, ...diff.different].map((id) => ({
    id,
    location: input.targetRows.get(id)!.location!,
  }));
  await deleteOrders(target.pools, target.router, doomed);
  const copy = [...diff.missing, ...diff.different];
  if (copy.length > 0) await input.write(await input.sourceOrders(copy));
}

/** Deletes every row of these orders (orders, details, lines), one transaction per shard. */
async function deleteOrders(
  pools: MysqlPools,
  router: ShardRouter,
  orders: readonly { id: string; location: ShardLocation }[],
): Promise<void> {
  const byShard = new Map<string, { location: ShardLocation; ids: string[] }>();
  for (const { id, location } of orders) {
    const key = ShardRouter.key(location);
    const group = byShard.get(key) ?? { location, ids: [] };
    group.ids.push(id);
    byShard.set(key, group);
  }
  await forEachShardTransaction(
    [...byShard.values()],
    { concurrency: 4, poolOf: (group) => pools.forDatabase(group.location.database) },
    async ({ connection }, { location, ids }) => {
      // CAST each id: an IN list of strings against BIGINT would be compared as doubles.
      const list = ids.map(() => 'CAST(? AS UNSIGNED)').join(', ');
      try {
        for (const [kind, key] of [
          ['order_lines', 'order_id'],
          ['order_details', 'order_id'],
          ['orders', 'id'],
        ] as const) {
          await connection.query(
            `DELETE FROM ${router.qualifiedTable(location, kind)} WHERE ${key} IN (${list})`,
            ids,
          );
        }
        await connection.query('COMMIT');
      } catch (error) {
        throw classifyMysqlError(error, 'delete target orders', { database: location.databaseName });
      }
    },
  );
}
