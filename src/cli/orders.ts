import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../core/config.js';
import { UsageError, ValidationError } from '../core/errors.js';
import { resolveReadLayout } from '../core/migrate/active-layout.js';
import { formatMoney } from '../core/money.js';
import { MysqlPools } from '../core/mysql-pools.js';
import type { OrderStatus } from '../core/order.js';
import { MAX_PAGE_SIZE, type OrderPage, type OrderQuery, queryOrders } from '../core/order-query.js';
import type { Platform } from '../core/platforms.js';
import { ShardRouter } from '../core/shard-router.js';
import { parseIsoInstant } from '../core/time.js';
import { type CommandContext, type CommonOptions, parseIntegerOption, withCommonOptions } from './common.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

export interface OrdersListOptions extends CommonOptions {
  since?: string;
  until?: string;
  status?: string[];
  platform?: string[];
  user?: string;
  limit: number;
  after?: string;
  desc?: boolean;
}

export interface OrdersDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  /** Reads one page against the configured shards; tests pass a fake. */
  listOrders(config: Config, query: OrderQuery): Promise<OrderPage>;
}

// Field names of the query, as the flags a user typed.
const FLAGS: Record<string, string> = {
  from: '--since',
  to: '--until',
  statuses: '--status',
  platforms: '--platform',
  userId: '--user',
  limit: '--limit',
  after: '--after',
};

export function registerOrdersCommand(program: Command, context: CommandContext): void {
  const deps: OrdersDeps = { io: context.io, loadConfig: context.loadConfig, listOrders };
  const orders = program.command('orders').description('read the sharded order store');
  const list = (value: string, previous: string[] = []) => [
    ...previous,
    ...value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ];
  withCommonOptions(
    orders
      .command('list')
      .description('one page of orders across all shards, by creation time; --after continues a listing')
      .option('--since <time>', 'created at or after this ISO-8601 time (with zone)')
      .option('--until <time>', 'created before this ISO-8601 time (with zone)')
      .option('--status <list>', 'only these statuses (comma-separated or repeated)', list)
      .option('--platform <list>', 'only these platforms (comma-separated or repeated)', list)
      .option('--user <id>', "one owning user's orders (reads one shard)")
      .option(
        '--limit <n>',
        `page size (1-${MAX_PAGE_SIZE})`,
        (value: string) => {
          try {
            return parseIntegerOption('--limit', 1, MAX_PAGE_SIZE)(value);
          } catch (error) {
            throw new InvalidArgumentError((error as Error).message);
          }
        },
        50,
      )
      .option('--after <cursor>', 'continue after the page that printed this cursor (same filters)')
      .option('--desc', 'newest first'),
    [
      'tradectl orders list --since 2026-03-01T00:00:00Z --status paid,shipped --limit 100',
      'tradectl orders list --platform amazon --desc --json',
      'tradectl orders list --since 2026-03-01T00:00:00Z --status paid,shipped --after eyJ2Ij...',
    ],
  ).action(async (options: OrdersListOptions) => runOrdersList(options, deps));
}

export async function runOrdersList(options: OrdersListOptions, deps: OrdersDeps): Promise<void> {
  const query: OrderQuery = {
    from: options.since === undefined ? undefined : flagTime(options.since, '--since'),
    to: options.until === undefined ? undefined : flagTime(options.until, '--until'),
    statuses: options.status as OrderStatus[] | undefined,
    platforms: options.platform as Platform[] | undefined,
    userId: options.user,
    limit: options.limit,
    order: options.desc ? 'desc' : 'asc',
    after: options.after,
  };
  const config = await deps.loadConfig(options);
  let page: OrderPage;
  try {
    page = await deps.listOrders(config, query);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const problems = error.issues.map((issue) => {
      const [field = '', rest = ''] = issue.path.split(/(?=\[)/);
      return `${FLAGS[field] ?? field}${rest}: ${issue.message}`;
    });
    throw new UsageError(problems.join('; '), 'run tradectl orders list --help for the accepted values');
  }
  if (options.json) {
    writeJson(deps.io, { rows: page.rows, nextCursor: page.nextCursor });
    return;
  }
  writeTable(
    deps.io,
    ['created', 'id', 'user', 'platform', 'account', 'order', 'status', 'total', 'currency'],
    page.rows.map((row) => [
      row.createdAt,
      row.id,
      row.userId,
      row.platform,
      row.account,
      row.platformOrderId,
      row.status,
      formatMoney({ amount: row.totalAmount, currency: row.currency }),
      row.currency,
    ]),
  );
  writeLine(
    deps.io.stderr,
    page.nextCursor === null
      ? `${page.rows.length} order(s); end of list`
      : `${page.rows.length} order(s); next page: --after ${page.nextCursor}`,
  );
}

async function listOrders(config: Config, query: OrderQuery): Promise<OrderPage> {
  const router = new ShardRouter({
    databases: config.shards.databases,
    tablesPerDatabase: config.shards.tablesPerDatabase,
    databasePrefix: config.mysql.databasePrefix,
  });
  const pools = new MysqlPools(config, router);
  try {
    // After a shard migration's cutover, orders are read from its target layout.
    const layout = await resolveReadLayout(config, { router, pools });
    return await queryOrders({ pools: layout.pools, router: layout.router }, query);
  } finally {
    await pools.close();
  }
}

function flagTime(value: string, flag: string): string {
  try {
    return parseIsoInstant(value, flag);
  } catch (error) {
    const message =
      error instanceof ValidationError ? (error.issues[0]?.message ?? error.message) : String(error);
    throw new UsageError(`${flag}: ${message}`, 'give a time with a zone, e.g. 2026-03-01T00:00:00Z');
  }
}
