import { type Command, Option } from 'commander';
import type { Config } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { Worker, type WorkerOptions, type WorkerStartInfo } from '../workers/worker.js';
import type { WorkerTuning } from '../workers/worker-context.js';
import { parseRoles, WORKER_ROLES, type WorkerRole } from '../workers/worker-roles.js';
import { type SignalSource, type SupervisedWorker, superviseWorker } from '../workers/worker-shutdown.js';
import { describeStock, WORKER_SUMMARY_HEADERS, workerSummaryCells } from '../workers/worker-summary.js';
import { type CommandContext, type CommonOptions, withCommonOptions } from './common.js';
import type { ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

/** Parsed flags of `tradectl worker`. */
export interface WorkerCommandOptions extends CommonOptions {
  roles?: WorkerRole[];
}

export interface WorkerCommandDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  setExitCode(code: ExitCode): void;
  /** Default: a real Worker. */
  createWorker(options: WorkerOptions): SupervisedWorker<WorkerStartInfo> & Pick<Worker, 'report'>;
  /** Default: the process. */
  signals?: SignalSource;
  /** Fixed tuning of every worker (tests: a sandbox's rate scale). */
  tuning?: WorkerTuning;
}

export function registerWorkerCommand(
  program: Command,
  context: CommandContext,
  overrides: Partial<WorkerCommandDeps> = {},
): void {
  const deps: WorkerCommandDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    setExitCode: context.setExitCode,
    createWorker: (options) => new Worker(options),
    ...overrides,
  };
  withCommonOptions(
    program
      .command('worker')
      .description(
        'run the long-running worker (the container entrypoint) until SIGTERM/SIGINT: schedules every ' +
          'enabled account, sinks the order bus into the shards, serves /healthz, /readyz, /metrics and ' +
          'the stock API, drains the stock ledger; logs JSON lines on stderr; exit 0 after a graceful ' +
          'shutdown, 1 when it was cut short (worker.shutdownTimeoutMs or a second signal)',
      )
      .addOption(
        new Option(
          '--roles <list>',
          `comma-separated roles to run (${WORKER_ROLES.join(', ')}); default: all of them`,
        ).argParser(parseRoles),
      ),
    [
      'tradectl worker --config config/sandbox.yaml',
      'tradectl worker --roles sync,sink,api',
      'TRADECTL_KAFKA_BROKERS=kafka:9092 tradectl worker --roles sink        # scale the sink out',
      'tradectl worker --roles api,ledger,sweeper,push --json               # stock only',
      'tradectl worker & curl -s localhost:8080/metrics | grep tradectl_sync_lag_seconds',
    ],
  ).action(async (options: WorkerCommandOptions) => runWorkerCommand(options, deps));
}

export async function runWorkerCommand(
  options: WorkerCommandOptions,
  deps: WorkerCommandDeps,
): Promise<void> {
  const config = await deps.loadConfig(options);
  const { io } = deps;
  const roles = options.roles ?? [...WORKER_ROLES];
  const logger = workerLogger(options, config);
  const worker = deps.createWorker({ ...deps.tuning, config, logger, roles });
  const result = await superviseWorker({
    worker,
    logger,
    timeoutMs: config.worker.shutdownTimeoutMs,
    signals: deps.signals,
    onStarted: (info) => {
      if (options.json) writeJson(io, { event: 'started', ...info });
    },
  });
  deps.setExitCode(result.exitCode);
  const report = worker.report();
  if (options.json) {
    writeJson(io, { event: 'stopped', ...result, ...report });
    return;
  }
  if (report.accounts.length > 0)
    writeTable(io, WORKER_SUMMARY_HEADERS, report.accounts.map(workerSummaryCells));
  const sink = report.sink
    ? `; sink: ${report.sink.inserted} new, ${report.sink.updated} updated, ${report.sink.unchanged} unchanged, ` +
      `${report.sink.deadLettered} to the DLQ`
    : '';
  const stock = report.stock ? `; stock: ${describeStock(report.stock)}` : '';
  writeLine(
    io.stderr,
    `worker stopped after ${result.signal} (${result.outcome}, ${result.ms} ms)${sink}${stock}` +
      (result.abandoned.length > 0 ? `; abandoned: ${result.abandoned.join(', ')}` : ''),
  );
}

// A daemon logs at the configured level (info by default): its log is its user interface.
function workerLogger(options: CommonOptions, config: Config): Logger {
  return createLogger({ level: options.debug ? 'debug' : config.log.level });
}
