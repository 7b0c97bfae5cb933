import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/common.js';
import { EXIT, type ExitCode } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { registerReconcileCommand } from '../../src/cli/reconcile.js';
import type { ReconcileCliDeps, ReconcileStockFlags } from '../../src/cli/reconcile-run.js';
import { registerTraceCommand } from '../../src/cli/trace.js';
import { parseConfig } from '../../src/core/config.js';
import type { StockReconcileResult } from '../../src/core/reconcile/stock-reconcile.js';
import type {
  AccountReconcile,
  OrdersReconcileOptions,
  OrdersReconcileResult,
} from '../../src/workers/reconcile-orders.js';
import type { AccountTrace, TraceOptions, TraceResult } from '../../src/workers/trace-order.js';
import { Collector } from '../helpers/collector.js';

const config = parseConfig({ log: { level: 'silent' } });

async function run(
  args: string[],
  overrides: Partial<ReconcileCliDeps> & { trace?: (o: TraceOptions) => Promise<TraceResult> },
) {
  const io = { stdout: new Collector(), stderr: new Collector(), env: {} } satisfies CliIo;
  let code: ExitCode = EXIT.ok;
  const program = new Command('tradectl').exitOverride().configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
  });
  const context = { ...createContext(io, (value) => (code = value)), loadConfig: async () => config };
  registerReconcileCommand(program, context, overrides);
  if (overrides.trace) registerTraceCommand(program, context, { trace: overrides.trace });
  await program.parseAsync(args, { from: 'user' });
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

function stockResult(remaining: number, drift = remaining): StockReconcileResult {
  return {
    runId: 'r1',
    tenants: ['default'],
    skus: 5,
    drift: Array.from({ length: drift }, (_, index) => ({
      tenant: 'default',
      sku: `S${index}`,
      problem: 'mismatch' as const,
      redis: { available: 9, reserved: 0, version: 3 },
      expected: { available: 7, reserved: 0 },
      mysql: { onHand: 7, reserved: 0, version: 3 },
      pending: 1,
      difference: { available: 2, reserved: 0 },
      repairable: true,
      ...(index < drift - remaining ? { repair: 'fixed' as const } : {}),
    })),
    fixed: drift - remaining,
    remaining,
  };
}

function accountResult(status: 'ok' | 'failed', remaining = 0): AccountReconcile {
  return {
    platform: 'shopify',
    account: status === 'ok' ? 'a' : 'b',
    status,
    window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' },
    clampedBy: null,
    listed: 10,
    matched: 10 - remaining,
    ahead: 0,
    missing: remaining,
    stale: 0,
    rejected: [],
    accuracy: 100,
    drift: Array.from({ length: remaining }, (_, index) => ({
      platformOrderId: `o${index}`,
      problem: 'missing' as const,
      platformUpdatedAt: '2026-03-01T10:00:00.000Z',
      storedUpdatedAt: null,
    })),
    fixed: 0,
    remaining,
    requests: 1,
    error:
      status === 'failed' ? { code: 'X', kind: 'transient', message: 'breaker open', hint: 'wait' } : null,
  };
}

function ordersResult(accounts: AccountReconcile[]): OrdersReconcileResult {
  const remaining = accounts.reduce((sum, row) => sum + row.remaining, 0);
  return {
    runId: 'r1',
    fix: false,
    accounts,
    totals: {
      listed: 10,
      matched: 10,
      missing: remaining,
      stale: 0,
      fixed: 0,
      remaining,
      failedAccounts: accounts.filter((row) => row.status === 'failed').length,
      accuracy: 100,
    },
  };
}

describe('tradectl reconcile stock', () => {
  it('passes tenant, SKUs and --fix, prints tab-separated rows when piped, exits 1 while drift remains', async () => {
    let seen: ReconcileStockFlags | undefined;
    const result = await run(['reconcile', 'stock', '--tenant', 'acme', '--sku', 'A-1', 'B-2', '--fix'], {
      runStock: async (_config, flags) => {
        seen = flags;
        return stockResult(1, 2);
      },
    });
    expect(seen).toMatchObject({ tenant: 'acme', sku: ['A-1', 'B-2'], fix: true });
    expect(result.code).toBe(EXIT.failed);
    expect(result.stdout.split('\n')[0]).toBe(
      'tenant\tsku\tproblem\tredis avail\tredis resv\ttruth avail\ttruth resv\tin flight\trepair',
    );
    expect(result.stdout).toContain('default\tS0\tmismatch\t9\t0\t7\t0\t1\tfixed');
    expect(result.stderr).toContain('compared 5 SKU(s) of 1 tenant(s): 2 differ, 1 fixed, 1 remaining');
  });

  it('exits 0 with --json when everything was clean or fixed', async () => {
    const clean = await run(['reconcile', 'stock', '--json'], { runStock: async () => stockResult(0, 0) });
    expect(clean.code).toBe(EXIT.ok);
    expect(JSON.parse(clean.stdout)).toMatchObject({ subject: 'stock', fix: false, drift: [], remaining: 0 });
    const fixed = await run(['reconcile', 'stock', '--fix', '--json'], {
      runStock: async () => stockResult(0, 3),
    });
    expect(fixed.code).toBe(EXIT.ok);
  });

  it('refuses a bad SKU as a usage error naming the flag', async () => {
    const error = await run(['reconcile', 'stock', '--sku', 'has space'], {}).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as Error).message).toContain('--sku must be a SKU');
  });
});

describe('tradectl reconcile orders', () => {
  it('passes the window and filters as parsed instants', async () => {
    let seen: OrdersReconcileOptions | undefined;
    await run(
      [
        'reconcile',
        'orders',
        '--since',
        '2026-03-01T01:00:00+01:00',
        '--until',
        '2026-03-02T00:00:00Z',
        '--platform',
        'ebay',
        '--account',
        'x',
        '--via',
        'inline',
      ],
      {
        runOrders: async (options) => {
          seen = options;
          return ordersResult([accountResult('ok')]);
        },
      },
    );
    expect(seen).toMatchObject({
      since: '2026-03-01T00:00:00.000Z',
      until: '2026-03-02T00:00:00.000Z',
      platform: 'ebay',
      account: 'x',
      via: 'inline',
    });
  });

  it.each([
    ['clean', [accountResult('ok')], EXIT.ok],
    ['drift remains', [accountResult('ok', 2)], EXIT.failed],
    ['one account could not be checked', [accountResult('ok'), accountResult('failed')], EXIT.partial],
    ['no account could be checked', [accountResult('failed')], EXIT.failed],
  ] as const)('exit code when %s', async (_name, accounts, code) => {
    const result = await run(['reconcile', 'orders', '--since', '2026-03-01T00:00:00Z'], {
      runOrders: async () => ordersResult([...accounts]),
    });
    expect(result.code).toBe(code);
  });
});

describe('tradectl trace', () => {
  const trace =
    (verdict: AccountTrace['verdict']) =>
    async (options: TraceOptions): Promise<TraceResult> => ({
      platform: options.platform,
      platformOrderId: options.platformOrderId,
      accounts: [{ verdict, explanation: 'because' } as AccountTrace],
    });
  it('exits 0 for a stored, current order and 1 for a missing one', async () => {
    expect((await run(['trace', 'amazon', '1', '--json'], { trace: trace('current') })).code).toBe(EXIT.ok);
    expect((await run(['trace', 'amazon', '1', '--json'], { trace: trace('missing') })).code).toBe(
      EXIT.failed,
    );
  });
});

describe('help', () => {
  it.each([['reconcile', 'stock'], ['reconcile', 'orders'], ['trace']])(
    '%s %s --help shows examples',
    async (...words) => {
      const io = { stdout: new Collector(), stderr: new Collector(), env: {} } satisfies CliIo;
      const code = await runCli([...words.filter(Boolean), '--help'], io);
      expect(code).toBe(EXIT.ok);
      expect(io.stdout.text).toContain('Examples:');
      expect(io.stdout.text).toContain('--json');
    },
  );
});
