import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { parseRateScale, runSandbox, type SandboxCommandOptions } from '../../src/cli/sandbox.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';

function memoryIo(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += chunk;
  });
  stderr.on('data', (chunk) => {
    err += chunk;
  });
  return { stdout, stderr, env: {}, out: () => out, err: () => err };
}

const OPTIONS: SandboxCommandOptions = {
  port: 0,
  host: '127.0.0.1',
  seed: 4,
  orders: 20,
  historyDays: 30,
  accounts: { shopify: 1, amazon: 1, ebay: 0 },
  faults: { amazon: { error5xx: 0.5 } },
  rateScale: { amazon: 100 },
  updatesPerSecond: 0,
  lateFraction: 0.1,
  json: true,
};

describe('tradectl sandbox', { timeout: 60_000 }, () => {
  it('starts with the given options, prints its URL and accounts, serves until stopped, then closes', async () => {
    const io = memoryIo();
    let started: Sandbox | undefined;
    let received: SandboxOptions | undefined;
    let health: unknown;
    await runSandbox(OPTIONS, {
      io,
      start: async (options) => {
        received = options;
        started = await startSandbox(options);
        return started;
      },
      waitForStop: async () => {
        health = await (await fetch(`${started!.url}/_sandbox/health`)).json();
      },
    });
    expect(received).toMatchObject({
      seed: 4,
      ordersPerAccount: 20,
      rateScale: { amazon: 100 },
      faults: { amazon: { error5xx: 0.5 } },
    });
    const printed = JSON.parse(io.out());
    expect(printed.url).toBe(started!.url);
    expect(printed.accounts.map((account: { account: string }) => account.account)).toEqual([
      'us-store',
      'na-main',
    ]);
    expect(printed.accounts[1].tokenUrl).toBe(`${started!.url}/auth/o2/token`);
    expect(health).toMatchObject({ status: 'ok', orders: 40 });
    expect(io.err()).toMatch(/sandbox listening on http:\/\/127\.0\.0\.1:\d+/);
    await expect(fetch(`${started!.url}/_sandbox/health`)).rejects.toThrow();
  });

  it('refuses a malformed fault spec as a usage error', async () => {
    const io = memoryIo();
    const code = await runCli(['sandbox', '--faults', 'gremlins=0.5'], io);
    expect(code).toBe(2);
    expect(io.err()).toMatch(/bad fault "gremlins=0\.5"/);
  });

  it('reads a rate scale for all platforms or per platform', () => {
    expect(parseRateScale('10')).toBe(10);
    expect(parseRateScale('amazon=1000,shopify=10')).toEqual({ amazon: 1000, shopify: 10 });
    expect(() => parseRateScale('walmart=2')).toThrow(/unknown platform/);
    expect(() => parseRateScale('0')).toThrow(/positive/);
  });
});
