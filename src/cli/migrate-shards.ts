import { type Command, Option } from 'commander';
import type { Config } from '../core/config.js';
import { runBackfill } from '../core/migrate/backfill.js';
import { type MigrationContext, openMigrationContext } from '../core/migrate/context.js';
import { planMigration, startMigration } from '../core/migrate/plan-start.js';
import { migrationSides } from '../core/migrate/sides.js';
import { AUTO_BATCH_ROWS } from '../core/migrate/throttle.js';
import { migrationStatus, setThrottle, transition } from '../core/migrate/transitions.js';
import { verifyMigration } from '../core/migrate/verify.js';
import { type CommandContext, type CommonOptions, parseIntegerOption, withCommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import {
  type PlanFlags,
  parseBatch,
  parseOffset,
  parseShape,
  parseTable,
  planInput,
  type StepFlags,
} from './migrate-shards-args.js';
import {
  backfillProgressView,
  printBackfill,
  printPlan,
  printStart,
  printStatus,
  printTransition,
  printVerify,
} from './migrate-shards-output.js';
import { type CliIo, writeJson, writeLine } from './output.js';

export interface MigrateShardsDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  setExitCode(code: ExitCode): void;
  openContext(config: Config, connections: number): MigrationContext;
  /** Stop a backfill on SIGINT/SIGTERM (its checkpoint is kept). Default true. */
  handleSignals?: boolean;
}

export function registerMigrateShardsCommand(
  program: Command,
  context: CommandContext,
  overrides: Partial<MigrateShardsDeps> = {},
): void {
  const deps: MigrateShardsDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    setExitCode: context.setExitCode,
    openContext: openMigrationContext,
    ...overrides,
  };
  const group = program
    .command('migrate-shards')
    .description(
      'move orders online from a legacy single orders table, or from the current shard layout, into another ' +
        'layout: plan -> start (dual write) -> backfill -> verify -> cutover -> cleanup (see docs/migrate-shards.md)',
    );
  const step = (name: string, description: string, examples: string[]) =>
    withCommonOptions(group.command(name).description(description), examples);
  const settle = [
    '--settle <seconds>',
    'wait this long for running sinks to see the new phase',
    parseIntegerOption('--settle', 0, 3600),
    15,
  ] as const;

  step(
    'plan',
    'record what moves where, with the source size and an estimate (re-run replaces a plan not started)',
    [
      'tradectl migrate-shards plan --to 16x256 --to-prefix orders_v2 --throttle 5000',
      'tradectl migrate-shards plan --from-legacy legacy.orders --legacy-platform shopify --legacy-account main',
      'tradectl migrate-shards plan --to 4x8 --dry-run --json',
    ],
  )
    .option('--to <databases>x<tables>', 'target layout, e.g. 16x256', parseShape)
    .option(
      '--to-prefix <prefix>',
      'database prefix of the target layout (default <mysql.databasePrefix>_<D>x<T>)',
    )
    .option(
      '--from-legacy <database.table>',
      'migrate a legacy single orders table into the current layout',
      parseTable,
    )
    .option('--legacy-platform <name>', 'platform stored for legacy orders', 'legacy')
    .option('--legacy-account <id>', 'account stored for legacy orders', 'legacy')
    .option('--legacy-currency <code>', 'currency of the legacy amount column', 'USD')
    .option('--legacy-utc-offset <±hh:mm>', 'how far the legacy DATETIMEs are ahead of UTC', parseOffset, 0)
    .option(
      '--throttle <rows/s>',
      'backfill rate limit; 0 = unlimited',
      parseIntegerOption('--throttle', 0),
      2000,
    )
    .addOption(
      new Option(
        '--batch <rows|auto>',
        'rows per backfill batch; auto: 50,000, or ~250 per orders table when the server copies',
      )
        .argParser(parseBatch)
        .default(AUTO_BATCH_ROWS, 'auto'),
    )
    .option('--dry-run', 'print the plan without recording it')
    .action((flags: PlanFlags) =>
      withContext(flags, deps, 4, async (ctx) => {
        const report = await planMigration(ctx, planInput(flags, ctx.config));
        output(deps.io, flags, report, printPlan);
      }),
    );

  step('start', 'create the target tables and turn dual write on (running sinks follow within seconds)', [
    'tradectl migrate-shards start --dry-run',
    'tradectl migrate-shards start',
  ])
    .option('--dry-run', 'print what would be created')
    .action((flags: StepFlags) =>
      withContext(flags, deps, 8, async (ctx) =>
        output(deps.io, flags, await startMigration(ctx, { dryRun: flags.dryRun }), printStart),
      ),
    );

  step(
    'backfill',
    'copy the source into the target in throttled keyset batches; resumes from its checkpoint',
    [
      'tradectl migrate-shards backfill',
      'tradectl migrate-shards backfill --concurrency 8 --settle 30',
      'tradectl migrate-shards backfill --dry-run --json',
    ],
  )
    .option('--dry-run', 'print what is left to copy')
    .option(
      '--concurrency <n>',
      'shard transactions in flight',
      parseIntegerOption('--concurrency', 1, 64),
      4,
    )
    .option(...settle)
    .action((flags: StepFlags) =>
      withContext(flags, deps, flags.concurrency + 4, async (ctx) => {
        const controller = new AbortController();
        const stop = () => controller.abort();
        if (deps.handleSignals !== false) {
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        }
        const view = !flags.json && deps.io.stderr.isTTY ? backfillProgressView(deps.io.stderr) : undefined;
        try {
          const result = await runBackfill({
            states: ctx.states,
            sidesFor: (state) => migrationSides(ctx.config, ctx.base, state, flags.concurrency),
            lockPool: ctx.base.pools.meta(),
            serverCopy: true,
            signal: controller.signal,
            settleMs: flags.settle * 1000,
            dryRun: flags.dryRun,
            onProgress: view?.update,
          });
          view?.stop();
          if (!result.completed && !result.dryRun) deps.setExitCode(EXIT.failed);
          output(deps.io, flags, result, printBackfill);
        } finally {
          view?.stop();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    );

  step('throttle', 'change the backfill rate limit, also while a backfill runs (0 = unlimited)', [
    'tradectl migrate-shards throttle 500',
    'tradectl migrate-shards throttle 0',
  ])
    .argument('<rows/s>', 'rows per second', parseIntegerOption('rows/s', 0))
    .action((rate: number, flags: StepFlags) =>
      withContext(flags, deps, 2, async (ctx) => {
        const result = await setThrottle(ctx, rate);
        if (flags.json) writeJson(deps.io, result);
        else
          writeLine(
            deps.io.stderr,
            `migration ${result.migration}: throttle ${result.previous} -> ${result.throttle} rows/s`,
          );
      }),
    );

  step(
    'verify',
    'compare counts and per-chunk checksums of source and target; --repair re-copies what differs',
    [
      'tradectl migrate-shards verify',
      'tradectl migrate-shards verify --repair',
      'tradectl migrate-shards verify --chunk-rows 50000 --json',
    ],
  )
    .option('--repair', 'make the differing orders of the target equal to the source')
    .option('--dry-run', 'with --repair: only list what would be repaired')
    .option(
      '--chunk-rows <n>',
      'orders per checksum chunk',
      parseIntegerOption('--chunk-rows', 100, 10_000_000),
      10_000,
    )
    .action((flags: StepFlags) =>
      withContext(flags, deps, 8, async (ctx) => {
        const report = await verifyMigration(
          ctx.states,
          (state) => migrationSides(ctx.config, ctx.base, state),
          {
            chunkRows: flags.chunkRows,
            repair: flags.repair,
            dryRun: flags.dryRun,
          },
        );
        if (!report.ok) deps.setExitCode(EXIT.failed);
        output(deps.io, flags, report, printVerify);
      }),
    );

  const move = (
    name: 'cutover' | 'rollback' | 'cleanup' | 'abort',
    description: string,
    examples: string[],
  ) =>
    step(name, description, examples)
      .option('--dry-run', 'print what would change')
      .action((flags: StepFlags) =>
        withContext(flags, deps, 4, async (ctx) => {
          const report = await transition(ctx, name, {
            dryRun: flags.dryRun,
            yes: flags.yes,
            keepSource: flags.keepSource,
            dropTarget: flags.dropTarget,
            settleMs: flags.settle * 1000,
          });
          output(deps.io, flags, report, printTransition);
        }),
      );
  move('cutover', 'make the target the layout reads and writes use (the source is still written)', [
    'tradectl migrate-shards cutover --dry-run',
    'tradectl migrate-shards cutover',
  ]);
  move('rollback', 'return reads and writes to the source after a cutover; nothing is lost', [
    'tradectl migrate-shards rollback',
  ]);
  move('cleanup', 'stop writing the source and drop it (--keep-source keeps its data); needs --yes', [
    'tradectl migrate-shards cleanup --dry-run',
    'tradectl migrate-shards cleanup --yes',
    'tradectl migrate-shards cleanup --yes --keep-source',
  ])
    .option('--yes', 'confirm: dual write stops and the source is dropped')
    .option('--keep-source', 'keep the source data (no longer written)')
    .option(...settle);
  move('abort', 'give a migration up before cutover: dual write stops, the source stays the truth', [
    'tradectl migrate-shards abort',
    'tradectl migrate-shards abort --drop-target --yes',
  ])
    .option('--drop-target', "also drop the target layout's databases (needs --yes)")
    .option('--yes', 'confirm dropping')
    .option(...settle);

  step('status', 'show the current migration: phase, progress, throttle, and the next step', [
    'tradectl migrate-shards status',
    'tradectl migrate-shards status --json',
  ]).action((flags: CommonOptions) =>
    withContext(flags, deps, 2, async (ctx) =>
      output(deps.io, flags, await migrationStatus(ctx), printStatus),
    ),
  );
}

async function withContext(
  flags: CommonOptions,
  deps: MigrateShardsDeps,
  connections: number,
  work: (context: MigrationContext) => Promise<void>,
): Promise<void> {
  const context = deps.openContext(await deps.loadConfig(flags), connections);
  try {
    await work(context);
  } finally {
    await context.close();
  }
}

function output<T>(io: CliIo, flags: CommonOptions, value: T, print: (io: CliIo, value: T) => void): void {
  if (flags.json) writeJson(io, value);
  else print(io, value);
}
