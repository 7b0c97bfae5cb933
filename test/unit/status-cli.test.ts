import { describe, expect, it } from 'vitest';
import { EXIT, type ExitCode } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { runStatusCommand } from '../../src/cli/status.js';
import { duration, summaryLines } from '../../src/cli/status-format.js';
import { parseConfig } from '../../src/core/config.js';
import type { AccountStatus, StatusReport } from '../../src/workers/status-report.js';
import { Collector } from '../helpers/collector.js';

const NOW = '2026-03-01T12:00:00.000Z';

function account(overrides: Partial<AccountStatus> = {}): AccountStatus {
  return {
    platform: 'shopify',
    account: 'us-store',
    enabled: true,
    checkpoint: {
      cursorTime: '2026-03-01T11:58:00.000Z',
      updatedAt: '2026-03-01T11:59:00.000Z',
      fencingToken: 4,
    },
    lagSeconds: 120,
    lastWindow: {
      from: '2026-03-01T11:50:00.000Z',
      to: '2026-03-01T11:58:00.000Z',
      orders: 17,
      rejected: 0,
      pages: 1,
      requests: 2,
      via: 'kafka',
      startedAt: '2026-03-01T11:58:59.000Z',
      finishedAt: '2026-03-01T11:59:00.000Z',
    },
    lease: null,
    breaker: { state: 'closed', at: '2026-03-01T11:59:00.000Z', by: 'w1:10' },
    limiter: { at: '2026-03-01T11:59:00.000Z', by: 'w1:10', queued: 3, running: 1, buckets: [] },
    running: null,
    lastRun: {
      startedAt: '2026-03-01T11:58:59.000Z',
      finishedAt: '2026-03-01T11:59:00.000Z',
      outcome: 'ok',
      by: 'w1:10',
      fetched: 17,
      published: 17,
      rejected: 0,
      checkpoint: '2026-03-01T11:58:00.000Z',
      error: null,
    },
    lastError: null,
    dlqOpen: 2,
    ...overrides,
  };
}

function report(overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    generatedAt: NOW,
    accounts: [account()],
    workers: [],
    dlq: { open: 2 },
    kafka: { topic: 'tradectl.orders.v1', groupId: 'tradectl-sink', lag: 5, partitions: [] },
    problems: [],
    ...overrides,
  };
}

async function status(value: StatusReport, tty: boolean, json = false) {
  const io = { stdout: new Collector(tty), stderr: new Collector(tty), env: {} } satisfies CliIo;
  let code: ExitCode = EXIT.ok;
  await runStatusCommand(json ? { json: true } : {}, {
    io,
    loadConfig: async () => parseConfig({}),
    collect: async () => value,
    setExitCode: (next) => {
      code = next;
    },
  });
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('tradectl status output', () => {
  it('prints tables and a summary on a terminal', async () => {
    const { code, stdout, stderr } = await status(report(), true);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(
      /^PLATFORM\s+ACCOUNT\s+CHECKPOINT\s+LAG\s+LAST WINDOW\s+LEASE\s+BREAKER\s+QUEUE\s+LAST RUN\s+DLQ$/,
    );
    expect(lines[1]).toMatch(
      /^shopify\s+us-store\s+2026-03-01 11:58:00Z\s+2m00s\s+17 orders, 1m00s ago \(kafka\)\s+free\s+closed\s+3 queued\s+ok 1m00s ago, 17 published\s+2$/,
    );
    expect(stdout).toContain('workers: none running');
    expect(stdout).toContain('dead letter queue: 2 open (tradectl dlq list)');
    expect(stdout).toContain('kafka: sink group tradectl-sink is 5 message(s) behind on tradectl.orders.v1');
  });

  it('prints JSON when piped, and exits 1 naming each server it could not read', async () => {
    const problems = [
      { service: 'redis' as const, target: '127.0.0.1:1', message: 'connect ECONNREFUSED', hint: null },
      {
        service: 'mysql' as const,
        target: 'db:3306',
        message: 'no answer within 8000 ms',
        hint: 'check mysql.url',
      },
    ];
    const { code, stdout, stderr } = await status(report({ problems }), false);
    expect(code).toBe(EXIT.failed);
    expect(JSON.parse(stdout)).toEqual(report({ problems }));
    expect(stderr).toBe(
      'tradectl: cannot read Redis at 127.0.0.1:1: connect ECONNREFUSED\n' +
        'tradectl: cannot read MySQL at db:3306: no answer within 8000 ms\nhint: check mysql.url\n',
    );
    expect(JSON.parse((await status(report(), true, true)).stdout).accounts[0].lagSeconds).toBe(120);
  });

  it('shows an error newer than the last good run, with its hint, and hides a healed one', () => {
    const error = {
      code: 'TRADECTL_PLATFORM_AUTH',
      kind: 'config',
      message: 'credentials rejected',
      hint: 're-authorise the account',
      at: '2026-03-01T11:00:00.000Z',
      by: 'w1:10',
    };
    const now = Date.parse(NOW);
    expect(summaryLines(report({ accounts: [account({ lastError: error })] }), now)).not.toContain(
      expect.stringContaining('TRADECTL_PLATFORM_AUTH'),
    );
    const failing = account({
      lastError: { ...error, at: '2026-03-01T11:59:00.000Z' },
      lastRun: { ...account().lastRun!, outcome: 'failed', error },
    });
    expect(summaryLines(report({ accounts: [failing] }), now)).toEqual(
      expect.arrayContaining([
        'shopify:us-store: TRADECTL_PLATFORM_AUTH 1m00s ago: credentials rejected',
        '  hint: re-authorise the account',
      ]),
    );
  });

  it.each([
    [0, '0s'],
    [59.9, '59s'],
    [61, '1m01s'],
    [3600, '1h00m'],
    [86_400 + 7200, '1d02h'],
  ])('formats %d seconds as %s', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });
});

describe('tradectl dlq replay: usage', () => {
  it.each([
    [['dlq', 'replay'], /no entries named/],
    [['dlq', 'replay', '1', '--all', '--yes'], /ids or --all, not both/],
    [['dlq', 'replay', '--all'], /add --yes to confirm/],
    [['dlq', 'replay', '7', '--platform', 'shopify'], /for --all only/],
    [['dlq', 'replay', 'x1'], /<id> must be an entry id/],
    [['dlq', 'show', '1 OR 1=1'], /<id> must be an entry id/],
    [['dlq', 'list', '--state', 'closed'], /argument 'closed' is invalid/],
    [['status', '--platform', 'myspace'], /--platform must be one of/],
  ])('%j exits 2 before connecting anywhere', async (argv, message) => {
    const io = { stdout: new Collector(), stderr: new Collector(), env: {} } satisfies CliIo;
    expect(await runCli(argv, io)).toBe(EXIT.usage);
    expect(io.stderr.text).toMatch(message);
    expect(io.stdout.text).toBe('');
  });
});
