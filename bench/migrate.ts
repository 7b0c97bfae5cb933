/**
 * The legacy backfill of `tradectl migrate-shards` against a plain INSERT ... SELECT of the same
 * data on the same server, measured in one run.
 *
 *   npx tsx bench/migrate.ts [--rows 1000000] [--layout 16x256] [--batch auto] [--concurrency 8]
 *                            [--rounds 1] [--live-every-ms 100] [--kill-at 0.4]
 *
 * Each round: a fresh layout (`shards init`) and a legacy `orders` table of --rows rows (the
 * seed's shape); `plan --from-legacy`, `start`; then the backfill at full throttle in a child
 * process (`tradectl migrate-shards backfill`, so its RSS is its own, read from /proc) while
 * this process keeps writing live orders through the sink's store wrapper (dual write: 20 new
 * orders and 20 newer versions of legacy orders every --live-every-ms); then `verify` and an
 * independent count (every legacy id exactly once, every live order once). Then the ceilings,
 * with the writer stopped:
 *   (a) INSERT INTO copy SELECT * FROM legacy: the raw speed of moving these rows on this server;
 *   (b) INSERT ... SELECT of the same rows in the target's shape, unsharded: orders, details,
 *       lines and locator rows (4 statements): the same rows the backfill writes, server-side.
 * Prints rows/s of each, the ratios, and the backfill's RSS at start, middle and end.
 *
 * With --kill-at F the first backfill is SIGKILLed once F of the rows are checkpointed (use a
 * --batch well below --rows, so the kill lands mid-batch), and a second one must resume at the
 * checkpoint and copy exactly the rest (legacy ids are 1..rows without gaps); its rows/s is the
 * round's.
 *
 * Needs scripts/services.sh up; creates and drops its own databases. 16 x 256 takes about two
 * minutes to create and one to drop.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { silentLogger } from '../src/core/logger.js';
import { withShardMigrations } from '../src/core/migrate/dual-write-store.js';
import { metaDatabaseOf } from '../src/core/migrate/layouts.js';
import { MigrationStateStore } from '../src/core/migrate/state.js';
import { MysqlPools } from '../src/core/mysql-pools.js';
import type { UnifiedOrder } from '../src/core/order.js';
import { metaTablesDdl, orderTablesDdl } from '../src/core/order-schema.js';
import { createOrderStore } from '../src/core/order-store.js';
import { initShards, routerForConfig } from '../src/core/shard-admin.js';
import { ShardRouter } from '../src/core/shard-router.js';
import {
  fillLegacyTable,
  legacyTableDdl,
  migrateCli,
  upsertLikeTheSink,
} from '../test/helpers/migrate-fixture.js';
import { counterIds, generateOrders } from '../test/helpers/order-generator.js';
import { dropDatabases, testConfig } from '../test/helpers/services.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    layout: { type: 'string', default: '16x256' },
    batch: { type: 'string', default: 'auto' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '1' },
    'live-every-ms': { type: 'string', default: '100' },
    'kill-at': { type: 'string', default: '0' },
  },
});
const ROWS = Number(args.rows);
const KILL_AT = Number(args['kill-at']);
const [DATABASES, TABLES] = args.layout.split('x').map(Number) as [number, number];
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MB = 1024 * 1024;

interface Round {
  backfill: number;
  copy: number;
  shaped: number;
  rss: { start: number; middle: number; end: number; max: number };
  live: number;
}

async function round(): Promise<Round> {
  const config = testConfig({ shards: { databases: DATABASES, tablesPerDatabase: TABLES } });
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, { connectionLimit: 8 });
  const prefix = config.mysql.databasePrefix;
  const legacyTable = `\`${prefix}_legacy\`.orders`;
  const meta = pools.meta();
  const cli = await migrateCli(config);
  try {
    let started = performance.now();
    await initShards({ config, pools, router, concurrency: 8 });
    // A running worker has its tables open; open each once so the backfill is not timed opening files.
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        const all = [...router.all()];
        for (let index = worker; index < all.length; index += 8) {
          for (const kind of ['orders', 'order_details', 'order_lines'] as const) {
            await meta.query(`SELECT 1 FROM ${router.qualifiedTable(all[index]!, kind)} LIMIT 1`);
          }
        }
      }),
    );
    log(`layout ${DATABASES}x${TABLES} ready in ${seconds(started)}s`);
    started = performance.now();
    await meta.query(`CREATE DATABASE \`${prefix}_legacy\``);
    await meta.query(legacyTableDdl(legacyTable));
    await fillLegacyTable(meta, legacyTable, ROWS, { users: 1_000_000, batch: 5000 });
    log(`legacy table of ${ROWS} rows filled in ${seconds(started)}s`);

    const step = async (...argv: string[]) => {
      const result = await cli.run('migrate-shards', ...argv);
      if (result.code !== 0) throw new Error(`migrate-shards ${argv.join(' ')}: ${result.stderr}`);
      return result;
    };
    await step('plan', '--from-legacy', `${prefix}_legacy.orders`, '--throttle', '0', '--batch', args.batch);
    await step('start');

    const ids = counterIds(10n ** 13n);
    const store = withShardMigrations(createOrderStore({ pools, router, nextId: ids }), {
      config,
      pools,
      router,
      nextId: ids,
      logger: silentLogger(),
      refreshMs: 1000,
    });
    let live = 0;
    let writing = true;
    let resumeFrom: string | null = null;
    const writer = (async () => {
      // Generated in large sets: each generateOrders call builds its 1,000,000 user ids first,
      // which every 100 ms would cost this process ~0.4 of a core, taken from the backfill.
      let pending: UnifiedOrder[] = [];
      for (let batch = 0; writing; batch++) {
        if (pending.length < 20) {
          pending = generateOrders({ seed: batch, count: 10_000, users: 1_000_000, idPrefix: `L${batch}` });
        }
        const fresh = pending.splice(0, 20);
        const legacyIds = Array.from(
          { length: 20 },
          (_, index) => 1 + ((batch * 7919 + index * 104_729) % ROWS),
        );
        const [rows] = await meta.query<RowDataPacket[]>(
          `SELECT id, user_id FROM ${legacyTable} WHERE id IN (?)`,
          [legacyIds],
        );
        const updates = rows.map((row) => ({
          ...fresh[0]!,
          platform: 'legacy' as never,
          account: 'legacy',
          currency: 'USD',
          platformOrderId: String(row.id),
          userId: String(row.user_id),
          createdAt: '2023-01-01T00:00:00.000Z',
          updatedAt: `2030-01-01T00:00:${String(batch % 60).padStart(2, '0')}.000Z`,
        }));
        await upsertLikeTheSink(store, [...fresh, ...updates]);
        live += fresh.length;
        await new Promise((resolve) => setTimeout(resolve, Number(args['live-every-ms'])));
      }
    })();

    if (KILL_AT > 0) {
      const states = new MigrationStateStore(meta, metaDatabaseOf(config));
      const killed = await backfillChild(cli.file, async () => {
        const state = await states.current();
        return (state?.copiedRows ?? 0) >= ROWS * KILL_AT;
      });
      const state = (await states.current())!;
      const afterId = state.checkpoint?.afterId ?? null;
      log(
        `backfill SIGKILLed after ${killed.seconds.toFixed(1)}s: phase ${state.phase}, checkpoint after id ${afterId}, ${state.copiedRows} rows copied`,
      );
      if (state.phase !== 'started' || afterId === null) throw new Error('no checkpoint to resume from');
      resumeFrom = afterId;
    }
    const { result, rss } = await backfillChild(cli.file);
    if (resumeFrom !== null) {
      const rest = ROWS - Number(resumeFrom);
      log(
        `resumed from id ${result.resumedFrom?.afterId} and copied ${result.copiedThisRun} rows (the rest: ${rest})`,
      );
      if (result.resumedFrom?.afterId !== resumeFrom || result.copiedThisRun !== rest) {
        throw new Error('the backfill did not resume where it was killed');
      }
    }
    writing = false;
    await writer;
    const backfill = result.copiedThisRun / result.seconds;
    log(
      `backfill: ${result.copiedThisRun} rows in ${result.seconds.toFixed(1)}s = ${backfill.toFixed(0)} rows/s (batches of ${result.batchRows}, ${result.serverCopy ? 'copied by the server' : 'through the process'}), ${live} live orders meanwhile`,
    );
    const verify = JSON.parse((await step('verify', '--json')).stdout);
    const counts = await countTarget(pools, router);
    log(
      `verify: ok=${verify.ok}, source ${verify.sourceRows}, target ${verify.targetRows}; target holds ${counts.legacy} legacy orders, ${counts.total - counts.legacy} others, ${counts.total - counts.distinct} doubled`,
    );
    if (
      !verify.ok ||
      counts.legacy !== ROWS ||
      counts.total !== counts.distinct ||
      counts.total - counts.legacy !== live
    ) {
      throw new Error('the migration lost or doubled rows');
    }

    started = performance.now();
    await meta.query(`CREATE TABLE \`${prefix}_legacy\`.copy LIKE ${legacyTable}`);
    await meta.query(`INSERT INTO \`${prefix}_legacy\`.copy SELECT * FROM ${legacyTable}`);
    const copy = ROWS / ((performance.now() - started) / 1000);
    const shaped = await shapedCeiling(meta, prefix, legacyTable);
    return { backfill, copy, shaped, rss, live };
  } finally {
    await cli.cleanup();
    await pools.close();
    await dropDatabases(config);
  }
}

/**
 * Runs the backfill as `tradectl migrate-shards backfill` and samples its RSS from /proc; with
 * `killWhen`, SIGKILLs it once that turns true (checked with each sample) and returns how long it
 * ran.
 */
async function backfillChild(file: string): Promise<BackfillRun>;
async function backfillChild(file: string, killWhen: () => Promise<boolean>): Promise<{ seconds: number }>;
async function backfillChild(file: string, killWhen?: () => Promise<boolean>) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bin/tradectl.ts',
      'migrate-shards',
      'backfill',
      '--settle',
      '2',
      '--concurrency',
      args.concurrency,
      '--json',
      '--config',
      file,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  const samples: number[] = [];
  let killing = false;
  const timer = setInterval(async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    if (kb) samples.push(Number(kb) * 1024);
    if (killWhen && !killing && (await killWhen())) {
      killing = true;
      child.kill('SIGKILL');
    }
  }, 200);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  clearInterval(timer);
  if (killWhen) {
    if (signal !== 'SIGKILL') throw new Error(`the backfill ended (${code}) before it was killed: ${stdout}`);
    return { seconds: (performance.now() - started) / 1000 };
  }
  if (code !== 0) throw new Error(`backfill exited ${code}: ${stdout}`);
  // Samples at fractions of the run; the 10% one is past tsx's start-up.
  const at = (fraction: number) =>
    samples[Math.min(samples.length - 1, Math.floor(samples.length * fraction))] ?? 0;
  return {
    result: JSON.parse(stdout) as BackfillRun['result'],
    rss: { start: at(0.1), middle: at(0.5), end: at(0.95), max: Math.max(...samples) },
  };
}

interface BackfillRun {
  result: {
    copiedThisRun: number;
    seconds: number;
    batchRows: number;
    serverCopy: boolean;
    resumedFrom: { afterId: string } | null;
  };
  rss: { start: number; middle: number; end: number; max: number };
}

/** (b): the same rows in the target's shape (orders, details, lines, locator), server-side. */
async function shapedCeiling(meta: Pool, prefix: string, legacy: string) {
  const router = new ShardRouter({ databases: 1, tablesPerDatabase: 1, databasePrefix: `${prefix}_flat` });
  await meta.query(`CREATE DATABASE \`${router.databaseName(0)}\``);
  await meta.query(`CREATE DATABASE \`${router.metaDatabaseName}\``);
  const location = router.location(0, 0);
  for (const sql of [...orderTablesDdl(router, location), metaTablesDdl(router)[0]!]) await meta.query(sql);
  const table = (kind: 'orders' | 'order_details' | 'order_lines') => router.qualifiedTable(location, kind);
  const minor = 'CAST(amount * 100 AS SIGNED)';
  const started = performance.now();
  await meta.query(
    `INSERT INTO ${table('orders')} (id, user_id, platform, account, platform_order_id, status, raw_status, status_unknown, refund_state, currency, total_amount, line_count, created_at, updated_at, stored_at) ` +
      `SELECT id, user_id, 'legacy', 'legacy', id, status, status, 0, 'none', 'USD', ${minor}, 1, created_at, updated_at, UTC_TIMESTAMP(3) FROM ${legacy}`,
  );
  await meta.query(
    `INSERT INTO ${table('order_details')} (order_id, updated_at, subtotal_amount, shipping_amount, tax_amount, discount_amount, refunded_amount) ` +
      `SELECT id, updated_at, ${minor}, 0, 0, 0, 0 FROM ${legacy}`,
  );
  await meta.query(
    `INSERT INTO ${table('order_lines')} (order_id, line_id, updated_at, line_no, sku, title, quantity, quantity_shipped, unit_price_amount, total_amount, tax_amount, cancelled) ` +
      `SELECT id, '1', updated_at, 0, product_id, '', quantity, 0, ${minor} DIV quantity, ${minor}, 0, 0 FROM ${legacy}`,
  );
  await meta.query(
    `INSERT INTO \`${router.metaDatabaseName}\`.order_locator (order_id, user_id) SELECT id, user_id FROM ${legacy}`,
  );
  return ROWS / ((performance.now() - started) / 1000);
}

async function countTarget(pools: MysqlPools, router: ShardRouter) {
  const out = { total: 0, distinct: 0, legacy: 0 };
  const all = [...router.all()];
  for (let at = 0; at < all.length; at += 64) {
    const part = all.slice(at, at + 64);
    const [rows] = await pools
      .meta()
      .query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(platform = 'legacy') AS l FROM (${part
          .map((location) => `SELECT id, platform FROM ${router.qualifiedTable(location, 'orders')}`)
          .join(' UNION ALL ')}) AS u`,
      );
    // Ids never repeat across tables (each order lives in its user's one table), so per-group
    // distinct counts add up; a doubled order would sit in one table, under one key.
    out.total += Number(rows[0]!.n);
    out.distinct += Number(rows[0]!.d);
    out.legacy += Number(rows[0]!.l ?? 0);
  }
  return out;
}

function seconds(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}

function log(line: string): void {
  console.log(line);
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}

async function main(): Promise<void> {
  log(
    `${ROWS} legacy rows -> ${DATABASES}x${TABLES}, batch ${args.batch}, concurrency ${args.concurrency}, ${args.rounds} round(s)`,
  );
  const rounds: Round[] = [];
  for (let index = 1; index <= Number(args.rounds); index++) {
    const result = await round();
    rounds.push(result);
    log(
      `round ${index}: backfill ${result.backfill.toFixed(0)} rows/s; (a) INSERT ... SELECT copy ${result.copy.toFixed(0)} rows/s ` +
        `-> ${((result.backfill / result.copy) * 100).toFixed(0)}%; (b) same rows in the target's shape ${result.shaped.toFixed(0)} rows/s ` +
        `-> ${((result.backfill / result.shaped) * 100).toFixed(0)}%; backfill RSS start/middle/end/max ` +
        `${[result.rss.start, result.rss.middle, result.rss.end, result.rss.max].map((bytes) => (bytes / MB).toFixed(0)).join('/')} MB`,
    );
  }
  const row = (name: string, values: number[]) => {
    const s = summary(values);
    return `${name.padEnd(44)}${s.min.toFixed(0).padStart(9)}${s.median.toFixed(0).padStart(9)}${s.max.toFixed(0).padStart(9)}`;
  };
  log(`\n${'rows/s'.padEnd(44)}${'min'.padStart(9)}${'median'.padStart(9)}${'max'.padStart(9)}`);
  log(
    row(
      'backfill (live writer running)',
      rounds.map((r) => r.backfill),
    ),
  );
  log(
    row(
      '(a) INSERT ... SELECT, plain copy',
      rounds.map((r) => r.copy),
    ),
  );
  log(
    row(
      "(b) INSERT ... SELECT, target's shape",
      rounds.map((r) => r.shaped),
    ),
  );
  log(
    row(
      'ratio backfill / (a), %',
      rounds.map((r) => (r.backfill / r.copy) * 100),
    ),
  );
  log(
    row(
      'ratio backfill / (b), %',
      rounds.map((r) => (r.backfill / r.shaped) * 100),
    ),
  );
  log('goal: backfill >= 50% of INSERT ... SELECT');
}

await main();
