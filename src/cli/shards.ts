import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../core/config.js';
import { MysqlPools } from '../core/mysql-pools.js';
import {
  type InitResult,
  type InitShardsOptions,
  initShards,
  planLayout,
  routerForConfig,
} from '../core/shard-admin.js';
import { type CommandContext, type CommonOptions, parseIntegerOption, withCommonOptions } from './common.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

export interface ShardsInitOptions extends CommonOptions {
  dryRun?: boolean;
  concurrency: number;
}

export interface ShardsDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  initShards(options: InitShardsOptions): Promise<InitResult>;
}

export function registerShardsCommand(program: Command, context: CommandContext): void {
  const deps: ShardsDeps = { io: context.io, loadConfig: context.loadConfig, initShards };
  const shards = program
    .command('shards')
    .description('show and create the sharded order store (databases x tables per database)');

  withCommonOptions(
    shards.command('plan').description('print the shard layout of the config: databases, servers, tables'),
    ['tradectl shards plan', 'tradectl shards plan --config prod.yaml --json'],
  ).action(async (options: CommonOptions) => runShardsPlan(options, deps));

  withCommonOptions(
    shards
      .command('init')
      .description(
        'create every missing shard database and table, and the meta database (idempotent, never drops)',
      )
      .option('--dry-run', 'only print what would be created')
      .option(
        '--concurrency <n>',
        'CREATE TABLE statements in flight per server',
        (value: string) => {
          try {
            return parseIntegerOption('--concurrency', 1, 64)(value);
          } catch (error) {
            throw new InvalidArgumentError((error as Error).message);
          }
        },
        8,
      ),
    [
      'tradectl shards init --dry-run',
      'tradectl shards init',
      'TRADECTL_DB_PREFIX=staging tradectl shards init --json',
    ],
  ).action(async (options: ShardsInitOptions) => runShardsInit(options, deps));
}

export async function runShardsPlan(options: CommonOptions, deps: Pick<ShardsDeps, 'io' | 'loadConfig'>) {
  const plan = planLayout(await deps.loadConfig(options));
  if (options.json) {
    writeJson(deps.io, plan);
    return;
  }
  const { databases, tablesPerDatabase, totalTables } = plan;
  writeLine(
    deps.io.stderr,
    `${databases} database(s) x ${tablesPerDatabase} table(s) = ${totalTables.orders} shards; ` +
      `${Object.entries(totalTables)
        .map(([kind, count]) => `${count} ${kind}`)
        .join(', ')} tables`,
  );
  writeTable(
    deps.io,
    ['database', 'kind', 'tables', 'server'],
    plan.schemas.map((schema) => [schema.name, schema.kind, schema.tables, schema.server]),
  );
  writeLine(deps.io.stdout);
  writeTable(
    deps.io,
    ['example user id', 'database', 'table'],
    plan.exampleRoutes.map((route) => [route.userId, route.database, route.table]),
  );
}

export async function runShardsInit(options: ShardsInitOptions, deps: ShardsDeps): Promise<void> {
  const config = await deps.loadConfig(options);
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, { connectionLimit: Math.max(options.concurrency, 2) });
  const started = performance.now();
  const bar = deps.io.stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          stream: deps.io.stderr,
          format: 'creating tables [{bar}] {value}/{total} {eta_formatted} left',
          clearOnComplete: true,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let result: InitResult;
  try {
    result = await deps.initShards({
      config,
      pools,
      router,
      concurrency: options.concurrency,
      dryRun: options.dryRun === true,
      onProgress: ({ done, total }) => {
        if (!bar) return;
        if (done === 0) bar.start(total, 0);
        else bar.update(done);
      },
    });
  } finally {
    bar?.stop();
    await pools.close();
  }
  const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  if (options.json) {
    writeJson(deps.io, { ...result, seconds });
    return;
  }
  const upgrades = result.tablesUpgraded;
  if (result.dryRun) {
    const pending = result.schemas.filter(
      (schema) => schema.databaseMissing || schema.missingTables.length > 0,
    );
    if (upgrades.length > 0) {
      writeLine(deps.io.stderr, `dry run: would upgrade ${upgrades.length} table(s): ${upgrades.join(', ')}`);
    }
    if (pending.length === 0) {
      writeLine(deps.io.stderr, `dry run: nothing to create; all ${result.tablesExisting} table(s) exist`);
      return;
    }
    writeTable(
      deps.io,
      ['database', 'create database', 'tables to create', 'tables existing'],
      pending.map((schema) => [
        schema.name,
        schema.databaseMissing ? 'yes' : 'no',
        schema.missingTables.length,
        schema.existingTables,
      ]),
    );
    const tables = pending.reduce((sum, schema) => sum + schema.missingTables.length, 0);
    const databases = pending.filter((schema) => schema.databaseMissing).length;
    writeLine(
      deps.io.stderr,
      `dry run: would create ${databases} database(s) and ${tables} table(s); ` +
        `${result.tablesExisting} table(s) exist`,
    );
    return;
  }
  writeLine(
    deps.io.stdout,
    `databases: ${result.databasesCreated} created, ${result.databasesExisting} existing; ` +
      `tables: ${result.tablesCreated} created, ${result.tablesExisting} existing (${seconds}s)`,
  );
  if (upgrades.length > 0) writeLine(deps.io.stdout, `upgraded: ${upgrades.join(', ')}`);
}
