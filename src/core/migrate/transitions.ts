import { TradectlError, UsageError } from '../errors.js';
import { classifyMysqlError, queryRows } from '../mysql-errors.js';
import type { MigrationContext } from './context.js';
import { type IntentSync, syncLayoutIntents } from './layout-intents.js';
import { type LayoutHandle, type LayoutSpec, layoutHandle } from './layouts.js';
import { legacyTableName } from './legacy-table.js';
import { type MigrationStep, nextStep, PHASE_MEANING, requireStep } from './phases.js';
import type { MigrationPhase, MigrationState } from './state.js';
import { sleepFor } from './throttle.js';

/**
 * The steps that only move the phase (cutover, rollback), end a migration (cleanup, abort) or
 * change its throttle. Each is a compare-and-set on the phase; re-running a step that already
 * happened changes nothing and says so.
 */

export interface TransitionReport {
  migration: number;
  step: MigrationStep;
  from: MigrationPhase;
  to: MigrationPhase;
  changed: boolean;
  dryRun: boolean;
  /** What was (or, on a dry run, would be) dropped. */
  dropped: string[];
  /**
   * Layout migrations: the stock intents copied into the target by cutover (before reads move)
   * and cleanup (after the source stopped being written, before it is dropped); else null.
   */
  intents: IntentSync | null;
  meaning: string;
  next: string;
}

export interface TransitionOptions {
  dryRun?: boolean;
  yes?: boolean;
  /** cleanup: keep the source's data (it is no longer written). */
  keepSource?: boolean;
  /** abort: drop the target's databases (layout migrations only). */
  dropTarget?: boolean;
  /** How long running sinks get to see the new phase before anything is dropped. Default 15 s. */
  settleMs?: number;
  signal?: AbortSignal;
}

const MOVES: Partial<Record<MigrationStep, { from: readonly MigrationPhase[]; to: MigrationPhase }>> = {
  cutover: { from: ['verified'], to: 'cut_over' },
  rollback: { from: ['cut_over'], to: 'verified' },
  cleanup: { from: ['cut_over'], to: 'cleaned_up' },
  abort: { from: ['planned', 'started', 'backfilled', 'verified'], to: 'aborted' },
};

export async function transition(
  context: MigrationContext,
  step: 'cutover' | 'rollback' | 'cleanup' | 'abort',
  options: TransitionOptions = {},
): Promise<TransitionReport> {
  const { states } = context;
  const current = await states.current();
  requireStep(step, current);
  const state = current!;
  const move = MOVES[step]!;
  const changed = move.from.includes(state.phase);
  const drops = dropsFor(context, state, step, options);
  const destructive = step === 'cleanup' || drops.length > 0;
  if (destructive && !options.yes && !options.dryRun) {
    throw new UsageError(
      `${step} is destructive: ${step === 'cleanup' ? 'dual write stops, so rollback is no longer possible; ' : ''}` +
        `${drops.length > 0 ? `it drops ${drops.map((drop) => drop.name).join(', ')}` : 'nothing is dropped'}`,
      `check with --dry-run, then run again with --yes`,
    );
  }
  const to = changed ? move.to : state.phase;
  const report: TransitionReport = {
    migration: state.id,
    step,
    from: state.phase,
    to,
    changed,
    dryRun: options.dryRun === true,
    dropped: drops.map((drop) => drop.name),
    intents: null,
    meaning: PHASE_MEANING[to],
    next: nextStep(to),
  };
  if (options.dryRun) return report;
  // The stock drainer works on the config's layout, the source, until cleanup (dual-write-store.ts):
  // the target's copies of the intents catch up before reads move to it, and once more after the
  // source is no longer written (layout-intents.ts).
  const layouts =
    state.source.kind === 'layout' && (step === 'cutover' || step === 'cleanup')
      ? {
          source: layoutHandle(context.config, context.base, state.source.layout),
          target: layoutHandle(context.config, context.base, state.target),
        }
      : null;
  if (step === 'cutover' && changed && layouts) {
    report.intents = await syncLayoutIntents(layouts.source, layouts.target);
  }
  if (changed) {
    const stamp =
      step === 'cutover' ? (['cut_over_at'] as const) : step === 'rollback' ? [] : (['finished_at'] as const);
    if (!(await states.update(state.id, move.from, { phase: move.to }, stamp))) {
      throw new TradectlError(
        'TRADECTL_MIGRATION_OUT_OF_ORDER',
        `migration ${state.id} changed while ${step} ran`,
        {
          kind: 'usage',
          hint: 'run tradectl migrate-shards status and try again',
        },
      );
    }
  }
  const syncAtCleanup = step === 'cleanup' && layouts !== null && (await databasesExist(layouts.source));
  if (drops.length > 0 || syncAtCleanup) {
    // Sinks write the old side until they re-read the phase: let them, then copy and drop.
    await sleepFor(options.settleMs ?? 15_000, options.signal);
    if (options.signal?.aborted) return { ...report, dropped: [] };
    if (syncAtCleanup) report.intents = await syncLayoutIntents(layouts.source, layouts.target);
    for (const drop of drops) await drop.run();
  }
  return report;
}

/** Whether every database of the layout is there (a cleanup re-run may find them dropped). */
async function databasesExist(handle: LayoutHandle): Promise<boolean> {
  const names = Array.from({ length: handle.spec.databases }, (_, index) =>
    handle.router.databaseName(index),
  );
  const [row] = await queryRows(
    handle.pools.meta(),
    'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)',
    [names],
    'look for the source databases',
  );
  return Number(row!.n) === names.length;
}

interface Drop {
  name: string;
  run(): Promise<void>;
}

function dropsFor(
  context: MigrationContext,
  state: MigrationState,
  step: MigrationStep,
  options: TransitionOptions,
): Drop[] {
  if (step === 'cleanup' && !options.keepSource) {
    if (state.source.kind === 'legacy') {
      const table = legacyTableName(state.source.legacy);
      const pool = context.base.pools.meta();
      return [
        {
          name: `table ${state.source.legacy.schema}.${state.source.legacy.table}`,
          run: () => exec(pool, `DROP TABLE IF EXISTS ${table}`),
        },
      ];
    }
    return dropLayout(context, state.source.layout);
  }
  if (step === 'abort' && options.dropTarget) {
    if (state.source.kind === 'legacy') {
      throw new UsageError(
        'a legacy migration writes into the layout in use: abort never drops it',
        'run abort without --drop-target',
      );
    }
    return dropLayout(context, state.target);
  }
  return [];
}

function dropLayout(context: MigrationContext, spec: LayoutSpec): Drop[] {
  const handle = layoutHandle(context.config, context.base, spec);
  return Array.from({ length: spec.databases }, (_, index) => {
    const name = handle.router.databaseName(index);
    return {
      name: `database ${name}`,
      run: () => exec(handle.pools.forDatabase(index), `DROP DATABASE IF EXISTS \`${name}\``),
    };
  });
}

async function exec(pool: { query(sql: string): Promise<unknown> }, sql: string): Promise<void> {
  try {
    await pool.query(sql);
  } catch (error) {
    throw classifyMysqlError(error, 'drop the old layout');
  }
}

/** `throttle <rows/s>`: takes effect in a running backfill within a second. */
export async function setThrottle(
  context: MigrationContext,
  rowsPerSecond: number,
): Promise<{ migration: number; throttle: number; previous: number }> {
  const current = await context.states.current();
  requireStep('throttle', current);
  const state = current!;
  const phases = ['planned', 'started', 'backfilled', 'verified', 'cut_over'] as const;
  if (!(await context.states.update(state.id, phases, { throttle_rows_per_second: rowsPerSecond }))) {
    throw new TradectlError(
      'TRADECTL_MIGRATION_OUT_OF_ORDER',
      `migration ${state.id} ended while throttle ran`,
      {
        kind: 'usage',
        hint: 'run tradectl migrate-shards status',
      },
    );
  }
  return { migration: state.id, throttle: rowsPerSecond, previous: state.throttle };
}

export interface StatusReport {
  migration: MigrationState | null;
  meaning: string;
  next: string;
}

export async function migrationStatus(context: MigrationContext): Promise<StatusReport> {
  const state = await context.states.current();
  const phase = state?.phase ?? 'none';
  return { migration: state, meaning: PHASE_MEANING[phase], next: nextStep(phase) };
}
