import { forEachBounded } from '../bounded-concurrency.js';
import { TradectlError, UsageError, ValidationError } from '../errors.js';
import { isCurrencyCode } from '../money.js';
import { classifyMysqlError } from '../mysql-errors.js';
import { type InitProgress, type InitResult, initShards } from '../shard-admin.js';
import { readLayoutOf } from './active-layout.js';
import { layoutStats, tableGroups } from './chunk-sums.js';
import type { MigrationContext } from './context.js';
import { describeLayout, type LayoutSpec, layoutHandle } from './layouts.js';
import type { LegacySource } from './legacy-mapping.js';
import { inspectLegacyTable, legacyStats } from './legacy-table.js';
import { requireStep } from './phases.js';
import type { MigrationSource, MigrationState } from './state.js';
import { AUTO_BATCH_ROWS } from './throttle.js';

/** `plan` and `start`: recording what moves where, then creating the target and turning dual write on. */

export interface PlanInput {
  /** Layout to layout: the target's shape and database prefix. */
  to?: LayoutSpec;
  /** Legacy table to the active layout. */
  legacy?: Pick<LegacySource, 'schema' | 'table' | 'platform' | 'account' | 'currency' | 'utcOffsetMinutes'>;
  throttle: number;
  /** AUTO_BATCH_ROWS: the backfill chooses. */
  batchRows: number;
  dryRun?: boolean;
}

export interface PlanReport {
  migration: number | null;
  /** An existing plan (not started) was replaced by this one. */
  replaced: boolean;
  dryRun: boolean;
  source: { kind: 'layout'; layout: LayoutSpec } | { kind: 'legacy'; table: string };
  sourceRows: number;
  target: LayoutSpec;
  targetTables: number;
  throttle: number;
  /** 'auto': the backfill sizes its batches (throttle.ts, defaultBatchRows). */
  batchRows: number | 'auto';
  /** At the throttle; null when unthrottled. */
  estimatedSeconds: number | null;
}

export async function planMigration(context: MigrationContext, input: PlanInput): Promise<PlanReport> {
  const { config, base, states } = context;
  if ((input.to === undefined) === (input.legacy === undefined)) {
    throw new UsageError('give either --to <databases>x<tables> or --from-legacy <database.table>');
  }
  const current = await states.current();
  requireStep('plan', current);
  const active = readLayoutOf(current, config);
  let source: MigrationSource;
  let target: LayoutSpec;
  let sourceRows: number;
  if (input.to) {
    target = input.to;
    if (target.databasePrefix === active.databasePrefix) {
      throw new UsageError(
        `the target needs its own database prefix: ${active.databasePrefix} is the current layout's`,
        `add --to-prefix ${active.databasePrefix}_v2 (any lower-case name)`,
      );
    }
    if (!/^[a-z][a-z0-9_]{0,40}$/.test(target.databasePrefix)) {
      throw new UsageError(
        `--to-prefix must be lower-case letters, digits and _, starting with a letter (at most 41), got "${target.databasePrefix}"`,
      );
    }
    source = { kind: 'layout', layout: active };
    sourceRows = (await layoutStats(layoutHandle(config, base, active), { kind: 'full' })).rows;
  } else {
    const legacy = input.legacy!;
    checkLegacyMapping(legacy);
    const shape = await inspectLegacyTable(base.pools.meta(), legacy.schema, legacy.table);
    source = { kind: 'legacy', legacy: { ...legacy, ...shape, highKey: null } };
    target = active;
    sourceRows = (await legacyStats(base.pools.meta(), source.legacy, null)).rows;
  }
  const report: PlanReport = {
    migration: null,
    replaced: current?.phase === 'planned',
    dryRun: input.dryRun === true,
    source:
      source.kind === 'layout'
        ? source
        : { kind: 'legacy', table: `${input.legacy!.schema}.${input.legacy!.table}` },
    sourceRows,
    target,
    targetTables: target.databases * target.tablesPerDatabase * 3,
    throttle: input.throttle,
    batchRows: input.batchRows === AUTO_BATCH_ROWS ? 'auto' : input.batchRows,
    estimatedSeconds: input.throttle > 0 ? Math.ceil(sourceRows / input.throttle) : null,
  };
  if (input.dryRun) return report;
  await states.ensureTable();
  if (current?.phase === 'planned') {
    const replaced = await states.update(current.id, ['planned'], {
      source_kind: source.kind,
      source_spec: JSON.stringify(source),
      target_spec: JSON.stringify(target),
      throttle_rows_per_second: input.throttle,
      batch_rows: input.batchRows,
      source_rows: sourceRows,
    });
    if (!replaced) throw movedMeanwhile(current.id);
    report.migration = current.id;
  } else {
    report.migration = await states.insert({
      source,
      target,
      throttle: input.throttle,
      batchRows: input.batchRows,
      sourceRows,
    });
  }
  return report;
}

function checkLegacyMapping(legacy: NonNullable<PlanInput['legacy']>): void {
  const issues = [];
  if (!/^[a-z0-9_-]{1,16}$/.test(legacy.platform))
    issues.push({ path: '--legacy-platform', message: 'expected 1-16 of a-z, 0-9, _ and -' });
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(legacy.account))
    issues.push({ path: '--legacy-account', message: 'expected 1-64 letters, digits, - or _' });
  if (!isCurrencyCode(legacy.currency))
    issues.push({ path: '--legacy-currency', message: 'expected an ISO-4217 code' });
  if (issues.length > 0) throw new ValidationError('invalid legacy mapping', issues);
}

function movedMeanwhile(id: number): TradectlError {
  return new TradectlError('TRADECTL_MIGRATION_OUT_OF_ORDER', `migration ${id} changed while this step ran`, {
    kind: 'usage',
    hint: 'run tradectl migrate-shards status and try again',
  });
}

export interface StartReport {
  migration: number;
  alreadyStarted: boolean;
  dryRun: boolean;
  target: LayoutSpec;
  init: InitResult;
  /** Legacy: the newest id copied by the backfill. */
  highKey: string | null;
}

/**
 * Creates the target's missing databases and tables (idempotent) and turns dual write on. For a
 * legacy source it also fixes the history to copy (ids up to the current newest one) after
 * checking that ids tradectl issues from now on cannot fall into it.
 */
export async function startMigration(
  context: MigrationContext,
  options: { dryRun?: boolean; onProgress?: (progress: InitProgress) => void; nowMs?: number } = {},
): Promise<StartReport> {
  const { config, base, states } = context;
  const current = await states.current();
  requireStep('start', current);
  const state = current!;
  const target = layoutHandle(config, base, state.target);
  const init = await initShards({
    config,
    pools: target.pools,
    router: target.router,
    dryRun: options.dryRun === true,
    onProgress: options.onProgress,
  });
  let source = state.source;
  if (source.kind === 'legacy' && state.phase === 'planned') {
    const legacy = {
      ...source.legacy,
      ...(await inspectLegacyTable(base.pools.meta(), source.legacy.schema, source.legacy.table)),
    };
    const { maxId } = await legacyStats(base.pools.meta(), legacy, null);
    const lowestNewId = BigInt((options.nowMs ?? Date.now()) - Date.parse(config.ids.epoch)) << 22n;
    if (maxId !== null && BigInt(maxId) >= lowestNewId) {
      throw new TradectlError(
        'TRADECTL_MIGRATION_SOURCE_INVALID',
        `legacy ids reach ${maxId}, into the ids tradectl issues from now on (${lowestNewId}+)`,
        {
          kind: 'config',
          hint: 'a legacy table with Snowflake ids needs ids.epoch set so that new ids are above its newest id',
        },
      );
    }
    await checkLegacyKeySpace(context, state, legacy, maxId);
    source = { kind: 'legacy', legacy: { ...legacy, highKey: maxId } };
  }
  const report: StartReport = {
    migration: state.id,
    alreadyStarted: state.phase === 'started',
    dryRun: options.dryRun === true,
    target: state.target,
    init,
    highKey: source.kind === 'legacy' ? source.legacy.highKey : null,
  };
  if (options.dryRun || report.alreadyStarted) return report;
  const changes = {
    phase: 'started',
    source_spec: JSON.stringify(source),
    checkpoint_table: null,
    copied_rows: 0,
  };
  if (!(await states.update(state.id, ['planned'], changes, ['started_at']))) throw movedMeanwhile(state.id);
  return report;
}

/**
 * Orders of the legacy key space (platform, account) that the target already holds under an id
 * other than their legacy id would become two rows of one order; refuse before anything starts.
 */
async function checkLegacyKeySpace(
  context: MigrationContext,
  state: MigrationState,
  legacy: LegacySource,
  maxId: string | null,
): Promise<void> {
  const handle = layoutHandle(context.config, context.base, state.target);
  let conflicts = 0;
  await forEachBounded(tableGroups(handle), 4, async (group) => {
    const parts = group.map(
      (location) =>
        `SELECT COUNT(*) AS n FROM ${handle.router.qualifiedTable(location, 'orders')} ` +
        'WHERE `platform` = ? AND `account` = ? AND CAST(`id` AS CHAR) <> `platform_order_id`',
    );
    try {
      const [rows] = await handle.pools.forDatabase(group[0]!.database).query(
        parts.join(' UNION ALL '),
        group.flatMap(() => [legacy.platform, legacy.account]),
      );
      for (const row of rows as { n: unknown }[]) conflicts += Number(row.n);
    } catch (error) {
      throw classifyMysqlError(error, 'check the legacy key space');
    }
  });
  if (conflicts > 0) {
    throw new TradectlError(
      'TRADECTL_MIGRATION_SOURCE_INVALID',
      `${describeLayout(state.target)} already holds ${conflicts} order(s) of ${legacy.platform}/${legacy.account} ` +
        `under ids other than their legacy id (legacy ids up to ${maxId ?? 'none'})`,
      {
        kind: 'config',
        hint: 'plan again with another --legacy-account, so legacy orders get a key space of their own',
      },
    );
  }
}
