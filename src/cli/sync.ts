import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { isPlatform, PLATFORMS, type Platform } from '../core/platforms.js';
import { type Instant, parseIsoInstant } from '../core/time.js';
import { runSyncOnce, type SyncOnceOptions } from '../workers/sync-once.js';
import { SUMMARY_HEADERS, type SyncSummary, summaryCells } from '../workers/sync-summary.js';
import { type CommandContext, type CommonOptions, withCommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';
import { createSyncProgress } from './sync-progress.js';

/** Parsed flags of `tradectl sync`. */
export interface SyncCommandOptions extends CommonOptions {
  platform?: Platform;
  account?: string;
  since?: Instant;
  until?: Instant;
  via?: 'kafka' | 'inline';
}

export interface SyncCommandDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  runSync(options: SyncOnceOptions): Promise<SyncSummary>;
  /** Fixed options of every run (tests: a sandbox's clock and rate scale). */
  runOptions?: Partial<SyncOnceOptions>;
  /** Stop on SIGINT/SIGTERM (finished chunks keep their checkpoints). Default true. */
  handleSignals?: boolean;
  setExitCode(code: ExitCode): void;
}

export function registerSyncCommand(
  program: Command,
  context: CommandContext,
  overrides: Partial<SyncCommandDeps> = {},
): void {
  const deps: SyncCommandDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    runSync: runSyncOnce,
    setExitCode: context.setExitCode,
    ...overrides,
  };
  withCommonOptions(
    program
      .command('sync')
      .description(
        'sync orders of every enabled account once, from its checkpoint to now minus its safety lag, ' +
          'into the sharded store (the sink runs in this process); exit 3 when some accounts failed',
      )
      .addOption(
        new Option(
          '--platform <platform>',
          `only accounts of this platform (${PLATFORMS.join(', ')})`,
        ).argParser(parsePlatform),
      )
      .option('--account <id>', 'only accounts with this id')
      .addOption(
        new Option(
          '--since <time>',
          'start of the window instead of the checkpoint (ISO-8601 with zone)',
        ).argParser(instantParser('--since')),
      )
      .addOption(
        new Option(
          '--until <time>',
          'end of the window (never later than now minus the safety lag)',
        ).argParser(instantParser('--until')),
      )
      .addOption(
        new Option(
          '--via <bus>',
          'order bus: kafka, or inline (no broker); default kafka when kafka.brokers is set',
        ).choices(['kafka', 'inline']),
      ),
    [
      'tradectl sync --config config/sandbox.yaml',
      'tradectl sync --platform amazon --account na-main',
      'tradectl sync --since 2026-03-01T00:00:00Z --until 2026-03-02T00:00:00Z --json',
      'TRADECTL_KAFKA_BROKERS=127.0.0.1:9092 tradectl sync --via kafka',
    ],
  ).action(async (options: SyncCommandOptions) => runSyncCommand(options, deps));
}

export async function runSyncCommand(options: SyncCommandOptions, deps: SyncCommandDeps): Promise<void> {
  if (options.since && options.until && options.since > options.until) {
    throw new UsageError(`--since ${options.since} is after --until ${options.until}`);
  }
  const config = await deps.loadConfig(options);
  const io = deps.io;
  const progress = io.stderr.isTTY ? createSyncProgress(io.stderr) : undefined;
  const logger = cliLogger(options, config, (line) =>
    progress ? progress.log(line) : io.stderr.write(line),
  );
  const controller = new AbortController();
  const stop = () => controller.abort();
  if (deps.handleSignals !== false) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  const started = performance.now();
  let summary: SyncSummary;
  try {
    summary = await deps.runSync({
      ...deps.runOptions,
      config,
      logger,
      via: options.via,
      platform: options.platform,
      account: options.account,
      since: options.since,
      until: options.until,
      signal: controller.signal,
      onStart: (accounts) => progress?.start(accounts),
      onProgress: (update) => progress?.update(update),
    });
  } finally {
    progress?.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  deps.setExitCode(
    summary.outcome === 'ok' ? EXIT.ok : summary.outcome === 'partial' ? EXIT.partial : EXIT.failed,
  );
  if (options.json) {
    writeJson(io, { ...summary, seconds });
    return;
  }
  writeTable(io, SUMMARY_HEADERS, summary.accounts.map(summaryCells));
  const { totals } = summary;
  const stored =
    totals.new === null
      ? 'stored by the sink group'
      : `${totals.new} new, ${totals.updated} updated, ${totals.unchanged} unchanged`;
  writeLine(
    io.stderr,
    `synced ${summary.accounts.length} account(s) via ${summary.via} in ${seconds}s: ` +
      `${totals.ok} ok, ${totals.failedAccounts} failed, ${totals.skipped} skipped; ` +
      `${totals.fetched} fetched, ${totals.published} published (${stored}), ${totals.failed} to the DLQ; ` +
      `${totals.requests} requests, ${totals.throttled} throttled, ${totals.retries} retries`,
  );
  for (const row of summary.accounts) {
    if (row.error?.hint) writeLine(io.stderr, `hint (${row.platform}:${row.account}): ${row.error.hint}`);
  }
  if (summary.error) {
    writeLine(io.stderr, `tradectl: ${summary.error.message}`);
    if (summary.error.hint) writeLine(io.stderr, `hint: ${summary.error.hint}`);
  }
}

// Quiet unless something is wrong (or --debug); lines go above the progress bars on a terminal.
function cliLogger(options: CommonOptions, config: Config, write: (line: string) => void): Logger {
  return createLogger({
    level: options.debug ? 'debug' : config.log.level === 'silent' ? 'silent' : 'warn',
    destination: { write },
  });
}

function parsePlatform(value: string): Platform {
  if (!isPlatform(value)) {
    throw new InvalidArgumentError(`--platform must be one of ${PLATFORMS.join(', ')}, got "${value}"`);
  }
  return value;
}

function instantParser(name: string) {
  return (value: string): Instant => {
    try {
      return parseIsoInstant(value, name);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}
