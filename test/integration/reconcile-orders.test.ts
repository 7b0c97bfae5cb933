import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/common.js';
import { EXIT, type ExitCode } from '../../src/cli/exit-codes.js';
import type { CliIo } from '../../src/cli/output.js';
import { registerReconcileCommand } from '../../src/cli/reconcile.js';
import { registerTraceCommand } from '../../src/cli/trace.js';
import { createMysqlDeadLetterQueue } from '../../src/core/bus/dlq.js';
import type { AccountConfig, Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { orderKey } from '../../src/core/order.js';
import { createOrderStore } from '../../src/core/order-store.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import type { ShardRouter } from '../../src/core/shard-router.js';
import { LedgerDrain } from '../../src/core/stock/ledger-drain.js';
import { StockService } from '../../src/core/stock/stock-service.js';
import { fromEpochMs } from '../../src/core/time.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { runSyncOnce } from '../../src/workers/sync-once.js';
import { Collector } from '../helpers/collector.js';
import { dropDatabases, REDIS_URL, testConfig } from '../helpers/services.js';
import { compareWithGroundTruth, ShiftedClock, sandboxAccounts } from '../helpers/sync-fixture.js';

// Platform orders against the sharded store: a sandbox holds the truth, the real sync fills the
// store, the test deletes and ages orders behind the system's back, and reconcile / trace / fix
// run through the command tree (flags, JSON, exit codes) with the sandbox's clock and rate scale.
const ORDERS = 200;
const RATE_SCALE = 1000;

let sandbox: Sandbox;
let clock: ShiftedClock;
let config: Config;
let router: ShardRouter;
let pools: MysqlPools;
let since: string;

async function cli(args: string[], tty = false) {
  const io = { stdout: new Collector(tty), stderr: new Collector(tty), env: {} } satisfies CliIo;
  let code: ExitCode = EXIT.ok;
  const program = new Command('tradectl').exitOverride().configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
  });
  const context = { ...createContext(io, (value) => (code = value)), loadConfig: async () => config };
  const shared = { clock: clock.now, rateScale: RATE_SCALE, retry: { baseMs: 10, maxMs: 200 } };
  registerReconcileCommand(program, context, { ordersOptions: { ...shared, via: 'inline' } });
  registerTraceCommand(program, context, { traceOptions: shared });
  await program.parseAsync(args, { from: 'user' });
  const json = args.includes('--json') ? JSON.parse(io.stdout.text) : undefined;
  return { code, stdout: io.stdout.text, stderr: io.stderr.text, json };
}

function account(platform: string): AccountConfig {
  return config.accounts.find((entry) => entry.platform === platform)!;
}

/** The account's stored orders, oldest update first. */
async function storedRows(entry: AccountConfig): Promise<RowDataPacket[]> {
  const location = router.route(entry.userId);
  const [rows] = await pools
    .forDatabase(location.database)
    .query<RowDataPacket[]>(
      `SELECT id, platform_order_id, updated_at FROM ${router.qualifiedTable(location, 'orders')} ` +
        'WHERE platform = ? AND account = ? ORDER BY updated_at, id',
      [entry.platform, entry.id],
    );
  return rows;
}

/** Runs SQL against every order table of the account's shard, for one order id. */
async function onOrder(entry: AccountConfig, sql: (table: string) => string, values: unknown[]) {
  const location = router.route(entry.userId);
  const pool = pools.forDatabase(location.database);
  for (const kind of ['orders', 'order_details', 'order_lines'] as const) {
    await pool.query(sql(router.qualifiedTable(location, kind)), values);
  }
}

beforeAll(async () => {
  clock = new ShiftedClock();
  sandbox = await startSandbox({
    port: 0,
    seed: 61,
    ordersPerAccount: ORDERS,
    historyDays: 2,
    accounts: 'shopify:1,amazon:1,ebay:1',
    clock,
    rateScale: RATE_SCALE,
    throttleToleranceMs: 50,
  });
  config = testConfig({
    shards: { databases: 2, tablesPerDatabase: 4 },
    sync: { initialBackfillDays: 3 },
    accounts: sandboxAccounts(sandbox),
  });
  router = routerForConfig(config);
  pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  const summary = await runSyncOnce({
    config,
    logger: silentLogger(),
    via: 'inline',
    clock: clock.now,
    rateScale: RATE_SCALE,
    retry: { baseMs: 10, maxMs: 200 },
  });
  expect(summary.outcome).toBe('ok');
  since = fromEpochMs(clock.now() - 3 * 86_400_000);
});

afterAll(async () => {
  await sandbox?.close();
  await pools?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${config.redis.keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  if (config) await dropDatabases(config);
});

describe('reconcile orders and trace', () => {
  it('reports a synced system as clean: every order listed matches, accuracy 100%, exit 0', async () => {
    const { code, json } = await cli(['reconcile', 'orders', '--since', since, '--json']);
    expect(code).toBe(EXIT.ok);
    expect(json.totals).toMatchObject({
      listed: 3 * ORDERS,
      missing: 0,
      stale: 0,
      remaining: 0,
      accuracy: 100,
    });
    for (const row of json.accounts) {
      expect(row).toMatchObject({ status: 'ok', listed: ORDERS, clampedBy: 'checkpoint', drift: [] });
    }
  });

  it('finds orders deleted from a shard and left stale, traces why, and --fix re-syncs exactly those while stock sells', async () => {
    const amazon = account('amazon');
    const shopify = account('shopify');
    const ebay = account('ebay');
    const deleted = {
      amazon: (await storedRows(amazon)).slice(10, 13),
      ebay: (await storedRows(ebay)).slice(5, 6),
    };
    const aged = (await storedRows(shopify)).slice(20, 22);
    const fine = (await storedRows(shopify))[50]!;
    for (const [entry, rows] of [
      [amazon, deleted.amazon],
      [ebay, deleted.ebay],
    ] as const) {
      for (const row of rows) {
        await onOrder(entry, (table) => `DELETE FROM ${table} WHERE ${idColumn(table)} = ?`, [row.id]);
      }
    }
    // An older version: every row of the order an hour back, as a lost update would leave it.
    for (const row of aged) {
      await onOrder(
        shopify,
        (table) =>
          `UPDATE ${table} SET updated_at = updated_at - INTERVAL 1 HOUR WHERE ${idColumn(table)} = ?`,
        [row.id],
      );
    }
    // One deleted order also sits in the dead letter queue, read from Kafka at a known offset.
    const quarantined = String(deleted.amazon[0]!.platform_order_id);
    const key = orderKey({ platform: 'amazon', account: amazon.id, platformOrderId: quarantined });
    await createMysqlDeadLetterQueue({ pools, router }).put([
      {
        key,
        reason: 'injected: poison message',
        original: Buffer.from('{}'),
        source: { topic: 'tradectl.orders.v1', partition: 2, offset: '4711' },
      },
    ]);

    const found = await cli(['reconcile', 'orders', '--since', since, '--json']);
    expect(found.code).toBe(EXIT.failed);
    const byPlatform = (json: { accounts: { platform: string }[] }, platform: string) =>
      json.accounts.find((row) => row.platform === platform) as unknown as {
        missing: number;
        stale: number;
        accuracy: number;
        fixed: number;
        remaining: number;
        drift: { platformOrderId: string; problem: string; repair?: string }[];
      };
    const ids = (rows: RowDataPacket[]) => rows.map((row) => String(row.platform_order_id)).sort();
    expect(
      byPlatform(found.json, 'amazon')
        .drift.map((item) => item.platformOrderId)
        .sort(),
    ).toEqual(ids(deleted.amazon));
    expect(byPlatform(found.json, 'amazon').drift.every((item) => item.problem === 'missing')).toBe(true);
    expect(byPlatform(found.json, 'ebay').drift.map((item) => item.platformOrderId)).toEqual(
      ids(deleted.ebay),
    );
    expect(byPlatform(found.json, 'shopify')).toMatchObject({ missing: 0, stale: 2 });
    expect(
      byPlatform(found.json, 'shopify')
        .drift.map((item) => item.platformOrderId)
        .sort(),
    ).toEqual(ids(aged));
    expect(byPlatform(found.json, 'amazon').accuracy).toBe(98.5);
    expect(found.json.totals).toMatchObject({ missing: 4, stale: 2, remaining: 6 });

    // On a terminal: the account table, then order by order, and the totals on stderr.
    const human = await cli(['reconcile', 'orders', '--since', since], true);
    expect(human.code).toBe(EXIT.failed);
    expect(human.stdout).toMatch(/^PLATFORM\s+ACCOUNT\s+FROM\s+TO\s+LISTED\s+MATCHED\s+MISSING\s+STALE/);
    expect(human.stdout).toContain(`${quarantined}  missing`);
    expect(human.stderr).toContain('3 account(s): 600 orders listed, 4 missing, 2 stale, accuracy 99%');

    const traced = async (platform: string, id: string, ...extra: string[]) => {
      const result = await cli(['trace', platform, id, '--json', ...extra]);
      return { code: result.code, trace: result.json.accounts[0] };
    };
    const dead = await traced('amazon', quarantined);
    expect(dead.code).toBe(EXIT.failed);
    expect(dead.trace).toMatchObject({
      verdict: 'quarantined',
      stored: null,
      kafkaOffsets: [{ topic: 'tradectl.orders.v1', partition: 2, offset: '4711' }],
    });
    expect(dead.trace.windows.total).toBeGreaterThan(0);
    const page = await cli(['trace', 'amazon', quarantined], true);
    expect(page.stdout).toContain(
      `amazon:${amazon.id}:${quarantined}\n  verdict:    quarantined: not in the database: the dead letter queue holds it`,
    );
    expect(page.stdout).toContain('  kafka:      tradectl.orders.v1[2]@4711');
    const gone = await traced('amazon', String(deleted.amazon[1]!.platform_order_id));
    expect(gone.trace).toMatchObject({ verdict: 'missing', stored: null, deadLetters: [] });
    expect(gone.trace.platformVersion.updatedAt).toBeDefined();
    expect(gone.trace.windows.total).toBeGreaterThan(0);
    const old = await traced('shopify', String(aged[0]!.platform_order_id));
    expect(old.trace.verdict).toBe('stale');
    expect(old.trace.stored.updatedAt < old.trace.platformVersion.updatedAt).toBe(true);
    expect(await traced('shopify', String(fine.platform_order_id))).toMatchObject({
      code: EXIT.ok,
      trace: { verdict: 'current' },
    });
    expect(await traced('shopify', String(fine.platform_order_id), '--offline')).toMatchObject({
      code: EXIT.ok,
      trace: { verdict: 'stored', platformAsked: false },
    });

    // The repair runs while the trading side keeps selling stock.
    const sales = await liveSales();
    let fixed: Awaited<ReturnType<typeof cli>>;
    try {
      fixed = await cli(['reconcile', 'orders', '--since', since, '--fix', '--json']);
    } finally {
      await sales.stop();
    }
    expect(fixed.code).toBe(EXIT.ok);
    expect(fixed.json.totals).toMatchObject({ missing: 4, stale: 2, fixed: 6, remaining: 0 });
    for (const platform of ['amazon', 'ebay', 'shopify']) {
      expect(byPlatform(fixed.json, platform).drift.every((item) => item.repair === 'fixed')).toBe(true);
    }
    // Field for field what the platform has, through the store's own reads too.
    const store = createOrderStore({ pools, router, nextId: () => '0' });
    const comparison = await compareWithGroundTruth({
      sandbox,
      accounts: config.accounts,
      store,
      pools,
      router,
    });
    expect(comparison.mismatches).toEqual([]);
    expect((await cli(['reconcile', 'orders', '--since', since, '--json'])).code).toBe(EXIT.ok);
    expect(sales.sold).toBeGreaterThan(0);
    await sales.verify();
  });

  it('refuses a window that ends before it starts, and a bad platform, as usage errors', async () => {
    await expect(
      cli(['reconcile', 'orders', '--since', '2026-03-02T00:00:00Z', '--until', '2026-03-01T00:00:00Z']),
    ).rejects.toThrow('--since 2026-03-02T00:00:00.000Z is after --until 2026-03-01T00:00:00.000Z');
    await expect(cli(['trace', 'myspace', '1'])).rejects.toThrow('<platform> must be one of');
    await expect(cli(['reconcile', 'orders'])).rejects.toThrow(
      "required option '--since <time>' not specified",
    );
  });
});

function idColumn(table: string): string {
  return table.includes('`orders_') ? 'id' : 'order_id';
}

/** A deduction loop on one SKU until stopped; `verify` checks none of its sales was lost. */
async function liveSales() {
  const redis = new Redis(REDIS_URL);
  const service = new StockService({ redis, keyPrefix: config.redis.keyPrefix });
  await service.set({ operationId: randomUUID(), sku: 'LIVE-1', expectedVersion: 0, available: 1_000_000 });
  let sold = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await service.deduct({ operationId: randomUUID(), lines: [{ sku: 'LIVE-1', quantity: 1 }] });
      sold++;
    }
  })();
  return {
    get sold() {
      return sold;
    },
    async stop() {
      running = false;
      await loop;
    },
    async verify() {
      const drain = new LedgerDrain({
        redis,
        pool: pools.meta(),
        router,
        keyPrefix: config.redis.keyPrefix,
        logger: silentLogger(),
      });
      await drain.drainUntilIdle();
      expect((await service.get({ sku: 'LIVE-1' }))!.available).toBe(1_000_000 - sold);
      const stock = await cli(['reconcile', 'stock', '--json']);
      expect(stock.json).toMatchObject({ skus: 1, drift: [], remaining: 0 });
      expect(stock.code).toBe(EXIT.ok);
      await redis.quit();
    },
  };
}
