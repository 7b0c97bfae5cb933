import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/common.js';
import { EXIT, type ExitCode } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { registerSyncCommand } from '../../src/cli/sync.js';
import type { SyncOnceOptions } from '../../src/workers/sync-once.js';
import { type SyncSummary, summarizeSync } from '../../src/workers/sync-summary.js';
import { Collector } from '../helpers/collector.js';

let dir: string;
let config: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tradectl-sync-cli-'));
  config = join(dir, 'accounts.yaml');
  await writeFile(
    config,
    [
      'accounts:',
      '  - { platform: shopify, id: us-store, userId: "1", credentials: { accessToken: t }, options: { shopDomain: a.myshopify.com } }',
      '  - { platform: ebay, id: de-seller, userId: "2", credentials: { clientId: c, clientSecret: s, refreshToken: r } }',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  const io = { stdout: new Collector(), stderr: new Collector(), env: {} } satisfies CliIo;
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

/** The sync command with its run replaced: what it was asked, and a canned summary. */
async function runWithFake(argv: string[], summary: SyncSummary) {
  const io = { stdout: new Collector(), stderr: new Collector(), env: {} } satisfies CliIo;
  let exitCode: ExitCode = EXIT.ok;
  const asked: SyncOnceOptions[] = [];
  const program = new Command('tradectl').exitOverride();
  registerSyncCommand(
    program,
    createContext(io, (code) => (exitCode = code)),
    {
      handleSignals: false,
      runSync: async (options) => {
        asked.push(options);
        return summary;
      },
    },
  );
  await program.parseAsync(argv, { from: 'user' });
  return { exitCode, asked, stdout: io.stdout.text, stderr: io.stderr.text };
}

const okResult = (account: string, status: 'ok' | 'failed') => ({
  platform: 'shopify',
  account,
  status,
  fetched: 3,
  published: 3,
  rejected: 0,
  pages: 1,
  chunks: 1,
  chunksDone: status === 'ok' ? 1 : 0,
  requests: 1,
  throttled: 0,
  retries: 0,
  breaker: 'closed' as const,
  checkpoint: null,
  fencingToken: 1,
  window: null,
  holder: null,
  error:
    status === 'failed'
      ? { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', message: 'revoked', hint: 're-authorise it' }
      : null,
  startedAt: '2026-03-10T12:00:00.000Z',
  finishedAt: '2026-03-10T12:00:01.000Z',
});

describe('tradectl sync', () => {
  it('shows its flags and examples in --help', async () => {
    const { code, stdout } = await run(['sync', '--help']);
    expect(code).toBe(EXIT.ok);
    for (const flag of ['--platform', '--account', '--since', '--until', '--via', '--json', '--config']) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain('Examples:');
    expect(stdout).toContain('tradectl sync --platform amazon --account na-main');
  });

  it.each([
    [['sync', '--platform', 'myspace'], /--platform must be one of amazon, ebay/],
    [['sync', '--since', 'yesterday'], /--since/],
    [['sync', '--via', 'carrier-pigeon'], /Allowed choices are kafka, inline/],
  ])('refuses %j as a usage error (exit 2)', async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(message);
  });

  it('refuses --since after --until', async () => {
    const { code, stderr } = await run([
      'sync',
      '--config',
      config,
      '--since',
      '2026-03-02T00:00:00Z',
      '--until',
      '2026-03-01T00:00:00Z',
    ]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('--since 2026-03-02T00:00:00.000Z is after --until 2026-03-01T00:00:00.000Z');
  });

  it('stops at start-up with every bad account listed (exit 2), before connecting to anything', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'accounts:\n  - { platform: amazon, id: na, userId: "1", credentials: { clientId: c } }\n' +
        '  - { platform: walmart, id: w, userId: "2" }\n',
    );
    const { code, stderr } = await run(['sync', '--config', bad]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('accounts[0].credentials.refreshToken: is required');
    expect(stderr).toContain('accounts[0].options.marketplaceIds');
    expect(stderr).toContain('accounts[1].platform: no adapter for walmart yet');
  });

  it('says which accounts exist when the filters match none (exit 2)', async () => {
    const { code, stderr } = await run(['sync', '--config', config, '--platform', 'amazon']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('no enabled account matches --platform amazon');
    expect(stderr).toContain('enabled accounts: shopify:us-store, ebay:de-seller');
  });

  it('passes the parsed flags to the run', async () => {
    const summary = summarizeSync({ via: 'inline', results: [okResult('us-store', 'ok')], sink: new Map() });
    const { asked } = await runWithFake(
      [
        'sync',
        '--config',
        config,
        '--platform',
        'shopify',
        '--account',
        'us-store',
        '--since',
        '2026-03-01T01:00:00+01:00',
        '--via',
        'inline',
      ],
      summary,
    );
    expect(asked[0]).toMatchObject({
      platform: 'shopify',
      account: 'us-store',
      since: '2026-03-01T00:00:00.000Z',
      until: undefined,
      via: 'inline',
    });
  });

  it.each([
    { statuses: ['ok', 'ok'], code: EXIT.ok },
    { statuses: ['ok', 'failed'], code: EXIT.partial },
    { statuses: ['failed', 'failed'], code: EXIT.failed },
  ] as const)('exits $code when accounts end $statuses', async ({ statuses, code }) => {
    const summary = summarizeSync({
      via: 'inline',
      results: statuses.map((status, index) => okResult(`a${index}`, status)),
      sink: new Map(),
    });
    const { exitCode, stdout, stderr } = await runWithFake(['sync', '--config', config], summary);
    expect(exitCode).toBe(code);
    // Piped: a header and tab-separated rows on stdout, the totals and hints on stderr.
    expect(stdout.split('\n')[0]).toBe(
      'platform\taccount\tstatus\tfetched\tpublished\tnew\tupdated\tunchanged\tfailed\trequests\tthrottled\tretries\tbreaker\tcheckpoint\tnote',
    );
    expect(stderr).toMatch(/synced 2 account\(s\) via inline/);
    if ((statuses as readonly string[]).includes('failed'))
      expect(stderr).toContain('hint (shopify:a1): re-authorise it');
  });

  it('prints the summary as JSON with --json', async () => {
    const summary = summarizeSync({ via: 'kafka', results: [okResult('us-store', 'ok')], sink: null });
    const { stdout } = await runWithFake(['sync', '--config', config, '--json'], summary);
    const parsed = JSON.parse(stdout);
    expect(parsed).toMatchObject({ via: 'kafka', outcome: 'ok', totals: { fetched: 3, new: null } });
    expect(typeof parsed.seconds).toBe('number');
  });
});
