import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { isPlatform, PLATFORMS, type Platform } from '../core/platforms.js';
import { toEpochMs } from '../core/time.js';
import { collectStatus, type StatusOptions, type StatusReport } from '../workers/status-report.js';
import { type CommandContext, type CommonOptions, withCommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';
import { ACCOUNT_HEADERS, accountCells, summaryLines, WORKER_HEADERS, workerCells } from './status-format.js';

/** Parsed flags of `tradectl status`. */
export interface StatusCommandOptions extends CommonOptions {
  platform?: Platform;
  account?: string;
}

export interface StatusCommandDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  collect(options: StatusOptions): Promise<StatusReport>;
  setExitCode(code: ExitCode): void;
}

export function registerStatusCommand(
  program: Command,
  context: CommandContext,
  overrides: Partial<StatusCommandDeps> = {},
): void {
  const deps: StatusCommandDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    collect: collectStatus,
    setExitCode: context.setExitCode,
    ...overrides,
  };
  withCommonOptions(
    program
      .command('status')
      .description(
        'show each account (checkpoint, lag, last window, lease holder, breaker, limiter queue, last run), ' +
          'live workers, open dead letters and the sink group lag; reads shared state only, safe while ' +
          'workers run. A table on a terminal, JSON when piped or with --json; exit 1 when a server ' +
          'cannot be reached',
      )
      .addOption(
        new Option(
          '--platform <platform>',
          `only accounts of this platform (${PLATFORMS.join(', ')})`,
        ).argParser((value: string) => {
          if (!isPlatform(value)) {
            throw new InvalidArgumentError(
              `--platform must be one of ${PLATFORMS.join(', ')}, got "${value}"`,
            );
          }
          return value;
        }),
      )
      .option('--account <id>', 'only accounts with this id'),
    [
      'tradectl status --config config/sandbox.yaml',
      'tradectl status --platform amazon --account na-main',
      'tradectl status --json | jq ".accounts[] | {account, lagSeconds}"',
    ],
  ).action(async (options: StatusCommandOptions) => runStatusCommand(options, deps));
}

export async function runStatusCommand(
  options: StatusCommandOptions,
  deps: StatusCommandDeps,
): Promise<void> {
  const config = await deps.loadConfig(options);
  const { io } = deps;
  const logger = createLogger({
    level: options.debug ? 'debug' : 'silent',
    destination: { write: (line: string) => io.stderr.write(line) },
  });
  const report = await deps.collect({ config, logger, platform: options.platform, account: options.account });
  deps.setExitCode(report.problems.length > 0 ? EXIT.failed : EXIT.ok);
  if (options.json || !io.stdout.isTTY) {
    writeJson(io, report);
  } else {
    const now = toEpochMs(report.generatedAt);
    if (report.accounts.length === 0) writeLine(io.stdout, 'no accounts configured');
    else
      writeTable(
        io,
        ACCOUNT_HEADERS,
        report.accounts.map((row) => accountCells(row, now)),
      );
    if (report.workers !== null) {
      writeLine(io.stdout);
      if (report.workers.length === 0) writeLine(io.stdout, 'workers: none running');
      else
        writeTable(
          io,
          WORKER_HEADERS,
          report.workers.map((worker) => workerCells(worker, now)),
        );
    }
    const lines = summaryLines(report, now);
    if (lines.length > 0) writeLine(io.stdout);
    for (const line of lines) writeLine(io.stdout, line);
  }
  for (const problem of report.problems) {
    writeLine(
      io.stderr,
      `tradectl: cannot read ${SERVICE_NAMES[problem.service]} at ${problem.target}: ${problem.message}`,
    );
    if (problem.hint) writeLine(io.stderr, `hint: ${problem.hint}`);
  }
}

const SERVICE_NAMES = { mysql: 'MySQL', redis: 'Redis', kafka: 'Kafka' } as const;
