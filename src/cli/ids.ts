import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../core/config.js';
import { UsageError, ValidationError } from '../core/errors.js';
import {
  type CreateIdGeneratorOptions,
  createIdGenerator,
  type IdGeneratorHandle,
} from '../core/id-generator.js';
import { createLogger, type Logger } from '../core/logger.js';
import { parseSnowflake, type SnowflakeParts } from '../core/snowflake.js';
import { type CommandContext, type CommonOptions, parseIntegerOption, withCommonOptions } from './common.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

export const MAX_NEW_IDS = 1_000_000;

export interface IdsNewOptions extends CommonOptions {
  count: number;
}

export interface IdsParseOptions extends CommonOptions {
  ids: string[];
}

export interface IdsDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  createIdGenerator(options: CreateIdGeneratorOptions): Promise<IdGeneratorHandle>;
}

export function registerIdsCommand(program: Command, context: CommandContext): void {
  const deps: IdsDeps = { io: context.io, loadConfig: context.loadConfig, createIdGenerator };
  const ids = program.command('ids').description('issue and decode Snowflake ids');

  withCommonOptions(
    ids
      .command('new')
      .description(
        'issue new ids, one per line; the worker id comes from ids.workerId or is leased in Redis for the run',
      )
      .option(
        '-n, --count <n>',
        `how many ids (1-${MAX_NEW_IDS})`,
        usageParser(parseIntegerOption('--count', 1, MAX_NEW_IDS)),
        1,
      ),
    [
      'tradectl ids new',
      'tradectl ids new --count 5 --json',
      'TRADECTL_WORKER_ID=7 tradectl ids new -n 1000 > ids.txt',
    ],
  ).action(async (options: IdsNewOptions) => runIdsNew(options, deps));

  withCommonOptions(
    ids
      .command('parse')
      .description('decode ids into their timestamp (UTC), worker id and sequence')
      .argument('<id...>', 'decimal Snowflake ids'),
    [
      'tradectl ids parse 383467858253870530',
      'tradectl ids parse 383467858253870530 383467858253870531 --json',
    ],
  ).action(async (idArgs: string[], options: CommonOptions) =>
    runIdsParse({ ...options, ids: idArgs }, deps),
  );
}

export async function runIdsNew(options: IdsNewOptions, deps: IdsDeps): Promise<void> {
  const config = await deps.loadConfig(options);
  const handle = await deps.createIdGenerator({ config, logger: cliLogger(deps.io, options, config) });
  const issued: string[] = new Array(options.count);
  try {
    for (let i = 0; i < options.count; i++) issued[i] = handle.generator.next();
  } finally {
    await handle.close();
  }
  if (options.json) writeJson(deps.io, issued);
  else {
    // Large counts go out in chunks: one write per id is slow, one giant string is wasteful.
    for (let start = 0; start < issued.length; start += 10_000) {
      deps.io.stdout.write(`${issued.slice(start, start + 10_000).join('\n')}\n`);
    }
  }
  if (deps.io.stderr.isTTY && !options.json) {
    const from = handle.source === 'lease' ? 'leased in Redis' : 'from config';
    writeLine(deps.io.stderr, `${issued.length} id(s) from worker id ${handle.workerId} (${from})`);
  }
}

export async function runIdsParse(options: IdsParseOptions, deps: IdsDeps): Promise<void> {
  const config = await deps.loadConfig(options);
  const epochMs = Date.parse(config.ids.epoch);
  const parsed: SnowflakeParts[] = [];
  const bad: string[] = [];
  for (const id of options.ids) {
    try {
      parsed.push(parseSnowflake(id, epochMs));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      bad.push(JSON.stringify(id));
    }
  }
  if (bad.length > 0) {
    throw new UsageError(
      `not a Snowflake id: ${bad.join(', ')}`,
      'an id is a decimal integer from 0 to 9223372036854775807, as printed by "tradectl ids new"',
    );
  }
  if (options.json) {
    writeJson(
      deps.io,
      parsed.map(({ id, timestamp, workerId, sequence }) => ({ id, timestamp, workerId, sequence })),
    );
    return;
  }
  writeTable(
    deps.io,
    ['id', 'timestamp', 'worker', 'sequence'],
    parsed.map((part) => [part.id, part.timestamp, part.workerId, part.sequence]),
  );
}

// Logs go to the command's stderr, quiet unless something is wrong (or --debug).
function cliLogger(io: CliIo, options: CommonOptions, config: Config): Logger {
  return createLogger({
    level: options.debug ? 'debug' : config.log.level === 'silent' ? 'silent' : 'warn',
    destination: io.stderr,
  });
}

// commander reports only InvalidArgumentError as a usage error (exit 2); other errors from an
// option parser would surface as unexpected failures.
function usageParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}
