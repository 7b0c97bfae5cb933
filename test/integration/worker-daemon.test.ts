import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeLines } from '../../src/core/order-stock/intent-rows.js';
import type { OrderStockCounts } from '../../src/core/order-stock/order-stock-metrics.js';
import { StockService } from '../../src/core/stock/stock-service.js';
import type { WorkerAccountRow } from '../../src/workers/worker-summary.js';
import { REDIS_URL } from '../helpers/services.js';
import { expectedOrders } from '../helpers/sync-fixture.js';
import {
  createWorld,
  get,
  pollUntil,
  problems,
  registeredWorkers,
  SHUTDOWN_TIMEOUT_MS,
  startWorker,
  TOKEN,
  terminate,
  type World,
} from '../helpers/worker-fixture.js';
import { parseMetrics, startCli } from '../helpers/worker-process.js';

// `tradectl worker` as a container runs it (test/helpers/worker-fixture.ts): its own process, a
// config file naming the six accounts of an in-process sandbox, a 2 x 4 layout and prefixes of
// its own; the store is compared with the sandbox's ground truth.

describe('tradectl worker through the inline bus', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld('inline', {
      seed: 31,
      ordersPerAccount: 400,
      faults: { shopify: { rate429: 0.05 }, amazon: { rate429: 0.05 }, ebay: { rate429: 0.05 } },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('syncs every account to the ground truth, shows the named series in /metrics, and stops on SIGTERM', async () => {
    const { worker, api, started } = await startWorker(world);
    try {
      expect(started).toMatchObject({ via: 'inline', groupId: world.config.kafka.sinkGroupId });
      expect([...(started.accounts as string[])].sort()).toEqual(
        world.config.accounts.map((account) => `${account.platform}:${account.id}`).sort(),
      );
      const comparison = await world.converge(150_000).catch((error: Error) => {
        throw new Error(`${error.message}\nworker log:\n${problems(worker)}`);
      });
      expect(comparison.stored).toBe(comparison.expected);
      expect(comparison.expected).toBeGreaterThanOrEqual(6 * 390);
      // Start-up said what runs, where the API is, and which accounts are scheduled.
      expect(worker.logs(/^worker started/)[0]).toMatchObject({ api, accounts: started.accounts });

      expect(await get(`${api}/readyz`)).toMatchObject({ status: 200 });
      const metrics = parseMetrics((await get(`${api}/metrics`)).text);
      const series = (name: string) => metrics.get(name) ?? [];
      const sum = (name: string, filter: (labels: Record<string, string>) => boolean = () => true) =>
        series(name)
          .filter((sample) => filter(sample.labels))
          .reduce((total, sample) => total + sample.value, 0);
      // Sync lag: one per account, about the safety lag (60 s; Amazon 150 s) plus the interval.
      const lags = series('tradectl_sync_lag_seconds');
      expect(lags).toHaveLength(6);
      for (const { labels, value } of lags) {
        expect(value, `${labels.platform}:${labels.account}`).toBeGreaterThanOrEqual(
          labels.platform === 'amazon' ? 150 : 60,
        );
        expect(value).toBeLessThan(600);
      }
      for (const platform of ['shopify', 'amazon', 'ebay']) {
        expect(
          sum('tradectl_platform_requests_total', (labels) => labels.platform === platform),
        ).toBeGreaterThan(0);
      }
      // 5% of the calls were answered 429: the counter saw them.
      expect(sum('tradectl_platform_throttled_total')).toBeGreaterThan(0);
      expect(sum('tradectl_platform_throttled_total')).toBeLessThan(sum('tradectl_platform_requests_total'));
      const breakers = series('tradectl_breaker_state');
      expect(breakers).toHaveLength(6);
      for (const { value } of breakers) expect([0, 1, 2]).toContain(value);
      expect(series('tradectl_limiter_queued').length).toBeGreaterThanOrEqual(6);
      expect(series('tradectl_consumer_lag_messages')).toEqual([
        { labels: { group: world.config.kafka.sinkGroupId, topic: 'inline', partition: 'all' }, value: 0 },
      ]);
      expect(sum('tradectl_sink_upsert_duration_seconds_count')).toBeGreaterThan(0);
      expect(sum('tradectl_sink_orders_total', (labels) => labels.result === 'inserted')).toBe(
        comparison.expected,
      );
      expect(sum('tradectl_sync_runs_total', (labels) => labels.outcome === 'ok')).toBeGreaterThanOrEqual(6);
      // The sandbox's SKUs have no listing mappings: every sold line is reported unmapped, and the
      // sink's order-stock counters say so per platform, as many as the issues table holds.
      const unmapped = await pollUntil(async () => {
        const [rows] = await world.pools.meta().query<RowDataPacket[]>(
          `SELECT \`platform\`, COUNT(*) AS \`n\` FROM \`${world.config.mysql.databasePrefix}_meta\`.\`stock_order_issues\`
              WHERE \`kind\` = 'unmapped' GROUP BY \`platform\``,
        );
        const issues = Object.fromEntries(rows.map((row) => [String(row.platform), Number(row.n)]));
        const counted = parseMetrics((await get(`${api}/metrics`)).text).get(
          'tradectl_order_stock_lines_total',
        );
        const byPlatform: Record<string, number> = {};
        for (const { labels, value } of counted ?? []) {
          if (labels.outcome === 'unmapped')
            byPlatform[labels.platform!] = (byPlatform[labels.platform!] ?? 0) + value;
        }
        const sorted = (counts: Record<string, number>) => JSON.stringify(Object.entries(counts).sort());
        return rows.length > 0 && sorted(byPlatform) === sorted(issues) ? byPlatform : null;
      });
      expect(Object.keys(unmapped).sort()).toEqual(
        [...new Set(world.config.accounts.map((account) => account.platform))].sort(),
      );
      expect(sum('tradectl_worker_ready')).toBe(1);
      expect(sum('tradectl_process_resident_memory_bytes')).toBeGreaterThan(0);

      const { readyz, exit, seconds, stopped } = await terminate(worker, api);
      expect(readyz.status).toBe(503);
      expect(JSON.parse(readyz.text)).toMatchObject({
        ok: false,
        checks: { worker: { message: 'shutting down' } },
      });
      expect(exit).toEqual({ code: 0, signal: null });
      expect(seconds).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 1000 + 3);
      expect(stopped).toMatchObject({ event: 'stopped', exitCode: 0, outcome: 'graceful', abandoned: [] });
      expect(stopped.accounts).toHaveLength(6);
      // Its summary: 429s are throttling, not failures, so no breaker opened; with no listing
      // mapped, each account's sold lines were reported unmapped, nothing deducted.
      const rows = stopped.accounts as (WorkerAccountRow & { stock: OrderStockCounts })[];
      expect(rows.reduce((total, row) => total + row.throttled, 0)).toBeGreaterThan(0);
      for (const row of rows) {
        const account = world.config.accounts.find(
          (entry) => entry.platform === row.platform && entry.id === row.account,
        )!;
        const lines = expectedOrders(world.sandbox, account).flatMap((order) => activeLines(order)).length;
        expect(row.breakerTrips, row.account).toBe(0);
        expect(row.stock, row.account).toMatchObject({ deducted: 0, unmapped: lines, unitsDeducted: 0 });
      }
      for (const step of ['sync', 'sink', 'bus', 'api', 'heartbeat', 'connections']) {
        expect(worker.logs(new RegExp(`^shutdown: ${step} done$`)), step).toHaveLength(1);
      }
    } finally {
      worker.signal('SIGKILL');
    }
  }, 240_000);
});

describe('tradectl worker with every role', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld('inline', { seed: 33, ordersPerAccount: 50 });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('runs all roles by default, reports each in /readyz, and stops each on SIGTERM', async () => {
    const worker = startCli(['worker', '--config', world.file, '--json'], world.env);
    try {
      const started = await worker.nextJson();
      expect(started.roles).toEqual(['sync', 'sink', 'api', 'ledger', 'sweeper', 'push']);
      const api = String(started.api);
      const readyz = JSON.parse((await get(`${api}/readyz`)).text);
      expect(readyz).toMatchObject({
        ok: true,
        checks: {
          worker: { ok: true },
          mysql: { ok: true },
          redis: { ok: true },
          'redis-stock': { ok: true },
          'redis-stock-api': { ok: true },
        },
      });
      expect(Object.keys(readyz.checks)).toEqual(expect.arrayContaining(['sink', 'ledger', 'push']));
      // The stock API is served (api.tokens is set) behind its bearer token.
      expect((await get(`${api}/v1/stock/NO-SUCH-SKU`)).status).toBe(401);
      expect((await get(`${api}/v1/stock/NO-SUCH-SKU`, { authorization: `Bearer ${TOKEN}` })).status).toBe(
        404,
      );
      // A stock change: the ledger role drains it into MySQL, and its lag shows in /metrics.
      const redis = new Redis(REDIS_URL);
      try {
        const stock = new StockService({ redis, keyPrefix: world.config.redis.keyPrefix });
        await stock.set({ operationId: 'worker-test-set', sku: 'MUG-1', expectedVersion: 0, available: 7 });
      } finally {
        await redis.quit();
      }
      const [inventory] = await pollUntil(async () => {
        const [rows] = await world.pools
          .meta()
          .query<RowDataPacket[]>(
            `SELECT \`on_hand\` FROM \`${world.config.mysql.databasePrefix}_meta\`.\`inventory\` WHERE \`sku\` = ?`,
            ['MUG-1'],
          );
        return rows.length > 0 ? rows : null;
      });
      expect(Number(inventory!.on_hand)).toBe(7);
      const ledger = parseMetrics((await get(`${api}/metrics`)).text);
      expect(ledger.get('tradectl_ledger_lag_entries')).toEqual([
        { labels: { tenant: 'default' }, value: 0 },
      ]);
      expect(ledger.get('tradectl_ledger_lag_seconds')).toEqual([
        { labels: { tenant: 'default' }, value: 0 },
      ]);
      await world.converge(90_000);
      expect(await registeredWorkers(world)).toEqual([
        expect.objectContaining({ roles: started.roles, info: { via: 'inline', api } }),
      ]);
      const { exit, stopped } = await terminate(worker, api);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(stopped.steps).toEqual({
        sync: 'done',
        sink: 'done',
        ledger: 'done',
        sweeper: 'done',
        push: 'done',
        bus: 'done',
        api: 'done',
        heartbeat: 'done',
        connections: 'done',
      });
      // Its heartbeat left the registry `tradectl status` reads.
      expect(await registeredWorkers(world)).toEqual([]);
    } finally {
      worker.signal('SIGKILL');
    }
  }, 180_000);
});

describe('tradectl worker through Kafka, stopped mid-sync', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld('kafka', {
      seed: 32,
      ordersPerAccount: 1000,
      // Slow enough that a SIGTERM a moment after the first orders lands mid-sync.
      faults: {
        shopify: { latencyMs: 300, error5xx: 0.03 },
        amazon: { latencyMs: 300, error5xx: 0.03 },
        ebay: { latencyMs: 300, error5xx: 0.03 },
      },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('exits 0 within the bound on SIGTERM mid-sync, and a second worker finds nothing missing', async () => {
    const first = await startWorker(world);
    let stored = 0;
    try {
      // SIGTERM as soon as the sink stored its first orders (its counter; reading the store is slower).
      const deadline = Date.now() + 60_000;
      while (stored === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const metrics = parseMetrics((await get(`${first.api}/metrics`)).text);
        stored = (metrics.get('tradectl_sink_orders_total') ?? [])
          .filter((sample) => sample.labels.result === 'inserted')
          .reduce((total, sample) => total + sample.value, 0);
      }
      expect(stored).toBeGreaterThan(0);
      const { readyz, exit, seconds, stopped } = await terminate(first.worker, first.api);
      expect(readyz.status).toBe(503);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(seconds).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 1000 + 3);
      expect(stopped).toMatchObject({ exitCode: 0, outcome: 'graceful' });
      // Runs were in flight and were aborted between pages, not waited for.
      const rows = stopped.accounts as { lastError: { code: string } | null }[];
      expect(rows.some((row) => row.lastError?.code === 'TRADECTL_SYNC_CANCELLED')).toBe(true);
    } finally {
      first.worker.signal('SIGKILL');
    }
    // The first worker was stopped before it had everything: the test is about the rest.
    const after = await world.compare();
    expect(after.stored).toBeLessThan(after.expected);

    const second = await startWorker(world);
    try {
      const comparison = await world.converge(150_000).catch((error: Error) => {
        throw new Error(`${error.message}\nworker log:\n${problems(second.worker)}`);
      });
      expect(comparison.stored).toBe(comparison.expected);
      const metrics = parseMetrics((await get(`${second.api}/metrics`)).text);
      const lag = metrics.get('tradectl_consumer_lag_messages') ?? [];
      // One series per partition of the topic (the local broker may create it with its own count).
      expect(new Set(lag.map((sample) => sample.labels.partition)).size).toBe(lag.length);
      expect(lag.length).toBeGreaterThan(0);
      for (const sample of lag) {
        expect(sample.labels).toMatchObject({
          group: world.config.kafka.sinkGroupId,
          topic: world.config.kafka.ordersTopic,
        });
        expect(sample.value).toBeGreaterThanOrEqual(0);
      }
      const { exit, stopped } = await terminate(second.worker, second.api);
      expect(exit.code).toBe(0);
      expect((stopped.sink as { inserted: number }).inserted).toBeGreaterThan(0);
    } finally {
      second.worker.signal('SIGKILL');
    }
  }, 300_000);
});

describe('tradectl worker --roles', () => {
  it('exits 2 naming an unknown role', async () => {
    const worker = startCli(['worker', '--roles', 'sync,bogus'], { TRADECTL_KAFKA_BROKERS: '' });
    expect(await worker.exited()).toEqual({ code: 2, signal: null });
    expect(worker.stderr()).toContain('tradectl: unknown worker role "bogus" in --roles');
    expect(worker.stderr()).toContain('hint: roles: sync, sink, api, ledger, sweeper, push');
  });
});
