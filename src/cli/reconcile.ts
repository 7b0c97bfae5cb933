import { type Command, InvalidArgumentError, Option } from 'commander';
import { isPlatform, PLATFORMS, type Platform } from '../core/platforms.js';
import { TENANT_PATTERN } from '../core/stock/keys.js';
import { SKU_PATTERN } from '../core/stock/stock-validation.js';
import { type Instant, parseIsoInstant } from '../core/time.js';
import { reconcileOrders } from '../workers/reconcile-orders.js';
import { type CommandContext, withCommonOptions } from './common.js';
import {
  type ReconcileCliDeps,
  type ReconcileOrdersFlags,
  type ReconcileStockFlags,
  runReconcileOrders,
  runReconcileStock,
  runStockReconcile,
} from './reconcile-run.js';

/**
 * `tradectl reconcile stock|orders`: flags parsed here (a bad one is a usage error, exit 2,
 * naming it); the work is in reconcile-run.ts and the core (docs/reconcile.md).
 */
export function registerReconcileCommand(
  program: Command,
  context: CommandContext,
  overrides: Partial<ReconcileCliDeps> = {},
): void {
  const deps: ReconcileCliDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    setExitCode: context.setExitCode,
    runStock: runStockReconcile,
    runOrders: reconcileOrders,
    ...overrides,
  };
  const reconcile = program
    .command('reconcile')
    .description('find (and with --fix repair) drift: Redis stock vs MySQL, platform orders vs the database');

  withCommonOptions(
    reconcile
      .command('stock')
      .description(
        'compare Redis stock with the MySQL truth (counting ledger entries not drained yet); ' +
          '--fix puts Redis back without overwriting a sale made meanwhile; exit 1 while drift remains',
      )
      .option('--tenant <tenant>', 'only this stock tenant (default: every tenant)', (value: string) =>
        checked('--tenant', TENANT_PATTERN, 'a tenant of 1-64 letters, digits, - or _', value),
      )
      .option(
        '--sku <sku...>',
        'only these SKUs (default: every SKU Redis or MySQL has)',
        (value: string, previous: string[] = []) => [
          ...previous,
          checked('--sku', SKU_PATTERN, 'a SKU of 1-128 letters, digits or . _ : / # + - (no spaces)', value),
        ],
      )
      .option('--fix', 'repair the drift found (compare-and-set; a sale in between is never overwritten)'),
    [
      'tradectl reconcile stock',
      'tradectl reconcile stock --tenant acme --sku SKU-1 SKU-2 --json',
      'tradectl reconcile stock --fix',
    ],
  ).action(async (flags: ReconcileStockFlags) => runReconcileStock(flags, deps));

  withCommonOptions(
    reconcile
      .command('orders')
      .description(
        "compare the platforms' orders updated in a window with the database: missing and stale orders, " +
          'accuracy; --fix re-syncs exactly those; exit 1 while drift remains, 3 when some accounts failed',
      )
      .addOption(
        new Option('--since <time>', 'start of the window of update times (ISO-8601 with zone)')
          .argParser(instant('--since'))
          .makeOptionMandatory(),
      )
      .addOption(
        new Option(
          '--until <time>',
          "end of the window (default and latest: now minus the platform's safety lag, and never past the account's checkpoint)",
        ).argParser(instant('--until')),
      )
      .addOption(
        new Option(
          '--platform <platform>',
          `only accounts of this platform (${PLATFORMS.join(', ')})`,
        ).argParser(platform),
      )
      .option('--account <id>', 'only accounts with this id')
      .option('--fix', 'fetch each missing or stale order again and store it through the sink')
      .addOption(
        new Option(
          '--via <bus>',
          'bus of the repairs: kafka, or inline (no broker); default kafka when kafka.brokers is set',
        ).choices(['kafka', 'inline']),
      ),
    [
      'tradectl reconcile orders --since 2026-03-01T00:00:00Z',
      'tradectl reconcile orders --platform amazon --account na-main --since 2026-03-01T00:00:00Z --until 2026-03-02T00:00:00Z',
      'tradectl reconcile orders --since 2026-03-01T00:00:00Z --fix --json',
    ],
  ).action(async (flags: ReconcileOrdersFlags) => runReconcileOrders(flags, deps));
}

function checked(flag: string, pattern: RegExp, text: string, value: string): string {
  if (!pattern.test(value))
    throw new InvalidArgumentError(`${flag} must be ${text}, got ${JSON.stringify(value)}`);
  return value;
}

function platform(value: string): Platform {
  if (!isPlatform(value)) {
    throw new InvalidArgumentError(`--platform must be one of ${PLATFORMS.join(', ')}, got "${value}"`);
  }
  return value;
}

function instant(name: string) {
  return (value: string): Instant => {
    try {
      return parseIsoInstant(value, name);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}
