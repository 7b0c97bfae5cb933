import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { forEachBounded } from '../bounded-concurrency.js';
import { TradectlError } from '../errors.js';
import { classifyMysqlError } from '../mysql-errors.js';
import { chunks } from '../order-shard-write.js';
import type { LayoutHandle } from './layouts.js';
import { legacyBulkSql } from './legacy-bulk-sql.js';
import { type LegacyRow, type LegacySource, legacyRowToOrder } from './legacy-mapping.js';

/**
 * The legacy backfill done by the server: a batch never passes through this process. Per batch
 * (the SQL is legacy-bulk-sql.ts's):
 *
 *   1. the batch's end (a keyset scan: id > checkpoint, LIMIT n);
 *   2. the batch mapped into the stage (the mapping of legacy-mapping.ts written in SQL), beside a
 *      search for rows that mapping refuses: one is mapped here, so the error names row and field;
 *   3. staged orders the target already holds in the same or a newer version are dropped from the
 *      stage (a live order must not be replaced by the legacy table's lossy copy);
 *   4. per eight target tables, one transaction: for each table the versioned INSERT ... SELECT
 *      ... ON DUPLICATE KEY UPDATE into orders, then details and lines only for orders whose
 *      version applied, then the lines an older stored version had (none, unless the target
 *      held an older version); beside them, the order locator from the stage.
 *
 * The server runs each statement on one core, so independent statements run side by side.
 * Used when the legacy table and every target database share one server (mysql.url); the
 * client-side writer (layout-writer.ts) covers everything else. Verify maps every legacy row
 * with legacyRowToOrder, so a difference between the two mappings shows up there.
 */

export function canCopyOnServer(handle: LayoutHandle, mysqlUrl: string): boolean {
  const servers = handle.pools.servers();
  return servers.length === 1 && servers[0]!.url === mysqlUrl;
}

export interface BulkBatch {
  rows: number;
  lastId: string | null;
  done: boolean;
}

export interface LegacyBulkCopier {
  copy(afterId: string | null, limit: number): Promise<BulkBatch>;
  /** Drops the stage table. */
  dispose(): Promise<void>;
}

export async function createLegacyBulkCopier(input: {
  pool: Pool;
  legacy: LegacySource;
  target: LayoutHandle;
  migrationId: number;
  concurrency: number;
}): Promise<LegacyBulkCopier> {
  const { pool, legacy, target } = input;
  const { router } = target;
  const sql = legacyBulkSql({ legacy, router, migrationId: input.migrationId });
  const { stage } = sql;
  await run(pool, `DROP TABLE IF EXISTS ${stage}`);
  await run(pool, sql.createStage);

  // Under REPEATABLE READ, INSERT ... SELECT puts shared next-key locks on every row it reads:
  // a batch of the live legacy table, which the old application may still write, and the stage.
  // READ COMMITTED reads a snapshot without locks; the rows written stay locked until COMMIT,
  // which is all the version checks rely on. SET TRANSACTION covers the next transaction only,
  // and inTransaction's ROLLBACK on failure clears it, so pooled connections keep their default.
  // A server logging statements (binlog_format STATEMENT) refuses such writes under READ
  // COMMITTED, so there the default stays.
  const [logging] = await run(pool, 'SELECT @@log_bin AS log_bin, @@binlog_format AS format');
  const logsStatements =
    Number(logging!.log_bin) === 1 && String(logging!.format).toUpperCase() === 'STATEMENT';
  const readCommitted = logsStatements ? '' : 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED;\n';

  let batches = 0;
  return {
    async copy(afterId, limit) {
      const from = afterId ?? '-1';
      const [batch] = await run(pool, sql.range, [from, legacy.highKey, limit]);
      const rows = Number(batch!.n);
      if (rows === 0) return { rows, lastId: afterId, done: true };
      const to = String(batch!.hi);
      await run(pool, `TRUNCATE TABLE ${stage}`);
      // The refused-row search beside the fill's two halves. A refused row is reported (named)
      // before any error of the fill, which such a row may have caused; the stage is scratch.
      const [check, ...fills] = await Promise.allSettled([
        run(pool, sql.refusedRow, [from, to]),
        ...halves(from, to).map(([low, high]) => inTransaction(pool, readCommitted, sql.fill, [low, high])),
      ]);
      const badRow = check.status === 'fulfilled' ? check.value[0] : undefined;
      if (badRow) legacyRowToOrder(badRow as unknown as LegacyRow, legacy);
      throwFirstFailure([check, ...fills]);

      // Orders the target already holds: same or newer versions leave the stage; older ones
      // mark their table for the stale-lines delete.
      const shardRows = await run(pool, `SELECT DISTINCT shard FROM ${stage}`);
      // Every other batch walks the tables backwards: a layout with more tables than the
      // server's table cache, walked in one order every time, reopens every table every batch
      // (LRU's worst case); turning around starts each batch on the tables still open.
      const shards = shardRows
        .map((row) => Number(row.shard))
        .sort((a, b) => (batches % 2 === 0 ? a - b : b - a));
      batches++;
      const stale = new Set<number>();
      const drop: [number, string][] = [];
      await forEachBounded(chunks(shards, 64), 4, async (part) => {
        const found = await run(
          pool,
          sql.existing(part),
          part.flatMap(() => [legacy.platform, legacy.account]),
        );
        for (const row of found) {
          if (Number(row.foreign_key) === 1) {
            // Writing would update another order's row (ON DUPLICATE KEY fires on the id).
            throw new TradectlError(
              'TRADECTL_ID_COLLISION',
              `legacy id ${row.id} is another order's id in the target`,
              {
                kind: 'internal',
                details: { id: String(row.id) },
                hint: 'legacy ids must not overlap the ids tradectl issued; see docs/migrate-shards.md',
              },
            );
          }
          if (Number(row.current) === 1) drop.push([Number(row.shard), String(row.id)]);
          else stale.add(Number(row.shard));
        }
      });
      for (const part of chunks(drop, 1000)) {
        await run(pool, sql.dropStaged(part.length), part.flat());
      }

      const values = [legacy.platform, legacy.account, legacy.currency];
      const written = await Promise.allSettled([
        // Eight tables per round trip and transaction, `concurrency` round trips at once: one
        // COMMIT per eight tables instead of one per table (at 16 x 256 a table gets ~250 rows a
        // batch, so per-statement costs dominate). A live writer's transaction touches one table
        // of these, so the larger transaction adds lock waits, not lock cycles.
        forEachBounded(chunks(shards, 8), input.concurrency, async (part) => {
          const statements = part.flatMap((shard) => sql.tableStatements(shard, stale.has(shard)));
          const parameters = part.flatMap(() => values);
          await inTransaction(
            target.pools.forDatabase(sql.locationOf(part[0]!).database),
            readCommitted,
            statements.join(';\n'),
            parameters,
          );
        }),
        // The locator alongside: one statement, one core, independent of the order rows.
        run(pool, sql.locator),
      ]);
      throwFirstFailure(written);
      return { rows, lastId: to, done: rows < limit };
    },
    dispose: async () => {
      await run(pool, `DROP TABLE IF EXISTS ${stage}`);
    },
  };
}

async function run(pool: Pool, sql: string, values: unknown[] = []): Promise<RowDataPacket[]> {
  try {
    const [rows] = await pool.query<RowDataPacket[]>(sql, values);
    return rows;
  } catch (error) {
    throw classifyMysqlError(error, 'copy legacy rows on the server');
  }
}

/**
 * One multi-statement round trip holding a whole transaction (`<isolation> SET autocommit = 0;
 * statements; COMMIT; SET autocommit = 1`). On failure the open transaction is rolled back (which
 * also clears a SET TRANSACTION not yet used), or the connection dropped.
 */
async function inTransaction(
  pool: Pool,
  isolation: string,
  statements: string,
  values: unknown[],
): Promise<void> {
  let connection: PoolConnection | undefined;
  try {
    connection = await pool.getConnection();
    await connection.query(
      `${isolation}SET autocommit = 0;\n${statements};\nCOMMIT;\nSET autocommit = 1`,
      values,
    );
    connection.release();
  } catch (error) {
    if (connection) {
      const held = connection;
      await held
        .query('ROLLBACK; SET autocommit = 1')
        .then(() => held.release())
        .catch(() => held.destroy());
    }
    throw classifyMysqlError(error, 'copy legacy rows on the server');
  }
}

/** The id range (from, to] in two halves by value (keyset bounds, BIGINT-safe). */
function halves(from: string, to: string): [string, string][] {
  const low = BigInt(from);
  const middle = low + (BigInt(to) - low) / 2n;
  return [
    [from, String(middle)],
    [String(middle), to],
  ];
}

/** Rethrows the first failure among statements run side by side, once all of them have ended. */
function throwFirstFailure(settled: readonly PromiseSettledResult<unknown>[]): void {
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
