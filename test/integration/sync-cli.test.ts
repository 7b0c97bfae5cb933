import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { dlqTablesDdl } from '../../src/core/bus/dlq.js';
import { createCheckpointStore } from '../../src/core/checkpoint-store.js';
import { parseConfig } from '../../src/core/config.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { Collector } from '../helpers/collector.js';
import { dropDatabases, MYSQL_URL, REDIS_URL, uniqueName } from '../helpers/services.js';
import { sandboxAccounts } from '../helpers/sync-fixture.js';

// `tradectl sync` as a user runs it: a config file naming six sandbox accounts, the real
// command tree in-process, the inline bus (no kafka.brokers in the file), the real clock.
const ORDERS = 150;
const PREFIX = uniqueName('sc');
const ENV = { TRADECTL_MYSQL_URL: MYSQL_URL, TRADECTL_REDIS_URL: REDIS_URL, TRADECTL_KAFKA_BROKERS: '' };

let dir: string;
let file: string;
let sandbox: Sandbox;
let pools: MysqlPools;
const raw = (accounts: unknown[]) => ({
  mysql: { databasePrefix: PREFIX },
  redis: { keyPrefix: `${PREFIX}:` },
  shards: { databases: 2, tablesPerDatabase: 2 },
  sync: { initialBackfillDays: 3 },
  accounts,
});

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 21, ordersPerAccount: ORDERS, historyDays: 2 });
  dir = await mkdtemp(join(tmpdir(), 'tradectl-sync-'));
  file = join(dir, 'sync.json');
  // A few requests per account: the documented limits' bursts cover them without scaling.
  await writeFile(file, JSON.stringify(raw(sandboxAccounts(sandbox))));
  const config = parseConfig(raw([]), ENV);
  const router = routerForConfig(config);
  pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  for (const ddl of dlqTablesDdl(router)) await pools.meta().query(ddl);
});

afterAll(async () => {
  await sandbox?.close();
  await pools?.close();
  await dropDatabases(parseConfig(raw([]), ENV));
  await rm(dir, { recursive: true, force: true });
});

async function sync(args: string[], tty = false) {
  const io = { stdout: new Collector(tty), stderr: new Collector(tty), env: ENV } satisfies CliIo;
  const code = await runCli(['sync', '--config', file, ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('tradectl sync against the sandbox', () => {
  it('syncs every account on a terminal: progress bars on stderr, the summary table on stdout', async () => {
    const { code, stdout, stderr } = await sync([], true);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toContain('windows |');
    expect(stderr).toMatch(
      /synced 6 account\(s\) via inline in [\d.]+s: 6 ok, 0 failed, 0 skipped; 900 fetched, 900 published \(900 new, 0 updated, 0 unchanged\)/,
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PLATFORM\s+ACCOUNT\s+STATUS\s+FETCHED/);
    expect(lines.slice(1).filter((line) => /\sok\s/.test(line))).toHaveLength(6);
    const checkpoints = await createCheckpointStore({
      pools,
      router: routerForConfig(parseConfig(raw([]), ENV)),
    }).list();
    expect(checkpoints).toHaveLength(6);
  });

  it('exits 3 when one account fails (revoked grant: a config error) and the others sync', async () => {
    sandbox.revokeGrant('ebay', 'de-seller');
    sandbox.expireTokens('ebay', 'de-seller');
    try {
      const { code, stdout, stderr } = await sync(['--json']);
      expect(code).toBe(EXIT.partial);
      const summary = JSON.parse(stdout);
      const failed = summary.accounts.filter((row: { status: string }) => row.status === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        platform: 'ebay',
        account: 'de-seller',
        error: { kind: 'config', code: 'TRADECTL_PLATFORM_AUTH' },
      });
      expect(summary.totals).toMatchObject({ ok: 5, failedAccounts: 1 });
      // The operator is told on stderr (a log line with the hint); no credential leaks anywhere.
      expect(stderr).toContain('account stopped: it needs an operator');
      const secret = sandbox.accounts.find((entry) => entry.account === 'de-seller')!.credentials
        .refreshToken!;
      expect(stdout + stderr).not.toContain(secret);

      const alone = await sync(['--platform', 'ebay', '--account', 'de-seller']);
      expect(alone.code).toBe(EXIT.failed);
      expect(alone.stderr).toContain('hint (ebay:de-seller):');
    } finally {
      sandbox.restoreGrant('ebay', 'de-seller');
    }
    const healed = await sync(['--platform', 'ebay', '--json']);
    expect(healed.code).toBe(EXIT.ok);
  });
});
