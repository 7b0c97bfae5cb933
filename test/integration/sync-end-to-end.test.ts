import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlDeadLetterQueue, dlqTablesDdl } from '../../src/core/bus/dlq.js';
import type { Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { createOrderStore, type OrderStore } from '../../src/core/order-store.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import type { ShardRouter } from '../../src/core/shard-router.js';
import { createSyncWindowLog } from '../../src/core/sync-window-log.js';
import { fromEpochMs, maxInstant, minInstant } from '../../src/core/time.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { runSyncOnce, type SyncOnceOptions } from '../../src/workers/sync-once.js';
import type { SyncSummary } from '../../src/workers/sync-summary.js';
import { KAFKA_TEST_SETTINGS } from '../helpers/bus-fixture.js';
import { dropDatabases, testConfig } from '../helpers/services.js';
import { compareWithGroundTruth, ShiftedClock, sandboxAccounts } from '../helpers/sync-fixture.js';

// 3 platforms x 2 accounts x 2,000 orders, synced by the real command path (runSyncOnce) against
// an in-process sandbox, through the inline bus and through Kafka. The sandbox and tradectl share
// a clock that runs at real speed and can jump ahead, so updates made during a test become
// fetchable (past every safety lag and late-visibility delay) without waiting minutes.
const ORDERS_PER_ACCOUNT = 2000;
const RATE_SCALE = 1000;
const FAULTS = { error5xx: 0.08, rate429: 0.05, drop: 0.02 };

interface World {
  sandbox: Sandbox;
  clock: ShiftedClock;
  config: Config;
  router: ShardRouter;
  pools: MysqlPools;
  store: OrderStore;
  run(extra?: Partial<SyncOnceOptions>): Promise<SyncSummary>;
  /** Runs until every account succeeded (faults make single runs fail now and then). */
  converge(maxRuns?: number): Promise<SyncSummary[]>;
  compare(): ReturnType<typeof compareWithGroundTruth>;
  close(): Promise<void>;
}

async function createWorld(via: 'inline' | 'kafka', seed: number): Promise<World> {
  const clock = new ShiftedClock();
  const sandbox = await startSandbox({
    port: 0,
    seed,
    ordersPerAccount: ORDERS_PER_ACCOUNT,
    historyDays: 3,
    clock,
    rateScale: RATE_SCALE,
    // Client and sandbox refill by the same clock, but timers fire a few ms late or early.
    throttleToleranceMs: 50,
  });
  const run = randomBytes(4).toString('hex');
  const config = testConfig({
    shards: { databases: 2, tablesPerDatabase: 4 },
    sync: { initialBackfillDays: 4 },
    kafka: {
      ...KAFKA_TEST_SETTINGS,
      ordersTopic: `tradectl.test.${run}.orders`,
      dlqTopic: `tradectl.test.${run}.dlq`,
    },
    accounts: sandboxAccounts(sandbox),
  });
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  for (const ddl of dlqTablesDdl(router)) await pools.meta().query(ddl);
  const store = createOrderStore({
    pools,
    router,
    nextId: () => {
      throw new Error('the test store only reads');
    },
  });
  const runOnce = (extra: Partial<SyncOnceOptions> = {}) =>
    runSyncOnce({
      config,
      logger: silentLogger(),
      via,
      clock: clock.now,
      rateScale: RATE_SCALE,
      retry: { baseMs: 10, maxMs: 200 },
      busRetry: { initialMs: 20, maxMs: 200 },
      groupId: `tradectl-sink-${run}`,
      drainTimeoutMs: 60_000,
      ...extra,
    });
  return {
    sandbox,
    clock,
    config,
    router,
    pools,
    store,
    run: runOnce,
    async converge(maxRuns = 4) {
      const summaries: SyncSummary[] = [];
      for (let attempt = 0; attempt < maxRuns; attempt++) {
        const summary = await runOnce();
        summaries.push(summary);
        if (summary.outcome === 'ok') return summaries;
      }
      throw new Error(`no convergence in ${maxRuns} runs: ${JSON.stringify(summaries.at(-1)?.accounts)}`);
    },
    compare: () => compareWithGroundTruth({ sandbox, accounts: config.accounts, store, pools, router }),
    async close() {
      await sandbox.close();
      await pools.close();
      await dropDatabases(config);
    },
  };
}

const injected = (sandbox: Sandbox) =>
  sandbox
    .stats()
    .buckets.reduce((sum, bucket) => sum + bucket.injected5xx + bucket.forced429 + bucket.dropped, 0);
const sum = (summaries: SyncSummary[], pick: (summary: SyncSummary) => number) =>
  summaries.reduce((total, summary) => total + pick(summary), 0);
const EXPECTED = 6 * ORDERS_PER_ACCOUNT;

describe('sync end to end through the inline bus', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld('inline', 11);
  });
  afterAll(async () => {
    await world?.close();
  });

  it('stores every sandbox order field for field, with 5xx, 429, dropped connections and orders moving mid-listing', async () => {
    world.sandbox.setFaults('*', FAULTS);
    // eBay's offset paging skips an order when one already served leaves the window mid-listing.
    world.sandbox.setFaults('ebay', { ...FAULTS, paginationMutation: 0.3 });
    const runs = await world.converge();
    expect(injected(world.sandbox)).toBeGreaterThan(0);
    const moved = world.sandbox.stats().updates.applied;
    expect(moved).toBeGreaterThan(0);
    // The orders that moved got a new update time "now": past the safety lag they come in.
    world.clock.advance(10 * 60_000);
    world.sandbox.setFaults('ebay', FAULTS);
    runs.push(...(await world.converge()));
    expect(sum(runs, (summary) => summary.totals.retries)).toBeGreaterThan(0);
    // Every order came in at least once; all were new to the store.
    expect(sum(runs, (summary) => summary.totals.new ?? 0)).toBe(EXPECTED);
    const comparison = await world.compare();
    expect(comparison.mismatches.slice(0, 3)).toEqual([]);
    expect(comparison).toMatchObject({ expected: EXPECTED, stored: EXPECTED });
    // The comparison is not vacuous: one changed amount in one stored line is found.
    const account = world.config.accounts[0]!;
    const location = world.router.route(account.userId);
    const lines = world.router.qualifiedTable(location, 'order_lines');
    const pool = world.pools.forDatabase(location.database);
    const [[line]] = await pool.query<RowDataPacket[]>(
      `SELECT \`order_id\`, \`line_id\` FROM ${lines} LIMIT 1`,
    );
    const tamper = (delta: number) =>
      pool.query(
        `UPDATE ${lines} SET \`total_amount\` = \`total_amount\` + ? WHERE \`order_id\` = ? AND \`line_id\` = ?`,
        [delta, line!.order_id, line!.line_id],
      );
    await tamper(1);
    expect(
      (await world.compare()).mismatches.filter((entry) => entry.endsWith('differs') === false),
    ).toHaveLength(1);
    await tamper(-1);
    expect((await world.compare()).mismatches).toEqual([]);
  });

  it('picks up updates and new orders (some visible late) on the next incremental run', async () => {
    const applied = world.sandbox.applyUpdates(600);
    expect(applied).toBe(600);
    expect(world.sandbox.stats().updates.late).toBeGreaterThan(0);
    // Past the safety lags and every late-visibility delay.
    world.clock.advance(10 * 60_000);
    const runs = await world.converge();
    const last = runs.at(-1)!;
    // Incremental: only the overlap and the last ten minutes were fetched.
    expect(last.totals.fetched).toBeLessThan(EXPECTED / 4);
    expect(sum(runs, (summary) => (summary.totals.new ?? 0) + (summary.totals.updated ?? 0))).toBeGreaterThan(
      0,
    );
    const comparison = await world.compare();
    expect(comparison.mismatches.slice(0, 3)).toEqual([]);
    expect(comparison.stored).toBe(comparison.expected);
    expect(comparison.expected).toBeGreaterThan(EXPECTED);
  });

  it('changes nothing when the whole range is synced again by two runners at once, each account by one', async () => {
    world.sandbox.setFaults('*', {});
    const since = fromEpochMs(world.clock.now() - 5 * 86_400_000);
    const started = new Date(world.clock.now()).toISOString();
    const [a, b] = await Promise.all([world.run({ since }), world.run({ since })]);
    const rows = [...a.accounts, ...b.accounts];
    for (const summary of [a, b]) {
      expect(summary.outcome).toBe('ok');
      expect(summary.totals).toMatchObject({ new: 0, updated: 0 });
    }
    // Every account was synced by one of them (the other skipped it), or by both one after another.
    for (const account of world.config.accounts) {
      const statuses = rows.filter((row) => row.account === account.id).map((row) => row.status);
      expect(statuses).toContain('ok');
    }
    expect(rows.filter((row) => row.status === 'skipped').length).toBeGreaterThan(0);
    // Between them they fetched every order again, and every one was already stored as is.
    const truth = await world.compare();
    expect(a.totals.unchanged! + b.totals.unchanged!).toBeGreaterThanOrEqual(truth.expected);
    // No account was ever synced by both at the same moment: its windows of different fencing
    // tokens never overlap in time.
    const log = createSyncWindowLog({ pools: world.pools, router: world.router });
    for (const account of world.config.accounts) {
      const windows = (
        await log.list({ platform: account.platform, account: account.id, limit: 1000 })
      ).filter((entry) => entry.startedAt >= started);
      const byToken = new Map<number, { start: string; end: string }>();
      for (const entry of windows) {
        const span = byToken.get(entry.fencingToken) ?? { start: entry.startedAt, end: entry.finishedAt };
        span.start = minInstant(span.start, entry.startedAt);
        span.end = maxInstant(span.end, entry.finishedAt);
        byToken.set(entry.fencingToken, span);
      }
      const spans = [...byToken.values()].sort((x, y) => (x.start < y.start ? -1 : 1));
      for (let index = 1; index < spans.length; index++) {
        expect(spans[index]!.start >= spans[index - 1]!.end).toBe(true);
      }
    }
    expect(truth.mismatches.slice(0, 3)).toEqual([]);
    expect(truth.stored).toBe(truth.expected);
  });

  it('sends records the adapter cannot map to the DLQ with the reason and the raw payload', async () => {
    world.sandbox.setFaults('shopify', { malformed: 0.05 });
    const since = fromEpochMs(world.clock.now() - 5 * 86_400_000);
    const summary = await world.run({ platform: 'shopify', account: 'us-store', since });
    world.sandbox.setFaults('shopify', {});
    expect(summary.outcome).toBe('ok');
    const row = summary.accounts[0]!;
    expect(row.failed).toBeGreaterThan(0);
    expect(row.failed).toBe(
      world.sandbox.stats().malformed.filter((entry) => entry.account === 'us-store').length,
    );
    const dlq = createMysqlDeadLetterQueue({ pools: world.pools, router: world.router });
    const entries = await dlq.list({ limit: 1000 });
    expect(entries.length).toBe(row.failed);
    const entry = await dlq.get(entries[0]!.id);
    expect(entry).toMatchObject({ platform: 'shopify', account: 'us-store' });
    expect(entry!.reason).toMatch(
      /^adapter rejected the record: invalid Shopify order: shopify\.orders\[\d+\]\./,
    );
    const original = JSON.parse(entry!.original.toString('utf8'));
    expect(typeof original).toBe('object');
    // Nothing already stored was lost to the broken copies.
    const comparison = await world.compare();
    expect(comparison.mismatches.slice(0, 3)).toEqual([]);
  });
});

describe('sync end to end through Kafka', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld('kafka', 12);
  });
  afterAll(async () => {
    await world?.close();
  });

  it('stores every sandbox order field for field once the sink group caught up, with faults on', async () => {
    world.sandbox.setFaults('*', FAULTS);
    const runs = await world.converge();
    expect(injected(world.sandbox)).toBeGreaterThan(0);
    expect(runs.at(-1)!.via).toBe('kafka');
    expect(runs.at(-1)!.totals.new).toBeNull();
    expect(sum(runs, (summary) => summary.totals.published)).toBeGreaterThanOrEqual(EXPECTED);
    const comparison = await world.compare();
    expect(comparison.mismatches.slice(0, 3)).toEqual([]);
    expect(comparison).toMatchObject({ expected: EXPECTED, stored: EXPECTED });
  });

  it('picks up updates on the next run and stays equal to the ground truth', async () => {
    world.sandbox.applyUpdates(600);
    world.clock.advance(10 * 60_000);
    await world.converge();
    const comparison = await world.compare();
    expect(comparison.mismatches.slice(0, 3)).toEqual([]);
    expect(comparison.stored).toBe(comparison.expected);
    expect(comparison.expected).toBeGreaterThan(EXPECTED);
  });
});
