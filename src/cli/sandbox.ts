import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseAccountCounts } from '../sandbox/accounts.js';
import { parseFaultSpec } from '../sandbox/faults.js';
import { startSandbox } from '../sandbox/sandbox.js';
import {
  isSandboxPlatform,
  SANDBOX_PLATFORMS,
  type Sandbox,
  type SandboxOptions,
  type SandboxPlatform,
} from '../sandbox/types.js';
import { type CommandContext, type CommonOptions, parseIntegerOption, withCommonOptions } from './common.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

/** Parsed flags of `tradectl sandbox`. */
export interface SandboxCommandOptions extends CommonOptions {
  port: number;
  host: string;
  seed: number;
  orders: number;
  historyDays: number;
  accounts: Record<SandboxPlatform, number>;
  faults: SandboxOptions['faults'];
  rateScale: number | Partial<Record<SandboxPlatform, number>>;
  updatesPerSecond: number;
  lateFraction: number;
}

export interface SandboxCommandDeps {
  io: CliIo;
  start(options: SandboxOptions): Promise<Sandbox>;
  /** Resolves when the process is asked to stop (SIGTERM or SIGINT by default). */
  waitForStop(): Promise<void>;
}

export function registerSandboxCommand(
  program: Command,
  context: CommandContext,
  overrides: Partial<SandboxCommandDeps> = {},
): void {
  const deps: SandboxCommandDeps = {
    io: context.io,
    start: startSandbox,
    waitForStop: untilSignalled,
    ...overrides,
  };
  withCommonOptions(
    program
      .command('sandbox')
      .description(
        'run the local marketplace simulator (Shopify, Amazon SP-API, eBay) until SIGTERM; prints its URL and accounts',
      )
      .option(
        '--port <n>',
        'port to listen on (0 picks a free one)',
        usage(parseIntegerOption('--port', 0, 65535)),
        8700,
      )
      .option('--host <address>', 'interface to bind', '127.0.0.1')
      .option(
        '--seed <n>',
        'seed of every random choice',
        usage(parseIntegerOption('--seed', 0, 2 ** 32 - 1)),
        1,
      )
      .option(
        '--orders <n>',
        'orders generated per account',
        usage(parseIntegerOption('--orders', 0, 1_000_000)),
        1000,
      )
      .option(
        '--history-days <n>',
        'how far back orders reach',
        usage(parseIntegerOption('--history-days', 1, 730)),
        30,
      )
      .addOption(
        new Option('--accounts <spec>', 'accounts per platform')
          .argParser(usage(parseAccountCounts))
          .default(parseAccountCounts('shopify:2,amazon:2,ebay:2'), 'shopify:2,amazon:2,ebay:2'),
      )
      .addOption(
        new Option(
          '--faults <spec>',
          'faults: 5xx=0.2,429=0.1,drop=0.02,latency=50,jitter=20,malformed=0.01,expire=60,mutate=0.1 ' +
            '(an entry prefixed amazon: etc. applies to that platform only)',
        )
          .argParser(usage(parseFaultSpec))
          .default({}, 'none'),
      )
      .option(
        '--rate-scale <factor>',
        'multiply every rate limit: 10, or amazon=1000,shopify=10',
        usage(parseRateScale),
        1,
      )
      .option(
        '--updates-per-second <n>',
        'live order updates and new orders per second',
        usage(parseFraction('--updates-per-second', 10_000)),
        1,
      )
      .option(
        '--late-fraction <f>',
        'share of updates that become visible late',
        usage(parseFraction('--late-fraction', 1)),
        0.1,
      ),
    [
      'tradectl sandbox',
      'tradectl sandbox --port 0 --orders 20000 --json',
      'tradectl sandbox --faults 5xx=0.2,429=0.1,drop=0.02 --rate-scale 10',
      'tradectl sandbox --accounts shopify:1,amazon:3 --faults amazon:expire=60,latency=50',
    ],
  ).action(async (options: SandboxCommandOptions) => runSandbox(options, deps));
}

/** Starts the sandbox, prints where it listens and what it serves, and runs until told to stop. */
export async function runSandbox(options: SandboxCommandOptions, deps: SandboxCommandDeps): Promise<void> {
  const sandbox = await deps.start({
    port: options.port,
    host: options.host,
    seed: options.seed,
    ordersPerAccount: options.orders,
    historyDays: options.historyDays,
    accounts: options.accounts,
    faults: options.faults,
    rateScale: options.rateScale,
    updatesPerSecond: options.updatesPerSecond,
    lateFraction: options.lateFraction,
  });
  try {
    if (options.json) writeJson(deps.io, { url: sandbox.url, accounts: sandbox.accounts });
    else {
      writeTable(
        deps.io,
        ['platform', 'account', 'currency', 'market', 'base_url', 'token_url', 'credentials'],
        sandbox.accounts.map((account) => [
          account.platform,
          account.account,
          account.currency,
          account.marketplaceId ?? account.shopDomain,
          account.baseUrl,
          account.tokenUrl ?? '',
          Object.entries(account.credentials)
            .map(([name, value]) => `${name}=${value}`)
            .join(' '),
        ]),
      );
    }
    writeLine(
      deps.io.stderr,
      `sandbox listening on ${sandbox.url} (seed ${options.seed}, ${options.orders} orders per account); ` +
        `ground truth at ${sandbox.url}/_sandbox/truth?platform=&account=, stats at /_sandbox/stats. ` +
        'Stop with SIGTERM or Ctrl-C.',
    );
    await deps.waitForStop();
  } finally {
    await sandbox.close();
  }
  writeLine(deps.io.stderr, 'sandbox stopped');
}

function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** `10` for every platform, or `amazon=1000,shopify=10` (others stay 1). */
export function parseRateScale(text: string): number | Partial<Record<SandboxPlatform, number>> {
  const positive = (value: string, what: string) => {
    const number = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || number <= 0)
      throw new Error(`${what} must be a positive number, got "${value}"`);
    return number;
  };
  if (!text.includes('=')) return positive(text.trim(), '--rate-scale');
  const out: Partial<Record<SandboxPlatform, number>> = {};
  for (const part of text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)) {
    const [platform = '', value = ''] = part.split('=');
    if (!isSandboxPlatform(platform)) {
      throw new Error(
        `--rate-scale: unknown platform "${platform}" (expected ${SANDBOX_PLATFORMS.join(', ')})`,
      );
    }
    out[platform] = positive(value, `--rate-scale ${platform}`);
  }
  return out;
}

function parseFraction(name: string, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text.trim()) || value > max) {
      throw new Error(`${name} must be a number from 0 to ${max}, got "${text}"`);
    }
    return value;
  };
}

function usage<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}
