import { Registry } from 'prom-client';
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { MysqlPools } from '../core/mysql-pools.js';
import type { Platform } from '../core/platforms.js';
import { createDriftWebhook, reconcileMetrics } from '../core/reconcile/drift-report.js';
import { reconcileStock, type StockReconcileResult } from '../core/reconcile/stock-reconcile.js';
import { connectCommandRedis } from '../core/redis-connect.js';
import { routerForConfig } from '../core/shard-admin.js';
import type { Instant } from '../core/time.js';
import type { OrdersReconcileOptions, OrdersReconcileResult } from '../workers/reconcile-orders.js';
import type { CommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

/**
 * What `tradectl reconcile stock|orders` does once reconcile.ts parsed its flags: open what the
 * run needs, call the core, print (a table, or JSON with --json), set the exit code: 0 clean
 * (or everything fixed), 1 drift remains, 3 some accounts could not be checked.
 */

export interface ReconcileStockFlags extends CommonOptions {
  tenant?: string;
  sku?: string[];
  fix?: boolean;
}

export interface ReconcileOrdersFlags extends CommonOptions {
  platform?: Platform;
  account?: string;
  since: Instant;
  until?: Instant;
  fix?: boolean;
  via?: 'kafka' | 'inline';
}

export interface ReconcileCliDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  setExitCode(code: ExitCode): void;
  runStock(config: Config, flags: ReconcileStockFlags, logger: Logger): Promise<StockReconcileResult>;
  runOrders(options: OrdersReconcileOptions): Promise<OrdersReconcileResult>;
  /** Fixed options of every orders run (tests: a sandbox's clock and rate scale). */
  ordersOptions?: Partial<OrdersReconcileOptions>;
}

/** Opens Redis and the meta pool for one stock run and closes them after. */
export async function runStockReconcile(
  config: Config,
  flags: ReconcileStockFlags,
  logger: Logger,
): Promise<StockReconcileResult> {
  const router = routerForConfig(config);
  const redis = await connectCommandRedis(config.redis.url, 'reconcile stock');
  const pools = new MysqlPools(config, router, { connectionLimit: 2 });
  try {
    return await reconcileStock({
      redis,
      pool: pools.meta(),
      router,
      keyPrefix: config.redis.keyPrefix,
      logger,
      tenant: flags.tenant,
      skus: flags.sku,
      fix: flags.fix,
      metrics: reconcileMetrics(new Registry()),
      notify: webhook(config, logger),
    });
  } finally {
    await Promise.all([redis.quit().catch(() => redis.disconnect()), pools.close()]);
  }
}

export async function runReconcileStock(flags: ReconcileStockFlags, deps: ReconcileCliDeps): Promise<void> {
  const config = await deps.loadConfig(flags);
  const result = await deps.runStock(config, flags, cliLogger(flags, config, deps.io));
  deps.setExitCode(result.remaining > 0 ? EXIT.failed : EXIT.ok);
  if (flags.json) {
    writeJson(deps.io, { subject: 'stock', fix: Boolean(flags.fix), ...result });
    return;
  }
  writeTable(
    deps.io,
    [
      'tenant',
      'sku',
      'problem',
      'redis avail',
      'redis resv',
      'truth avail',
      'truth resv',
      'in flight',
      'repair',
    ],
    result.drift.map((item) => [
      item.tenant,
      item.sku,
      item.problem,
      item.redis?.available ?? '-',
      item.redis?.reserved ?? '-',
      item.expected.available,
      item.expected.reserved,
      item.pending,
      item.repair ?? (item.repairable ? '' : 'unrepairable'),
    ]),
  );
  writeLine(
    deps.io.stderr,
    `compared ${result.skus} SKU(s) of ${result.tenants.length} tenant(s): ${result.drift.length} differ` +
      (flags.fix ? `, ${result.fixed} fixed, ${result.remaining} remaining` : '') +
      (result.drift.length > 0 && !flags.fix ? ' (repair with --fix)' : ''),
  );
}

export async function runReconcileOrders(flags: ReconcileOrdersFlags, deps: ReconcileCliDeps): Promise<void> {
  if (flags.until !== undefined && flags.since > flags.until) {
    throw new UsageError(`--since ${flags.since} is after --until ${flags.until}`);
  }
  const config = await deps.loadConfig(flags);
  const { io } = deps;
  const logger = cliLogger(flags, config, io);
  const result = await deps.runOrders({
    ...deps.ordersOptions,
    config,
    logger,
    platform: flags.platform,
    account: flags.account,
    since: flags.since,
    until: flags.until,
    fix: flags.fix,
    via: flags.via ?? deps.ordersOptions?.via,
    metrics: reconcileMetrics(new Registry()),
    notify: webhook(config, logger),
    onAccount: io.stderr.isTTY
      ? ({ platform, account, phase }) => {
          if (phase !== 'done') writeLine(io.stderr, `${platform}:${account}: ${phase}…`);
        }
      : undefined,
  });
  const { totals } = result;
  const failed = totals.failedAccounts;
  deps.setExitCode(
    totals.remaining > 0 || (failed > 0 && failed === result.accounts.length)
      ? EXIT.failed
      : failed > 0
        ? EXIT.partial
        : EXIT.ok,
  );
  if (flags.json) {
    writeJson(io, { subject: 'orders', ...result });
    return;
  }
  writeTable(
    io,
    [
      'platform',
      'account',
      'from',
      'to',
      'listed',
      'matched',
      'missing',
      'stale',
      'accuracy',
      'fixed',
      'remaining',
      'status',
    ],
    result.accounts.map((row) => [
      row.platform,
      row.account,
      row.window.from,
      row.window.to + (row.clampedBy ? ` (${row.clampedBy})` : ''),
      row.listed,
      row.matched + row.ahead,
      row.missing,
      row.stale,
      row.accuracy === null ? '-' : `${row.accuracy}%`,
      row.fixed,
      row.remaining,
      row.error ? `failed: ${row.error.message}` : row.status,
    ]),
  );
  // Order by order only on a terminal: piped, stdout stays one table (all of it is in --json).
  const drift = result.accounts.flatMap((row) =>
    row.drift.map((item) => ({ ...item, platform: row.platform, account: row.account })),
  );
  if (io.stdout.isTTY && drift.length > 0) {
    writeLine(io.stdout);
    writeTable(
      io,
      ['platform', 'account', 'order', 'problem', 'platform updated', 'stored updated', 'repair'],
      drift
        .slice(0, 50)
        .map((item) => [
          item.platform,
          item.account,
          item.platformOrderId,
          item.problem,
          item.platformUpdatedAt,
          item.storedUpdatedAt ?? '-',
          item.reason ? `${item.repair}: ${item.reason}` : item.repair,
        ]),
    );
    if (drift.length > 50) writeLine(io.stderr, `… and ${drift.length - 50} more (--json lists all)`);
  }
  writeLine(
    io.stderr,
    `${result.accounts.length} account(s): ${totals.listed} orders listed, ${totals.missing} missing, ` +
      `${totals.stale} stale, accuracy ${totals.accuracy === null ? '-' : `${totals.accuracy}%`}` +
      (flags.fix ? `; ${totals.fixed} fixed, ${totals.remaining} remaining` : '') +
      (failed > 0 ? `; ${failed} account(s) could not be checked` : ''),
  );
  for (const row of result.accounts) {
    if (row.error?.hint) writeLine(io.stderr, `hint (${row.platform}:${row.account}): ${row.error.hint}`);
  }
}

function webhook(config: Config, logger: Logger) {
  return createDriftWebhook({
    url: config.reconcile.webhookUrl,
    timeoutMs: config.reconcile.webhookTimeoutMs,
    logger,
  });
}

// Warn and above on stderr: the drift lines (one per item) are the log of the run.
function cliLogger(flags: CommonOptions, config: Config, io: CliIo): Logger {
  return createLogger({
    level: flags.debug ? 'debug' : config.log.level === 'silent' ? 'silent' : 'warn',
    destination: { write: (line: string) => io.stderr.write(line) },
  });
}
