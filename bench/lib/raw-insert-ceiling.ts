import type { Pool } from 'mysql2/promise';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import {
  DETAIL_COLUMNS,
  detailRow,
  LINE_COLUMNS,
  lineRows,
  ORDER_COLUMNS,
  orderRow,
} from '../../src/core/order-rows.js';
import { orderTablesDdl } from '../../src/core/order-schema.js';
import { multiRowInsert } from '../../src/core/order-store-sql.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { counterIds } from '../../test/helpers/order-generator.js';
import { dropDatabases, testConfig } from '../../test/helpers/services.js';
import { type CpuSnapshot, ServerCpu } from './process-cpu.js';

/**
 * The raw ceiling of the order benchmarks: plain multi-row INSERTs of the same rows (orders +
 * details + lines, same columns) into ONE unsharded set of tables with the store's schema — no
 * versioning, no read-back, no locator, no sharding. Rows are built inside the timed part, as the
 * store builds them.
 */
export interface Contender {
  /**
   * The timed part: every order written once, in batches. `cpuMs` is this process's CPU time,
   * `serverCpu` that of the local servers it wrote to (ServerCpu), over the same part.
   */
  run(): Promise<{ ms: number; cpuMs: number; serverCpu: CpuSnapshot }>;
  drop(): Promise<void>;
}

export interface RawInsertCeilingOptions {
  batch: number;
  /** Batches written at once (one connection each). */
  concurrency: number;
  /** Rows per INSERT statement. */
  maxRows: number;
}

export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

export async function inParallel<T>(
  items: readonly T[],
  workers: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** CPU time this process spent since `since`: the client's share of the work. */
export function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

export function summary(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}

export async function setUpRawInsertCeiling(
  orders: readonly UnifiedOrder[],
  options: RawInsertCeilingOptions,
): Promise<Contender> {
  const config = testConfig({ shards: { databases: 1, tablesPerDatabase: 1 } });
  const prefix = config.mysql.databasePrefix;
  const router = new ShardRouter({ databases: 1, tablesPerDatabase: 1, databasePrefix: prefix });
  const pools = new MysqlPools(config, router, { connectionLimit: options.concurrency });
  const pool: Pool = pools.forDatabase(0);
  const location = router.location(0, 0);
  await pool.query(`CREATE DATABASE \`${location.databaseName}\``);
  for (const sql of orderTablesDdl(router, location)) await pool.query(sql);
  for (const kind of ['orders', 'order_details', 'order_lines'] as const) {
    await pool.query(`SELECT 1 FROM ${router.qualifiedTable(location, kind)} LIMIT 1`);
  }
  const servers = await ServerCpu.find(pool);
  return {
    async run() {
      const nextId = counterIds();
      const storedAt = new Date().toISOString();
      const started = performance.now();
      const cpu = process.cpuUsage();
      const serverStart = servers.snapshot();
      await inParallel(batches(orders, options.batch), options.concurrency, async (batch) => {
        const ids = batch.map(() => nextId());
        const tables = [
          ['orders', ORDER_COLUMNS, batch.map((order, index) => orderRow(order, ids[index]!, storedAt))],
          ['order_details', DETAIL_COLUMNS, batch.map((order, index) => detailRow(order, ids[index]!))],
          ['order_lines', LINE_COLUMNS, batch.flatMap((order, index) => lineRows(order, ids[index]!))],
        ] as const;
        for (const [kind, columns, rows] of tables) {
          for (const part of batches(rows, options.maxRows)) {
            const statement = multiRowInsert(router.qualifiedTable(location, kind), columns, part);
            await pool.query(statement.sql, statement.values);
          }
        }
      });
      return { ms: performance.now() - started, cpuMs: cpuMs(cpu), serverCpu: servers.since(serverStart) };
    },
    async drop() {
      await pools.close();
      await dropDatabases(config);
    },
  };
}
