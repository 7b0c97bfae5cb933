import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { expect } from 'vitest';
import { type Config, parseConfig } from '../../src/core/config.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { createOrderStore } from '../../src/core/order-store.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import { fromSqlDateTime, toEpochMs } from '../../src/core/time.js';
import { listWorkers } from '../../src/core/worker-registry.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { KAFKA_TEST_SETTINGS } from './bus-fixture.js';
import { dropDatabases, KAFKA_BROKERS, MYSQL_URL, REDIS_URL, uniqueName } from './services.js';
import { type Comparison, compareWithGroundTruth, sandboxAccounts } from './sync-fixture.js';
import { type CliProcess, startCli } from './worker-process.js';

// `tradectl worker` as a container runs it: its own Node process, a config file naming the six
// accounts of an in-process sandbox (real clock), a 2 x 4 layout under a database, Redis and
// consumer-group prefix of its own. Each world is checked against the sandbox's ground truth.
export const TOKEN = 'worker-test-token-0123456789';
export const SHUTDOWN_TIMEOUT_MS = 15_000;
export const API_DRAIN_MS = 1500;

export interface World {
  sandbox: Sandbox;
  config: Config;
  file: string;
  env: NodeJS.ProcessEnv;
  pools: MysqlPools;
  compare(): Promise<Comparison>;
  /** Orders of the world's accounts in the store (a COUNT, cheap next to compare()). */
  storedCount(): Promise<number>;
  /** Polls until the store equals the ground truth; throws with the last comparison after `ms`. */
  converge(ms: number): Promise<Comparison>;
  close(): Promise<void>;
}

/** Config sections replaced whole, except `sync` and `kafka`, whose keys are merged in. */
export type WorldConfigLayer = Record<string, unknown> & {
  sync?: Record<string, unknown>;
  kafka?: Record<string, unknown>;
};

export async function createWorld(
  via: 'inline' | 'kafka',
  sandboxOptions: SandboxOptions,
  raw: WorldConfigLayer = {},
): Promise<World> {
  // The worker syncs every second, each run a few requests per account: the accounts get a limit
  // of 20/s (the config knob a user has), and the sandbox's list buckets room above it.
  const sandbox = await startSandbox({
    port: 0,
    historyDays: 2,
    throttleToleranceMs: 50,
    limits: {
      amazon: { searchOrders: { kind: 'bucket', rate: 100, burst: 100 } },
      shopify: { rest: { kind: 'bucket', rate: 100, burst: 100 } },
    },
    ...sandboxOptions,
  });
  const prefix = uniqueName('wk');
  const dir = await mkdtemp(join(tmpdir(), 'tradectl-worker-'));
  const file = join(dir, 'worker.json');
  const layer = {
    mysql: { databasePrefix: prefix },
    redis: { keyPrefix: `${prefix}:` },
    shards: { databases: 2, tablesPerDatabase: 4 },
    sync: { intervalSeconds: 1, jitterSeconds: 0, initialBackfillDays: 3, chunkHours: 6 },
    api: { port: 0, host: '127.0.0.1', tokens: [TOKEN] },
    worker: { shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS, lagSampleIntervalMs: 500, apiDrainMs: API_DRAIN_MS },
    kafka: {
      ...KAFKA_TEST_SETTINGS,
      ordersTopic: `tradectl.test.${prefix}.orders`,
      dlqTopic: `tradectl.test.${prefix}.dlq`,
      sinkGroupId: `${prefix}-sink`,
    },
    accounts: sandboxAccounts(sandbox, () => ({ limits: { ratePerSecond: 20, burst: 20 } })),
  };
  Object.assign(layer, raw, {
    sync: { ...layer.sync, ...raw.sync },
    kafka: { ...layer.kafka, ...raw.kafka },
  });
  await writeFile(file, JSON.stringify(layer));
  const env = {
    TRADECTL_MYSQL_URL: MYSQL_URL,
    TRADECTL_REDIS_URL: REDIS_URL,
    TRADECTL_KAFKA_BROKERS: via === 'kafka' ? KAFKA_BROKERS.join(',') : '',
    TRADECTL_LOG_LEVEL: 'info',
  };
  const config = parseConfig(layer, env);
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  const store = createOrderStore({
    pools,
    router,
    nextId: () => {
      throw new Error('the test store only reads');
    },
  });
  const compare = () => compareWithGroundTruth({ sandbox, accounts: config.accounts, store, pools, router });
  return {
    sandbox,
    config,
    file,
    env,
    pools,
    compare,
    async storedCount() {
      let total = 0;
      for (const account of config.accounts) {
        const location = router.route(account.userId);
        const [rows] = await pools
          .forDatabase(location.database)
          .query<RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM ${router.qualifiedTable(location, 'orders')} WHERE platform = ? AND account = ?`,
            [account.platform, account.id],
          );
        total += Number(rows[0]!.n);
      }
      return total;
    },
    async converge(ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const comparison = await compare();
        if (comparison.mismatches.length === 0) return comparison;
        if (Date.now() > deadline) {
          throw new Error(
            `no convergence in ${ms} ms: ${comparison.mismatches.length} mismatches, first ${comparison.mismatches[0]}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    async close() {
      await sandbox.close();
      await pools.close();
      await dropDatabases(config);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startWorker(world: World, roles = 'sync,sink,api') {
  const worker = startCli(['worker', '--config', world.file, '--roles', roles, '--json'], world.env);
  const started = await worker.nextJson();
  expect(started).toMatchObject({ event: 'started', roles: roles.split(',') });
  return { worker, api: String(started.api), started };
}

export async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { headers });
  return { status: response.status, text: await response.text() };
}

export async function pollUntil<T>(read: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function registeredWorkers(world: World) {
  const redis = new Redis(REDIS_URL);
  try {
    return await listWorkers({ redis, keyPrefix: world.config.redis.keyPrefix });
  } finally {
    await redis.quit();
  }
}

/** The worker's warnings and errors, for a failure message. */
export function problems(worker: CliProcess): string {
  return worker
    .stderr()
    .split('\n')
    .filter(
      (line) => /"level":"(warn|error|fatal)"/.test(line) && !line.includes('"component":"order-stock"'),
    )
    .slice(-30)
    .join('\n');
}

/** SIGTERM, then: /readyz answers 503 while the API drains, and the process exits 0 in time. */
export async function terminate(worker: CliProcess, api: string) {
  const began = performance.now();
  worker.signal('SIGTERM');
  let readyz = await get(`${api}/readyz`);
  for (let tries = 0; readyz.status === 200 && tries < 20; tries++) readyz = await get(`${api}/readyz`);
  const exit = await worker.exited();
  const seconds = (performance.now() - began) / 1000;
  const stopped = await worker.nextJson();
  return { readyz, exit, seconds, stopped };
}

/**
 * Sync windows recorded under different lease fencing tokens that overlap in time, per account:
 * two processes syncing one account at the same moment. Each token is one lease holding.
 */
export async function overlappingSyncWindows(world: World): Promise<string[]> {
  const router = routerForConfig(world.config);
  const [rows] = await world.pools
    .meta()
    .query<RowDataPacket[]>(
      `SELECT platform, account, fencing_token, started_at, finished_at FROM \`${router.metaDatabaseName}\`.\`sync_windows\` ORDER BY platform, account, started_at`,
    );
  const found: string[] = [];
  const last = new Map<string, { token: string; finished: number }>();
  for (const row of rows) {
    const key = `${row.platform}:${row.account}`;
    const started = toEpochMs(fromSqlDateTime(row.started_at));
    const finished = toEpochMs(fromSqlDateTime(row.finished_at));
    const token = String(row.fencing_token);
    const previous = last.get(key);
    if (previous && previous.token !== token && started < previous.finished) {
      found.push(`${key}: token ${token} started before token ${previous.token} finished`);
    }
    if (!previous || previous.token !== token || finished > previous.finished)
      last.set(key, { token, finished });
  }
  return found;
}
