import { type Command, InvalidArgumentError } from 'commander';
import { TENANT_PATTERN } from '../core/stock/keys.js';
import type { StockLine } from '../core/stock/stock-types.js';
import { ID_PATTERN, MAX_LINES, MAX_STOCK, SKU_PATTERN } from '../core/stock/stock-validation.js';
import { type CommandContext, parseIntegerOption, withCommonOptions } from './common.js';
import { registerStockPushCommand } from './stock-push.js';
import {
  type CorrectionOptions,
  openStock,
  runStockCorrection,
  runStockDeduct,
  runStockGet,
  runStockRelease,
  runStockRestore,
  runStockWarmup,
  type StockCliDeps,
  type StockOptions,
} from './stock-run.js';

/**
 * `tradectl stock get|set|adjust|deduct|release|restore|warmup`: flags parsed and checked here
 * (a bad one is a usage error, exit 2, naming it); the work is in stock-run.ts. Insufficient
 * stock, unknown SKUs and version conflicts exit 1 with the reason.
 */
export function registerStockCommand(program: Command, context: CommandContext): void {
  const deps: StockCliDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    openStock,
    setExitCode: context.setExitCode,
  };
  const stock = program
    .command('stock')
    .description('read and change stock in Redis (atomic, idempotent by operation id); load it from MySQL');
  const tenant = (command: Command) =>
    command.option(
      '--tenant <tenant>',
      'stock tenant (seller); default "default"',
      checked('--tenant', TENANT_PATTERN, 'a tenant of 1-64 letters, digits, - or _'),
    );
  const op = (command: Command, required: boolean, text: string) =>
    required
      ? command.requiredOption('--op <id>', text, checked('--op', ID_PATTERN, ID_TEXT))
      : command.option('--op <id>', text, checked('--op', ID_PATTERN, ID_TEXT));
  const expectedVersion = (command: Command) =>
    command.option(
      '--expected-version <n>',
      'the version you read; without it the command reads it first (compare-and-set either way)',
      integer('--expected-version', 0, Number.MAX_SAFE_INTEGER),
    );

  withCommonOptions(
    tenant(
      stock
        .command('get')
        .description("print SKUs' available, reserved and version (exit 1 if one is unknown)"),
    ).argument('<sku...>', 'internal SKUs', (value: string, previous: string[] = []) => [
      ...previous,
      sku(value),
    ]),
    ['tradectl stock get SKU-1', 'tradectl stock get SKU-1 SKU-2 --tenant acme --json'],
  ).action(async (skus: string[], options: StockOptions) => runStockGet(skus, options, deps));

  withCommonOptions(
    op(
      expectedVersion(
        tenant(stock.command('set').description('set the available quantity (compare-and-set by version)')),
      ),
      false,
      'operation id (default: a new one; reuse it to retry safely)',
    )
      .argument('<sku>', 'internal SKU', sku)
      .argument('<available>', `units available, 0-${MAX_STOCK}`, integer('<available>', 0, MAX_STOCK)),
    [
      'tradectl stock set SKU-1 120 --expected-version 7',
      'tradectl stock set NEW-SKU 50            # reads the version first (0: creates the SKU)',
      'tradectl stock set SKU-1 120 --expected-version 7 --op recount-2026-03-01 --json',
    ],
  ).action(async (skuArg: string, available: number, options: CorrectionOptions) =>
    runStockCorrection('set', { sku: skuArg, value: available }, options, deps),
  );

  withCommonOptions(
    op(
      expectedVersion(
        tenant(
          stock
            .command('adjust')
            .description(
              'add to or take from the available quantity (compare-and-set by version; never below zero)',
            ),
        ),
      ),
      false,
      'operation id (default: a new one; reuse it to retry safely)',
    )
      .argument('<sku>', 'internal SKU', sku)
      .requiredOption('--delta <n>', 'units to add (negative: to take away), not zero', delta),
    ['tradectl stock adjust SKU-1 --delta 25 --expected-version 8', 'tradectl stock adjust SKU-1 --delta -3'],
  ).action(async (skuArg: string, options: CorrectionOptions & { delta: number }) =>
    runStockCorrection('adjust', { sku: skuArg, value: options.delta }, options, deps),
  );

  withCommonOptions(
    op(
      tenant(
        stock.command('deduct').description('sell: deduct every line or none (exit 1 on insufficient stock)'),
      ),
      true,
      'operation id: the same id deducts once however often it is sent',
    ).argument(
      '<line...>',
      `SKU=QUANTITY (or SKU for 1), up to ${MAX_LINES}`,
      (value: string, previous: StockLine[] = []) => [...previous, line(value)],
    ),
    [
      'tradectl stock deduct SKU-1=2 SKU-2 --op order-1001',
      'tradectl stock deduct SKU-1=1 --op order-1002 --tenant acme --json',
    ],
  ).action(async (lines: StockLine[], options: StockOptions & { op: string }) =>
    runStockDeduct(lines, options, deps),
  );

  withCommonOptions(
    op(
      tenant(
        stock
          .command('release')
          .description(
            'give a held reservation back to available (a sale is given back with "stock restore")',
          ),
      ),
      true,
      'the reservation id',
    ),
    ['tradectl stock release --op checkout-77', 'tradectl stock release --op checkout-77 --json'],
  ).action(async (options: StockOptions & { op: string }) => runStockRelease(options, deps));

  withCommonOptions(
    op(
      tenant(
        stock.command('restore').description('compensation: give back what a sale (a deduct) took, once'),
      ),
      true,
      "the restore's own operation id",
    ).requiredOption(
      '--sale <id>',
      'the operation id of the sale to give back',
      checked('--sale', ID_PATTERN, ID_TEXT),
    ),
    ['tradectl stock restore --op undo-order-1001 --sale order-1001'],
  ).action(async (options: StockOptions & { op: string; sale: string }) => runStockRestore(options, deps));

  withCommonOptions(
    op(
      tenant(
        stock
          .command('warmup')
          .description("load SKUs Redis lacks from MySQL's inventory (never overwrites one Redis has)"),
      ),
      false,
      'warm-up operation id (default: a new one)',
    ).option(
      '--sku <sku...>',
      'only these SKUs (default: every SKU of the tenant)',
      (value: string, previous: string[] = []) => [...previous, sku(value)],
    ),
    ['tradectl stock warmup', 'tradectl stock warmup --tenant acme --sku SKU-1 SKU-2 --json'],
  ).action(async (options: StockOptions & { sku?: string[]; op?: string }) => runStockWarmup(options, deps));

  registerStockPushCommand(stock, context);
}

const ID_TEXT = '1-128 letters, digits or . _ : @ / -';

function checked(flag: string, pattern: RegExp, text: string): (value: string) => string {
  return (value) => {
    if (!pattern.test(value))
      throw new InvalidArgumentError(`${flag} must be ${text}, got ${JSON.stringify(value)}`);
    return value;
  };
}

function sku(value: string): string {
  return checked('SKU', SKU_PATTERN, 'a SKU of 1-128 letters, digits or . _ : / # + - (no spaces)')(value);
}

function integer(name: string, min: number, max: number): (value: string) => number {
  const parse = parseIntegerOption(name, min, max);
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

function delta(value: string): number {
  const parsed = integer('--delta', -MAX_STOCK, MAX_STOCK)(value);
  if (parsed === 0) throw new InvalidArgumentError('--delta must not be zero');
  return parsed;
}

// `SKU=3`, or `SKU` for one unit. SKUs never contain `=`.
function line(value: string): StockLine {
  const at = value.lastIndexOf('=');
  const skuPart = at < 0 ? value : value.slice(0, at);
  const quantity = at < 0 ? 1 : integer(`quantity of ${skuPart}`, 1, MAX_STOCK)(value.slice(at + 1));
  return { sku: sku(skuPart), quantity };
}
