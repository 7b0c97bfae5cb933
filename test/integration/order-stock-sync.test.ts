import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { type Config, parseConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { activeLines } from '../../src/core/order-stock/intent-rows.js';
import { issuesTable } from '../../src/core/order-stock/intent-schema.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import type { ShardRouter } from '../../src/core/shard-router.js';
import { LedgerDrain } from '../../src/core/stock/ledger-drain.js';
import { stockTable } from '../../src/core/stock/ledger-schema.js';
import { ListingMap } from '../../src/core/stock/listing-map.js';
import { StockService } from '../../src/core/stock/stock-service.js';
import { type Sandbox, type SandboxPlatform, startSandbox } from '../../src/sandbox/index.js';
import { runSyncOnce } from '../../src/workers/sync-once.js';
import { Collector } from '../helpers/collector.js';
import { dropDatabases, MYSQL_URL, REDIS_URL, uniqueName } from '../helpers/services.js';
import { expectedOrders, ShiftedClock, sandboxAccounts } from '../helpers/sync-fixture.js';

// `tradectl sync` against the sandbox (six accounts on Shopify, Amazon and eBay, inline bus,
// 2 x 4 layout) with every catalogue SKU but one mapped to an internal SKU of the same name:
// once the sync returns, Redis holds the initial stock minus every active sold line, each
// deducted once (also after a full re-sync), the unmapped SKU's lines are reported, orders
// cancelled later give their stock back, and the drained ledger equals Redis.
const ORDERS = 120;
const INITIAL = 1_000_000;
const UNMAPPED = 'KBD-MEC-TKL';
const PREFIX = uniqueName('os');
const ENV = { TRADECTL_MYSQL_URL: MYSQL_URL, TRADECTL_REDIS_URL: REDIS_URL, TRADECTL_KAFKA_BROKERS: '' };

let dir: string;
let file: string;
let sandbox: Sandbox;
let clock: ShiftedClock;
let config: Config;
let router: ShardRouter;
let pools: MysqlPools;
let redis: Redis;
let service: StockService;
let skus: string[];

beforeAll(async () => {
  clock = new ShiftedClock();
  sandbox = await startSandbox({ port: 0, seed: 41, ordersPerAccount: ORDERS, historyDays: 2, clock });
  const raw = {
    mysql: { databasePrefix: PREFIX },
    redis: { keyPrefix: `${PREFIX}:` },
    shards: { databases: 2, tablesPerDatabase: 4 },
    sync: { initialBackfillDays: 3 },
    accounts: sandboxAccounts(sandbox),
  };
  dir = await mkdtemp(join(tmpdir(), 'tradectl-order-stock-'));
  file = join(dir, 'config.json');
  await writeFile(file, JSON.stringify(raw));
  config = parseConfig(raw, ENV);
  router = routerForConfig(config);
  pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  redis = new Redis(REDIS_URL);
  service = new StockService({ redis, keyPrefix: config.redis.keyPrefix });
  // The SKUs the sandbox's orders sell, as each platform's mapper reports them.
  skus = [
    ...new Set(
      config.accounts.flatMap((account) =>
        expectedOrders(sandbox, account).flatMap((order) => order.lines.map((line) => line.sku ?? '')),
      ),
    ),
  ].sort();
  expect(skus).toContain(UNMAPPED);
  expect(skus).not.toContain('');
  const listings = new ListingMap({ pool: pools.meta(), router });
  await listings.importMappings(
    config.accounts.flatMap((account) =>
      skus
        .filter((sku) => sku !== UNMAPPED)
        .map((sku) => ({
          platform: account.platform,
          account: account.id,
          kind: 'sku' as const,
          channelKey: sku,
          sku,
        })),
    ),
  );
  for (const sku of skus) {
    if (sku !== UNMAPPED) {
      await service.set({ operationId: `init-${sku}`, sku, expectedVersion: 0, available: INITIAL });
    }
  }
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  const keys = redis ? await redis.keys(`${PREFIX}:*`) : [];
  if (keys.length > 0) await redis.del(...keys);
  await redis?.quit();
  await pools?.close();
  if (config) await dropDatabases(config);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What the sandbox's orders sold and still hold, per SKU, and how many lines sell the unmapped one. */
function expected(): { sold: Record<string, number>; unmappedLines: number } {
  const sold: Record<string, number> = {};
  let unmappedLines = 0;
  for (const account of config.accounts) {
    for (const order of expectedOrders(sandbox, account)) {
      for (const line of activeLines(order)) {
        if (line.sku === UNMAPPED) unmappedLines++;
        else sold[line.sku!] = (sold[line.sku!] ?? 0) + line.quantity;
      }
    }
  }
  return { sold, unmappedLines };
}

async function redisSold(): Promise<Record<string, number>> {
  const sold: Record<string, number> = {};
  for (const level of await service.getMany({ skus: skus.filter((sku) => sku !== UNMAPPED) })) {
    if (level && level.available < INITIAL) sold[level.sku] = INITIAL - level.available;
  }
  return sold;
}

async function unmappedIssues(): Promise<number> {
  const [rows] = await pools
    .meta()
    .query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${issuesTable(router)} WHERE kind = 'unmapped' AND channel_sku = ?`,
      [UNMAPPED],
    );
  return Number(rows[0]!.n);
}

async function sync(args: string[] = []) {
  const io = { stdout: new Collector(), stderr: new Collector(), env: ENV } satisfies CliIo;
  const code = await runCli(['sync', '--config', file, '--json', ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('tradectl sync with listings mapped', () => {
  it('deducts every sold line once, reports the unmapped ones, and changes nothing on a full re-sync', async () => {
    const first = await sync();
    expect(first.code, first.stderr).toBe(EXIT.ok);
    expect(JSON.parse(first.stdout).totals).toMatchObject({ new: 6 * ORDERS });
    const want = expected();
    expect(Object.keys(want.sold).length).toBeGreaterThan(5);
    expect(want.unmappedLines).toBeGreaterThan(0);
    expect(await redisSold()).toEqual(want.sold);
    expect(await unmappedIssues()).toBe(want.unmappedLines);

    const since = new Date(clock.now() - 3 * 86_400_000).toISOString();
    const again = await sync(['--since', since]);
    expect(again.code, again.stderr).toBe(EXIT.ok);
    expect(JSON.parse(again.stdout).totals).toMatchObject({ new: 0, updated: 0 });
    expect(await redisSold()).toEqual(want.sold);
    expect(await unmappedIssues()).toBe(want.unmappedLines);
  });

  it('gives back the stock of orders cancelled later, once, and the ledger ends equal to Redis', async () => {
    const before = expected();
    let cancelled = 0;
    for (const account of config.accounts) {
      const orders = expectedOrders(sandbox, account).filter((order) => activeLines(order).length > 0);
      for (const order of orders.slice(0, 8)) {
        const platform = account.platform as SandboxPlatform;
        if (
          sandbox.updateOrder(platform, account.id, order.platformOrderId, {
            transition: 'cancel',
            late: false,
          })
        ) {
          cancelled++;
        }
      }
    }
    expect(cancelled).toBeGreaterThan(10);
    const after = expected();
    expect(after.sold).not.toEqual(before.sold);
    // Past every safety lag, so the cancellations are inside the next windows.
    clock.advance(10 * 60_000);
    const options = { config, logger: silentLogger(), via: 'inline' as const, clock: clock.now };
    for (let run = 0; run < 2; run++) {
      const summary = await runSyncOnce(options);
      expect(summary.outcome).toBe('ok');
    }
    expect(await redisSold()).toEqual(after.sold);

    const drain = new LedgerDrain({
      redis,
      pool: pools.meta(),
      router,
      keyPrefix: config.redis.keyPrefix,
      logger: silentLogger(),
    });
    await drain.drainUntilIdle();
    const [rows] = await pools
      .meta()
      .query<RowDataPacket[]>(
        `SELECT sku, on_hand FROM ${stockTable(router, 'inventory')} WHERE tenant = 'default'`,
      );
    const mysqlSold = Object.fromEntries(
      rows
        .filter((row) => Number(row.on_hand) < INITIAL)
        .map((row) => [String(row.sku), INITIAL - Number(row.on_hand)]),
    );
    expect(mysqlSold).toEqual(after.sold);
  });
});
