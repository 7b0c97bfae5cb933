import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../core/config.js';
import { UsageError, ValidationError } from '../core/errors.js';
import { MysqlPools } from '../core/mysql-pools.js';
import { routerForConfig } from '../core/shard-admin.js';
import { ListingMap } from '../core/stock/listing-map.js';
import type { ListingKeyKind } from '../core/stock/listing-mapping.js';
import type { ListingCursor } from '../core/stock/listing-store.js';
import { type CommandContext, type CommonOptions, parseIntegerOption, withCommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

/**
 * `tradectl listings list|add|remove|import`: which internal SKU each channel listing sells
 * (ListingMap, docs/stock-http.md#listings). An order line whose listing is not mapped is
 * reported by the sink, never guessed, so these commands are how a seller fixes that.
 */

export interface ListingsDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  openListings(config: Config): Promise<{ map: ListingMap; close(): Promise<void> }>;
  setExitCode(code: ExitCode): void;
}

interface ListingKeyOptions extends CommonOptions {
  platform: string;
  account: string;
  channelSku?: string;
  listingId?: string;
}

export function registerListingsCommand(program: Command, context: CommandContext): void {
  const deps: ListingsDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    openListings,
    setExitCode: context.setExitCode,
  };
  const listings = program
    .command('listings')
    .description('map channel listings (platform, account, seller SKU or listing id) to internal SKUs');
  const keyed = (command: Command) =>
    command
      .requiredOption('--platform <platform>', 'amazon, ebay, shopify, ...')
      .requiredOption('--account <id>', 'the account id from config (accounts[].id)')
      .option('--channel-sku <sku>', "the seller's SKU on the channel")
      .option('--listing-id <id>', "the channel's listing id (ASIN, eBay item id, Shopify variant id)");

  withCommonOptions(
    listings
      .command('list')
      .description('mappings in key order, one page at a time; --after continues')
      .option('--platform <platform>', 'only this platform')
      .option('--account <id>', 'only this account')
      .option('--tenant <tenant>', 'only this stock tenant')
      .option('--sku <sku>', 'only listings of this internal SKU')
      .option('--limit <n>', 'page size (1-1000)', integer('--limit', 1, 1000), 100)
      .option('--after <cursor>', 'continue after the page that printed this cursor'),
    [
      'tradectl listings list --platform amazon --account us-main',
      'tradectl listings list --sku SKU-1 --json',
    ],
  ).action(async (options: CommonOptions & Record<string, string | number | undefined>) =>
    runListingsList(options, deps),
  );

  withCommonOptions(
    keyed(listings.command('add').description('map one listing to an internal SKU'))
      .requiredOption('--sku <sku>', 'the internal SKU it sells')
      .option('--tenant <tenant>', 'stock tenant of the SKU; default "default"')
      .option('--replace', 'map it to this SKU even if it is mapped to another'),
    [
      'tradectl listings add --platform amazon --account us-main --channel-sku MUG-RED --sku SKU-1',
      'tradectl listings add --platform ebay --account de --listing-id 1234567890 --sku SKU-1 --replace',
    ],
  ).action(async (options: ListingKeyOptions & { sku: string; tenant?: string; replace?: boolean }) => {
    const key = listingKeyOf(options);
    const { map, close } = await open(deps, options);
    try {
      const outcome = await map
        .add({ ...key, sku: options.sku, tenant: options.tenant }, { replace: options.replace === true })
        .catch((error: unknown) => {
          throw asFlagError(error, key.kind);
        });
      if (options.json) writeJson(deps.io, outcome);
      else {
        const was =
          outcome.outcome === 'updated' ? ` (was ${outcome.previous.tenant}/${outcome.previous.sku})` : '';
        writeLine(deps.io.stdout, `${outcome.outcome}${was}`);
      }
    } finally {
      await close();
    }
  });

  withCommonOptions(
    keyed(listings.command('remove').description('remove one listing mapping (exit 1 if there is none)')),
    ['tradectl listings remove --platform amazon --account us-main --channel-sku MUG-RED'],
  ).action(async (options: ListingKeyOptions) => {
    const { map, close } = await open(deps, options);
    try {
      const removed = await map.remove(listingKeyOf(options));
      if (options.json) writeJson(deps.io, { removed });
      else writeLine(deps.io.stdout, removed ? 'removed' : 'no such mapping');
      if (!removed) deps.setExitCode(EXIT.failed);
    } finally {
      await close();
    }
  });

  withCommonOptions(
    listings
      .command('import')
      .description(
        'add or update mappings from a CSV with columns platform, account, channel_sku, listing_id, sku, tenant; all rows or none',
      )
      .argument('<csv>', 'the CSV file (first row: column names)')
      .option('--dry-run', 'check the file and count what would change; write nothing'),
    ['tradectl listings import listings.csv --dry-run', 'tradectl listings import listings.csv --json'],
  ).action(async (file: string, options: CommonOptions & { dryRun?: boolean }) =>
    runListingsImport(file, options, deps),
  );
}

export async function openListings(config: Config): Promise<{ map: ListingMap; close(): Promise<void> }> {
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, { connectionLimit: 2 });
  return { map: new ListingMap({ pool: pools.meta(), router }), close: () => pools.close() };
}

async function open(deps: ListingsDeps, options: CommonOptions) {
  return deps.openListings(await deps.loadConfig(options));
}

export async function runListingsList(
  options: CommonOptions & Record<string, string | number | undefined>,
  deps: ListingsDeps,
): Promise<void> {
  const after = options.after === undefined ? undefined : decodeCursor(String(options.after));
  const { map, close } = await open(deps, options);
  try {
    const text = (name: string) =>
      typeof options[name] === 'string' ? (options[name] as string) : undefined;
    const page = await map.list({
      platform: text('platform'),
      account: text('account'),
      tenant: text('tenant'),
      sku: text('sku'),
      limit: Number(options.limit ?? 100),
      ...(after ? { after } : {}),
    });
    const nextCursor = page.next ? encodeCursor(page.next) : null;
    if (options.json) {
      writeJson(deps.io, { rows: page.rows, nextCursor });
      return;
    }
    writeTable(
      deps.io,
      ['platform', 'account', 'key', 'channel key', 'tenant', 'sku', 'updated'],
      page.rows.map((row) => [
        row.platform,
        row.account,
        row.kind,
        row.channelKey,
        row.tenant,
        row.sku,
        row.updatedAt,
      ]),
    );
    if (nextCursor) writeLine(deps.io.stderr, `more: --after ${nextCursor}`);
  } finally {
    await close();
  }
}

export async function runListingsImport(
  file: string,
  options: CommonOptions & { dryRun?: boolean },
  deps: ListingsDeps,
): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const { map, close } = await open(deps, options);
  try {
    const result = await map.importCsv(text, { dryRun: options.dryRun === true });
    if (options.json) writeJson(deps.io, result);
    else {
      writeLine(
        deps.io.stdout,
        `${result.dryRun ? 'dry run: would create' : 'created'} ${result.created}, ` +
          `${result.dryRun ? 'update' : 'updated'} ${result.updated}, unchanged ${result.unchanged}`,
      );
    }
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    // One line per problem: a file with many bad rows stays readable.
    writeLine(deps.io.stderr, `tradectl: ${file}: nothing imported, ${error.issues.length} problem(s):`);
    for (const issue of error.issues)
      writeLine(deps.io.stderr, `  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    deps.setExitCode(EXIT.failed);
  } finally {
    await close();
  }
}

function listingKeyOf(options: ListingKeyOptions): {
  platform: string;
  account: string;
  kind: ListingKeyKind;
  channelKey: string;
} {
  if ((options.channelSku === undefined) === (options.listingId === undefined)) {
    throw new UsageError('give exactly one of --channel-sku and --listing-id');
  }
  const kind: ListingKeyKind = options.channelSku === undefined ? 'listing' : 'sku';
  return {
    platform: options.platform,
    account: options.account,
    kind,
    channelKey: (options.channelSku ?? options.listingId) as string,
  };
}

// The mapping's checks name its fields; on the command line they are flags (exit 2).
function asFlagError(error: unknown, kind: ListingKeyKind): unknown {
  if (!(error instanceof ValidationError)) return error;
  const flags: Record<string, string> = {
    platform: '--platform',
    account: '--account',
    channelKey: kind === 'sku' ? '--channel-sku' : '--listing-id',
    tenant: '--tenant',
    sku: '--sku',
  };
  return new UsageError(
    error.issues.map((issue) => `${flags[issue.path] ?? issue.path}: ${issue.message}`).join('; '),
  );
}

function encodeCursor(cursor: ListingCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): ListingCursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as ListingCursor;
    if (
      typeof value.platform === 'string' &&
      typeof value.account === 'string' &&
      (value.kind === 'sku' || value.kind === 'listing') &&
      typeof value.channelKey === 'string'
    ) {
      return value;
    }
  } catch {
    // reported below
  }
  throw new UsageError('--after: not a cursor printed by tradectl listings list');
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
