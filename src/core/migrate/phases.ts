import { TradectlError } from '../errors.js';
import type { MigrationPhase, MigrationState } from './state.js';

/**
 * The order of a migration, as pure rules:
 *
 *   plan -> start (dual write) -> backfill -> verify -> cutover -> cleanup
 *                                                         `-> rollback -> (verified again)
 *   abort: from any phase before cutover (dual write stops; the source stays the truth)
 *
 * Each step names the phases it runs in; running it in the phase it leads to again is allowed
 * and changes nothing (every step is safe to re-run). Anything else is refused with the step
 * that comes next.
 */
export type MigrationStep =
  | 'plan'
  | 'start'
  | 'backfill'
  | 'verify'
  | 'cutover'
  | 'rollback'
  | 'cleanup'
  | 'abort'
  | 'throttle';

const ALLOWED: Readonly<Record<MigrationStep, readonly (MigrationPhase | 'none')[]>> = {
  plan: ['none', 'planned', 'cleaned_up', 'aborted'],
  start: ['planned', 'started'],
  backfill: ['started', 'backfilled'],
  verify: ['backfilled', 'verified', 'cut_over'],
  cutover: ['verified', 'cut_over'],
  rollback: ['cut_over', 'verified'],
  cleanup: ['cut_over', 'cleaned_up'],
  abort: ['planned', 'started', 'backfilled', 'verified', 'aborted'],
  throttle: ['planned', 'started', 'backfilled', 'verified', 'cut_over'],
};

/** What a phase means for the running system, for messages and `status`. */
export const PHASE_MEANING: Readonly<Record<MigrationPhase | 'none', string>> = {
  none: 'no migration',
  planned: 'planned; nothing changed yet',
  started: 'dual write on, backfill not finished',
  backfilled: 'dual write on, backfill finished, not verified',
  verified: 'dual write on, source and target verified equal; reads use the source',
  cut_over: 'reads and writes use the target; the source is still written',
  cleaned_up: 'finished; only the target is written',
  aborted: 'aborted; only the source is written',
};

/** The step that moves a migration in `phase` forward. */
export function nextStep(phase: MigrationPhase | 'none'): string {
  switch (phase) {
    case 'none':
    case 'cleaned_up':
    case 'aborted':
      return 'tradectl migrate-shards plan';
    case 'planned':
      return 'tradectl migrate-shards start';
    case 'started':
      return 'tradectl migrate-shards backfill';
    case 'backfilled':
      return 'tradectl migrate-shards verify';
    case 'verified':
      return 'tradectl migrate-shards cutover';
    case 'cut_over':
      return 'tradectl migrate-shards cleanup --yes (or rollback)';
  }
}

export function isAllowed(step: MigrationStep, phase: MigrationPhase | 'none'): boolean {
  return ALLOWED[step].includes(phase);
}

/** Throws TRADECTL_MIGRATION_OUT_OF_ORDER unless `step` may run on `state`. */
export function requireStep(step: MigrationStep, state: MigrationState | null): void {
  const phase = state?.phase ?? 'none';
  if (isAllowed(step, phase)) return;
  const what =
    state === null
      ? 'no migration is planned'
      : `migration ${state.id} is ${phase} (${PHASE_MEANING[phase]})`;
  throw new TradectlError('TRADECTL_MIGRATION_OUT_OF_ORDER', `cannot ${step}: ${what}`, {
    kind: 'usage',
    details: { step, phase, migration: state?.id ?? null },
    hint: `next step: ${nextStep(phase)}`,
  });
}

/**
 * Who writes where in each phase. `primary` is written first and answers reads; `secondary`,
 * when set, is written second in the same batch (its failure fails the batch).
 */
export interface WritePlan {
  primary: 'source' | 'target';
  secondary: 'source' | 'target' | null;
}

export function writePlan(phase: MigrationPhase): WritePlan {
  switch (phase) {
    case 'planned':
    case 'aborted':
      return { primary: 'source', secondary: null };
    case 'started':
    case 'backfilled':
    case 'verified':
      return { primary: 'source', secondary: 'target' };
    case 'cut_over':
      return { primary: 'target', secondary: 'source' };
    case 'cleaned_up':
      return { primary: 'target', secondary: null };
  }
}
