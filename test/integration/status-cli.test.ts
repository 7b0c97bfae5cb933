import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { createAccountLeases } from '../../src/core/account-lease.js';
import { dlqTablesDdl } from '../../src/core/bus/dlq.js';
import { parseConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import { toEpochMs } from '../../src/core/time.js';
import { registerWorkerHeartbeat } from '../../src/core/worker-registry.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import type { StatusReport } from '../../src/workers/status-report.js';
import { Collector } from '../helpers/collector.js';
import { dropDatabases, MYSQL_URL, REDIS_URL, uniqueName } from '../helpers/services.js';
import { sandboxAccounts } from '../helpers/sync-fixture.js';

// `tradectl status` as an operator runs it next to `tradectl sync` (inline bus) and a worker's
// heartbeat, against real MariaDB and Redis (2 x 4 layout, own prefixes). The Kafka lag case is in
// status-kafka-lag.test.ts.
const PREFIX = uniqueName('st');
const ENV = { TRADECTL_MYSQL_URL: MYSQL_URL, TRADECTL_REDIS_URL: REDIS_URL, TRADECTL_KAFKA_BROKERS: '' };
const raw = (accounts: unknown[]) => ({
  mysql: { databasePrefix: PREFIX },
  redis: { keyPrefix: `${PREFIX}:` },
  shards: { databases: 2, tablesPerDatabase: 4 },
  sync: { initialBackfillDays: 3 },
  accounts,
});

let dir: string;
let file: string;
let sandbox: Sandbox;
let pools: MysqlPools;
let redis: Redis;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 33, ordersPerAccount: 40, historyDays: 2 });
  dir = await mkdtemp(join(tmpdir(), 'tradectl-status-'));
  file = join(dir, 'status.json');
  await writeFile(file, JSON.stringify(raw(sandboxAccounts(sandbox))));
  const config = parseConfig(raw([]), ENV);
  const router = routerForConfig(config);
  pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  for (const ddl of dlqTablesDdl(router)) await pools.meta().query(ddl);
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await sandbox?.close();
  redis?.disconnect();
  await pools?.close();
  await dropDatabases(parseConfig(raw([]), ENV));
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], options: { tty?: boolean; env?: Record<string, string> } = {}) {
  const tty = options.tty ?? false;
  const io = {
    stdout: new Collector(tty),
    stderr: new Collector(tty),
    env: { ...ENV, ...options.env },
  } satisfies CliIo;
  const code = await runCli([...args, '--config', file], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

async function status(
  args: string[] = [],
  env?: Record<string, string>,
): Promise<{ code: number; report: StatusReport; stderr: string }> {
  const { code, stdout, stderr } = await cli(['status', '--json', ...args], { env });
  return { code, report: JSON.parse(stdout), stderr };
}

describe('tradectl status', () => {
  it('shows never-synced accounts, then checkpoints, lag, last windows and runs after a sync', async () => {
    const before = await status();
    expect(before.code).toBe(EXIT.ok);
    expect(before.report.problems).toEqual([]);
    expect(before.report.accounts).toHaveLength(6);
    for (const row of before.report.accounts) {
      expect(row).toMatchObject({
        checkpoint: null,
        lagSeconds: null,
        lastWindow: null,
        lease: null,
        lastRun: null,
        dlqOpen: 0,
      });
    }
    expect(before.report).toMatchObject({ workers: [], dlq: { open: 0 }, kafka: null });

    const sync = await cli(['sync', '--json']);
    expect(sync.code).toBe(EXIT.ok);
    const summary = JSON.parse(sync.stdout);
    const after = await status();
    expect(after.code).toBe(EXIT.ok);
    const generatedAt = toEpochMs(after.report.generatedAt);
    for (const row of after.report.accounts) {
      const synced = summary.accounts.find(
        (entry: { platform: string; account: string }) =>
          entry.platform === row.platform && entry.account === row.account,
      );
      expect(row.checkpoint?.cursorTime).toBe(synced.checkpoint);
      // A checkpoint trails now by at least the platform's safety lag (60 s or more here).
      expect(row.lagSeconds).toBeGreaterThanOrEqual(60);
      expect(row.lagSeconds).toBeLessThan(3600);
      expect(row.lastWindow).toMatchObject({ via: 'inline', to: synced.checkpoint });
      expect(toEpochMs(row.lastWindow!.finishedAt)).toBeLessThanOrEqual(generatedAt);
      expect(row.lastRun).toMatchObject({
        outcome: 'ok',
        published: synced.published,
        fetched: synced.fetched,
        error: null,
      });
      expect(row.breaker?.state).toBe('closed');
      expect(row.limiter?.buckets.length).toBeGreaterThan(0);
      expect(row).toMatchObject({ lease: null, running: null, dlqOpen: 0 });
    }
    expect(after.report.accounts.reduce((sum, row) => sum + row.lastRun!.published, 0)).toBe(240);

    const table = await cli(['status'], { tty: true });
    expect(table.code).toBe(EXIT.ok);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^PLATFORM\s+ACCOUNT\s+CHECKPOINT\s+LAG/);
    expect(
      lines
        .slice(1, 7)
        .every((line) => /\sfree\s+closed\s+\d+ queued\s+ok \d+s ago, \d+ published\s+0$/.test(line)),
    ).toBe(true);
    expect(table.stdout).toContain('workers: none running');
    expect(table.stdout).toContain('dead letter queue: empty');
  });

  it('shows who holds a lease, without taking it; a skipped sync leaves the last run as it was', async () => {
    const [first] = sandbox.accounts;
    const holder = createAccountLeases({
      redis,
      keyPrefix: `${PREFIX}:`,
      logger: silentLogger(),
      owner: 'ops-host:4242',
    });
    const acquired = await holder.acquire(first!.platform, first!.account);
    if (!acquired.acquired) throw new Error('the lease should be free');
    try {
      const before = (await status(['--platform', first!.platform, '--account', first!.account])).report;
      expect(before.accounts).toHaveLength(1);
      expect(before.accounts[0]!.lease).toMatchObject({
        owner: 'ops-host:4242',
        fencingToken: acquired.lease.fencingToken,
      });
      expect(before.accounts[0]!.lease!.expiresInMs).toBeGreaterThan(0);

      const skipped = await cli([
        'sync',
        '--platform',
        first!.platform,
        '--account',
        first!.account,
        '--json',
      ]);
      expect(JSON.parse(skipped.stdout).accounts[0].status).toBe('skipped');
      const after = (await status(['--platform', first!.platform, '--account', first!.account])).report;
      expect(after.accounts[0]!.lastRun).toEqual(before.accounts[0]!.lastRun);
      expect(after.accounts[0]!.lease?.owner).toBe('ops-host:4242');
    } finally {
      await acquired.lease.release();
    }
    expect((await status(['--account', first!.account])).report.accounts[0]!.lease).toBeNull();
  });

  it('lists live workers from their heartbeats, and forgets a stopped one', async () => {
    const heartbeat = await registerWorkerHeartbeat({
      redis,
      keyPrefix: `${PREFIX}:`,
      logger: silentLogger(),
      id: 'worker-a',
      roles: ['sync', 'sink'],
      intervalMs: 1000,
      info: { api: '0.0.0.0:8080' },
    });
    try {
      const { report } = await status();
      expect(report.workers).toEqual([
        expect.objectContaining({
          id: 'worker-a',
          roles: ['sync', 'sink'],
          stale: false,
          pid: process.pid,
          info: { api: '0.0.0.0:8080' },
        }),
      ]);
    } finally {
      await heartbeat.stop();
    }
    expect((await status()).report.workers).toEqual([]);
  });

  it("shows a failed run's error and hint until a later run succeeds", async () => {
    const broken = sandbox.accounts.find((entry) => entry.platform === 'ebay')!;
    sandbox.revokeGrant('ebay', broken.account);
    sandbox.expireTokens('ebay', broken.account);
    try {
      expect((await cli(['sync', '--platform', 'ebay', '--account', broken.account])).code).toBe(EXIT.failed);
    } finally {
      sandbox.restoreGrant('ebay', broken.account);
    }
    const row = (await status(['--platform', 'ebay', '--account', broken.account])).report.accounts[0]!;
    expect(row.lastRun).toMatchObject({
      outcome: 'failed',
      error: { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config' },
    });
    expect(row.lastError).toMatchObject({ code: 'TRADECTL_PLATFORM_AUTH', at: row.lastRun!.finishedAt });
    const table = await cli(['status', '--platform', 'ebay', '--account', broken.account], { tty: true });
    expect(table.stdout).toMatch(
      new RegExp(`ebay:${broken.account}: TRADECTL_PLATFORM_AUTH \\d+s ago: .+\\n  hint: .+`),
    );

    expect((await cli(['sync', '--platform', 'ebay', '--account', broken.account])).code).toBe(EXIT.ok);
    const healed = (await status(['--platform', 'ebay', '--account', broken.account])).report.accounts[0]!;
    expect(healed.lastRun?.outcome).toBe('ok');
    expect(healed.lastError?.code).toBe('TRADECTL_PLATFORM_AUTH');
    expect(
      (await cli(['status', '--platform', 'ebay', '--account', broken.account], { tty: true })).stdout,
    ).not.toContain('TRADECTL_PLATFORM_AUTH');
  });

  it('exits 1 naming the server it cannot reach, and still shows what the others hold', async () => {
    const noRedis = await status([], { TRADECTL_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(noRedis.code).toBe(EXIT.failed);
    expect(noRedis.stderr).toContain('tradectl: cannot read Redis at 127.0.0.1:1');
    // The socket's reason, not ioredis's "Connection is closed.", and what to check.
    expect(noRedis.report.problems).toEqual([
      expect.objectContaining({
        service: 'redis',
        target: '127.0.0.1:1',
        message: 'connect ECONNREFUSED 127.0.0.1:1',
        hint: expect.stringContaining('is Redis up, and is redis.url'),
      }),
    ]);
    expect(noRedis.report.workers).toBeNull();
    expect(noRedis.report.accounts.every((row) => row.checkpoint !== null && row.lastRun === null)).toBe(
      true,
    );

    const noMysql = await status([], { TRADECTL_MYSQL_URL: 'mysql://tradectl:Hidden_Pw_9@127.0.0.1:1' });
    expect(noMysql.code).toBe(EXIT.failed);
    expect(noMysql.stderr).toContain('tradectl: cannot read MySQL at 127.0.0.1:1');
    // The driver's reason once (the classified error already carries it), then what to check.
    expect(noMysql.report.problems).toEqual([
      expect.objectContaining({
        service: 'mysql',
        message: expect.stringMatching(/^[^:]+: connect ECONNREFUSED 127\.0\.0\.1:1$/),
        hint: expect.stringContaining('is MySQL up, and is mysql.url'),
      }),
    ]);
    expect(JSON.stringify(noMysql.report) + noMysql.stderr).not.toContain('Hidden_Pw_9');
    expect(noMysql.report.dlq).toBeNull();
    expect(noMysql.report.accounts.every((row) => row.checkpoint === null && row.lastRun !== null)).toBe(
      true,
    );
  });

  it('refuses an account that is not configured (exit 2)', async () => {
    const { code, stderr } = await cli(['status', '--account', 'nobody']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('no configured account matches --account nobody');
  });
});
