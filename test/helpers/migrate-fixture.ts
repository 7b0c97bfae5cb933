import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { retry } from '../../src/adapters/resilience/retry.js';
import { runCli } from '../../src/cli/main.js';
import type { Config } from '../../src/core/config.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import type { OrderStore } from '../../src/core/order-store.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { prng } from './order-generator.js';

/** Helpers of the migrate-shards tests and bench: the CLI in-process, independent checks, legacy tables. */

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Writes the config to a temp file and returns a runner of `tradectl <argv> --config <file>`. */
export async function migrateCli(
  config: Config,
): Promise<{ run(...argv: string[]): Promise<CliRun>; file: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tradectl-migrate-'));
  const file = join(dir, 'config.json');
  const { mysql, shards, redis, ids } = config;
  await writeFile(file, JSON.stringify({ mysql, shards, redis, ids, log: { level: 'silent' } }));
  return {
    file,
    async run(...argv) {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: string[] = [];
      const err: string[] = [];
      stdout.on('data', (chunk) => out.push(String(chunk)));
      stderr.on('data', (chunk) => err.push(String(chunk)));
      const code = await runCli([...argv, '--config', file], { stdout, stderr, env: {} });
      return { code, stdout: out.join(''), stderr: err.join('') };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface LayoutTotals {
  orders: { count: number; checksum: string };
  details: { count: number; checksum: string };
  lines: { count: number; checksum: string };
}

/**
 * COUNT(*) and SUM(CRC32(every column but stored_at)) of each table kind over a whole layout:
 * written apart from verify's code (another hash, another aggregate), so the two check each other.
 */
export async function layoutTotals(
  pool: Pool,
  layout: ConstructorParameters<typeof ShardRouter>[0],
): Promise<LayoutTotals> {
  const router = new ShardRouter(layout);
  const columns: Record<'orders' | 'order_details' | 'order_lines', string> = {
    orders:
      'id, user_id, platform, account, platform_order_id, status, raw_status, status_unknown, refund_state, currency, total_amount, line_count, created_at, updated_at',
    order_details:
      "order_id, updated_at, IFNULL(marketplace, '~'), IFNULL(buyer_id, '~'), IFNULL(buyer_name, '~'), IFNULL(buyer_email, '~'), IFNULL(ship_name, '~'), IFNULL(ship_line1, '~'), IFNULL(ship_line2, '~'), IFNULL(ship_city, '~'), IFNULL(ship_region, '~'), IFNULL(ship_postal_code, '~'), IFNULL(ship_country, '~'), IFNULL(ship_phone, '~'), subtotal_amount, shipping_amount, tax_amount, discount_amount, refunded_amount, IFNULL(paid_at, '~'), IFNULL(shipped_at, '~'), IFNULL(cancelled_at, '~')",
    order_lines:
      "order_id, line_id, updated_at, line_no, IFNULL(sku, '~'), IFNULL(listing_id, '~'), title, quantity, quantity_shipped, unit_price_amount, total_amount, tax_amount, cancelled",
  };
  const result: Record<string, { count: number; checksum: string }> = {};
  for (const [kind, list] of Object.entries(columns) as [keyof typeof columns, string][]) {
    const parts = [...router.all()].map(
      (location) =>
        `SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS('|', ${list}))) AS s FROM ${router.qualifiedTable(location, kind)}`,
    );
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT SUM(n) AS n, SUM(s) AS s FROM (${parts.join(' UNION ALL ')}) AS u`,
    );
    result[kind] = { count: Number(rows[0]!.n), checksum: String(rows[0]!.s ?? '0') };
  }
  return { orders: result.orders!, details: result.order_details!, lines: result.order_lines! };
}

/** The seed's legacy table (with updated_at, as its original, un-split form has). */
export function legacyTableDdl(table: string, options: { updatedAt?: boolean } = {}): string {
  return `CREATE TABLE ${table} (
  id BIGINT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  quantity INT NOT NULL,
  amount DECIMAL(10,2) NOT NULL,
  status VARCHAR(20) NOT NULL,
  payment_info TEXT NULL,
  created_at DATETIME NOT NULL,
  ${options.updatedAt === false ? '' : 'updated_at DATETIME NOT NULL,'}
  INDEX idx_user_created (user_id, created_at),
  INDEX idx_status_created (status, created_at)
) ENGINE=InnoDB`;
}

const LEGACY_STATUSES = [
  'pending',
  'paid',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
  'PAID',
  'on_hold',
];

/** Fills a legacy table with `count` deterministic rows, ids 1..count, in multi-row INSERTs. */
export async function fillLegacyTable(
  pool: Pool,
  table: string,
  count: number,
  options: { seed?: number; users?: number; updatedAt?: boolean; batch?: number } = {},
): Promise<void> {
  const random = prng(options.seed ?? 7);
  const users = options.users ?? 100_000;
  const batch = options.batch ?? 5000;
  const start = Date.UTC(2023, 0, 1);
  for (let from = 1; from <= count; from += batch) {
    const rows: unknown[][] = [];
    for (let id = from; id < Math.min(from + batch, count + 1); id++) {
      const created = new Date(start + id * 7_000 + Math.floor(random() * 5000));
      const updated = new Date(created.getTime() + Math.floor(random() * 86_400_000));
      const cents = 100 + Math.floor(random() * 500_000);
      const row: unknown[] = [
        id,
        1 + Math.floor(random() * users),
        1 + Math.floor(random() * 20_000),
        1 + Math.floor(random() * 5),
        `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
        LEGACY_STATUSES[Math.floor(random() * LEGACY_STATUSES.length)],
        created.toISOString().slice(0, 19).replace('T', ' '),
      ];
      if (options.updatedAt !== false) row.push(updated.toISOString().slice(0, 19).replace('T', ' '));
      rows.push(row);
    }
    const columns = `id, user_id, product_id, quantity, amount, status, created_at${options.updatedAt === false ? '' : ', updated_at'}`;
    await pool.query(`INSERT INTO ${table} (${columns}) VALUES ?`, [rows]);
  }
}

/**
 * A live writer's batch, written as the sink writes it: a transient failure (a deadlock with the
 * backfill's copy that also beat the store's own one retry) is tried again after a backoff, as
 * the bus would redeliver the batch; the versioned upsert makes the repeat harmless. Anything
 * not retriable, or a fifth failure, fails the caller.
 */
export async function upsertLikeTheSink(
  store: Pick<OrderStore, 'upsertBatch'>,
  batch: readonly UnifiedOrder[],
): Promise<void> {
  await retry(() => store.upsertBatch(batch), { retries: 4, baseMs: 50 });
}
