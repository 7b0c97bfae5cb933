import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { BackfillProgress, BackfillResult } from '../core/migrate/backfill.js';
import { describeLayout } from '../core/migrate/layouts.js';
import type { PlanReport, StartReport } from '../core/migrate/plan-start.js';
import type { StatusReport, TransitionReport } from '../core/migrate/transitions.js';
import type { VerifyReport } from '../core/migrate/verify.js';
import { type CliIo, writeLine, writeTable } from './output.js';

/** Human output of `tradectl migrate-shards`: data on stdout (tables), people-facing lines on stderr. */

export function printPlan(io: CliIo, report: PlanReport): void {
  const source =
    report.source.kind === 'layout'
      ? describeLayout(report.source.layout)
      : `legacy table ${report.source.table}`;
  writeTable(
    io,
    ['migration', 'source', 'source rows', 'target', 'target tables', 'throttle rows/s', 'batch', 'estimate'],
    [
      [
        report.migration ?? '(dry run)',
        source,
        report.sourceRows,
        describeLayout(report.target),
        report.targetTables,
        report.throttle === 0 ? 'unlimited' : report.throttle,
        report.batchRows,
        report.estimatedSeconds === null ? 'unthrottled' : duration(report.estimatedSeconds),
      ],
    ],
  );
  const what = report.dryRun ? 'dry run: nothing recorded' : report.replaced ? 'plan replaced' : 'planned';
  writeLine(io.stderr, `${what}; next step: tradectl migrate-shards start`);
}

export function printStart(io: CliIo, report: StartReport): void {
  const { init } = report;
  const tables = init.schemas.reduce((sum, schema) => sum + schema.missingTables.length, 0);
  const created = report.dryRun
    ? `would create ${tables} table(s)`
    : `${init.tablesCreated} table(s) created, ${init.tablesExisting} existing`;
  const phase = report.dryRun
    ? 'dry run: dual write not turned on'
    : report.alreadyStarted
      ? 'already started: dual write is on'
      : 'started: running sinks write both layouts within seconds';
  writeLine(io.stdout, `migration ${report.migration}: target ${describeLayout(report.target)}: ${created}`);
  if (report.highKey !== null) writeLine(io.stdout, `legacy rows to copy: ids up to ${report.highKey}`);
  writeLine(io.stderr, `${phase}; next step: tradectl migrate-shards backfill`);
}

export function printBackfill(io: CliIo, result: BackfillResult): void {
  const rate = result.seconds > 0 ? Math.round(result.copiedThisRun / result.seconds) : 0;
  writeTable(
    io,
    ['migration', 'copied this run', 'copied total', 'source rows', 'rows/s', 'batch', 'seconds', 'state'],
    [
      [
        result.migration,
        result.copiedThisRun,
        result.copiedTotal,
        result.sourceRows,
        rate,
        result.batchRows === null
          ? '-'
          : `${result.batchRows} (${result.serverCopy ? 'server copy' : 'client'})`,
        Number(result.seconds.toFixed(1)),
        result.dryRun ? 'dry run' : result.completed ? 'complete' : `stopped (${result.stopped ?? 'error'})`,
      ],
    ],
  );
  if (result.alreadyDone)
    writeLine(io.stderr, 'the backfill had already finished; next step: tradectl migrate-shards verify');
  else if (result.completed)
    writeLine(io.stderr, 'backfill complete; next step: tradectl migrate-shards verify');
  else if (result.stopped === 'phase')
    writeLine(io.stderr, 'stopped: the migration left the started phase meanwhile');
  else if (!result.dryRun)
    writeLine(io.stderr, 'stopped at its checkpoint: run tradectl migrate-shards backfill to resume');
}

export function printVerify(io: CliIo, report: VerifyReport): void {
  if (report.differing.length > 0) {
    writeTable(
      io,
      [
        'from id',
        'to id',
        'source orders',
        'target orders',
        'missing',
        'extra',
        'different',
        'repaired',
        'examples',
      ],
      report.differing.map((range) => [
        range.lo,
        range.hi,
        range.source.orders,
        range.target.orders,
        range.missing,
        range.extra,
        range.different,
        range.repaired ? 'yes' : 'no',
        range.examples.join(' '),
      ]),
    );
  }
  const where = report.range
    ? `ids ${report.range.lo}..${report.range.hi} in ${report.chunks} chunk(s)`
    : 'no rows';
  writeLine(
    io.stderr,
    `verify: ${report.sourceRows} source and ${report.targetRows} target order(s), ${where}: ` +
      (report.ok
        ? `equal${report.differing.length > 0 ? ' after repair' : ''}; phase ${report.phase}`
        : `${report.remaining} range(s) differ; run verify --repair`),
  );
}

export function printTransition(io: CliIo, report: TransitionReport): void {
  const change = report.changed ? `${report.from} -> ${report.to}` : `already ${report.to}`;
  writeLine(
    io.stdout,
    `migration ${report.migration}: ${report.step}: ${change}${report.dryRun ? ' (dry run)' : ''}`,
  );
  for (const name of report.dropped)
    writeLine(io.stdout, `${report.dryRun ? 'would drop' : 'dropped'} ${name}`);
  if (report.intents !== null) {
    const { copied, notCopied } = report.intents;
    writeLine(
      io.stdout,
      `stock intents copied into the target: ${copied}${notCopied > 0 ? ` (${notCopied} not copied: no order in the source, or written during the copy)` : ''}`,
    );
  }
  writeLine(io.stderr, `${report.meaning}; next step: ${report.next}`);
}

export function printStatus(io: CliIo, status: StatusReport): void {
  const state = status.migration;
  if (state === null) {
    writeLine(io.stderr, `no migration; next step: ${status.next}`);
    return;
  }
  const source =
    state.source.kind === 'layout'
      ? describeLayout(state.source.layout)
      : `${state.source.legacy.schema}.${state.source.legacy.table}`;
  writeTable(
    io,
    ['migration', 'phase', 'source', 'target', 'copied', 'source rows', 'throttle rows/s', 'updated'],
    [
      [
        state.id,
        state.phase,
        source,
        describeLayout(state.target),
        state.copiedRows,
        state.sourceRows,
        state.throttle === 0 ? 'unlimited' : state.throttle,
        state.updatedAt,
      ],
    ],
  );
  writeLine(io.stderr, `${status.meaning}; next step: ${status.next}`);
}

/** The backfill's progress bar with ETA, on a terminal (stderr). */
export function backfillProgressView(stream: Writable): {
  update(progress: BackfillProgress): void;
  stop(): void;
} {
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(progress) {
      if (progress.stage === 'settling') {
        stream.write('waiting for running sinks to switch to dual write...\n');
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format:
              'backfill [{bar}] {percentage}% {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}',
            hideCursor: true,
            noTTYOutput: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(progress.total, progress.copied, { rate: 0 });
      }
      bar.setTotal(progress.total);
      bar.update(progress.copied, { rate: Math.round(progress.rowsPerSecond) });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}min`;
  return `${(seconds / 3600).toFixed(1)}h`;
}
