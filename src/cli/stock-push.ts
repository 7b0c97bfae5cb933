import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { MysqlPools } from '../core/mysql-pools.js';
import { connectCommandRedis } from '../core/redis-connect.js';
import { routerForConfig } from '../core/shard-admin.js';
import { TENANT_PATTERN } from '../core/stock/keys.js';
import { ListingMap } from '../core/stock/listing-map.js';
import { PushRules } from '../core/stock/push-rules.js';
import { StockService } from '../core/stock/stock-service.js';
import { SKU_PATTERN } from '../core/stock/stock-validation.js';
import { createAccountTargets, stopAccountTargets } from '../workers/account-targets.js';
import { type RepushOptions, type RepushSummary, repushInventory } from '../workers/inventory-push-all.js';
import type { SkuPush } from '../workers/inventory-push-job.js';
import { type CommandContext, type CommonOptions, withCommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

/**
 * `tradectl stock push [--sku S] [--tenant T] [--dry-run]`: pushes every listed SKU's quantity to
 * its channels now (repushInventory), through each account's adapter and rate limiter, with the
 * quantity rules of `inventoryPush.rules`. Exit 0 when every pushable listing was set, 3 when some
 * failed, 1 when all failed or nothing matched.
 */

export interface StockPushOptions extends CommonOptions {
  sku?: string;
  tenant?: string;
  dryRun?: boolean;
}

export interface PushHandle {
  repush: Omit<RepushOptions, 'tenant' | 'sku' | 'dryRun' | 'concurrency' | 'onSku' | 'signal'>;
  close(): Promise<void>;
}

export interface StockPushDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  openPush(config: Config, logger: Logger): Promise<PushHandle>;
  setExitCode(code: ExitCode): void;
}

export function registerStockPushCommand(stock: Command, context: CommandContext): void {
  const deps: StockPushDeps = { ...context, openPush };
  withCommonOptions(
    stock
      .command('push')
      .description("push SKUs' quantities to their channel listings now (the full re-push)")
      .option(
        '--sku <sku>',
        'only this internal SKU (of --tenant, default "default")',
        pattern('--sku', SKU_PATTERN),
      )
      .option(
        '--tenant <tenant>',
        'only this tenant (default: every tenant; with --sku: "default")',
        pattern('--tenant', TENANT_PATTERN),
      )
      .option('--dry-run', 'show the quantity each listing would get; write nothing'),
    [
      'tradectl stock push --dry-run',
      'tradectl stock push --sku MUG-1',
      'tradectl stock push --tenant acme --json',
    ],
  ).action(async (options: StockPushOptions) => runStockPush(options, deps));
}

export async function runStockPush(options: StockPushOptions, deps: StockPushDeps): Promise<void> {
  const config = await deps.loadConfig(options);
  const { io } = deps;
  const logger = createLogger({
    level: options.debug ? 'debug' : config.log.level === 'silent' ? 'silent' : 'warn',
    destination: { write: (line: string) => io.stderr.write(line) },
  });
  const tenant = options.tenant ?? (options.sku === undefined ? undefined : 'default');
  const results: SkuPush[] = [];
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  let summary: RepushSummary;
  const handle = await deps.openPush(config, logger);
  try {
    summary = await repushInventory({
      ...handle.repush,
      tenant,
      sku: options.sku,
      dryRun: options.dryRun === true,
      concurrency: config.inventoryPush.concurrency,
      onSku: (result) => results.push(result),
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', stop);
    await handle.close();
  }
  // The command does not come back later: a transient failure is a failure here, marked as such.
  const rows = results.flatMap((result) =>
    result.listings.map(({ status, ...listing }) => ({
      tenant: result.tenant,
      sku: result.sku,
      available: result.available,
      ...listing,
      status: status === 'retry' ? 'failed' : status,
      ...(status === 'retry' || status === 'failed' ? { transient: status === 'retry' } : {}),
    })),
  );
  const code =
    summary.skus === 0 || (summary.failed > 0 && summary.applied === 0 && !summary.dryRun)
      ? EXIT.failed
      : summary.failed > 0
        ? EXIT.partial
        : EXIT.ok;
  deps.setExitCode(code);
  if (options.json) {
    writeJson(io, { ...summary, listings: rows });
    return;
  }
  writeTable(
    io,
    ['tenant', 'sku', 'channel', 'listing', 'available', 'quantity', 'result'],
    rows.map((row) => [
      row.tenant,
      row.sku,
      `${row.platform}:${row.account}`,
      row.channelKey,
      row.available,
      row.quantity,
      row.reason ? `${row.status} (${row.reason})` : row.status,
    ]),
  );
  const what = options.sku ? `SKU ${tenant}/${options.sku}` : tenant ? `tenant ${tenant}` : 'every tenant';
  if (summary.skus === 0) writeLine(io.stderr, `nothing to push: no listing maps a SKU of ${what}`);
  else {
    writeLine(
      io.stderr,
      `${summary.dryRun ? 'dry run: ' : ''}${summary.skus} SKU(s) of ${what}: ${summary.applied} listing(s) set, ` +
        `${summary.failed} failed, ${summary.skipped} not pushable (see docs/inventory-push.md)`,
    );
  }
}

export async function openPush(config: Config, logger: Logger): Promise<PushHandle> {
  const router = routerForConfig(config);
  const redis = await connectCommandRedis(config.redis.url, 'stock push');
  const pools = new MysqlPools(config, router, { connectionLimit: 4 });
  try {
    const targets = createAccountTargets({
      config,
      accounts: config.accounts.filter((account) => account.enabled),
      logger,
      redis,
    });
    const adapters = new Map(
      targets.map((target) => [`${target.account.platform}:${target.account.id}`, target.adapter]),
    );
    const listings = new ListingMap({ pool: pools.meta(), router });
    const stock = new StockService({ redis, keyPrefix: config.redis.keyPrefix });
    return {
      repush: {
        pool: pools.meta(),
        router,
        deps: {
          listingsOf: (input) => listings.listingsOf(input),
          level: (input) => stock.get(input),
          adapterFor: (platform, account) => adapters.get(`${platform}:${account}`),
          rules: new PushRules(config.inventoryPush.rules),
        },
      },
      async close() {
        await stopAccountTargets(targets, logger);
        await Promise.all([redis.quit().catch(() => redis.disconnect()), pools.close()]);
      },
    };
  } catch (error) {
    redis.disconnect();
    await pools.close();
    throw error;
  }
}

function pattern(flag: string, expected: RegExp): (value: string) => string {
  return (value) => {
    if (!expected.test(value))
      throw new InvalidArgumentError(`${flag} is not valid: ${JSON.stringify(value)}`);
    return value;
  };
}
