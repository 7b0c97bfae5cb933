import { describe, expect, it } from 'vitest';
import { isTradectlError } from '../../src/core/errors.js';
import { parseLayoutShape } from '../../src/core/migrate/layouts.js';
import {
  isAllowed,
  type MigrationStep,
  nextStep,
  requireStep,
  writePlan,
} from '../../src/core/migrate/phases.js';
import { type MigrationPhase, type MigrationState, PHASES } from '../../src/core/migrate/state.js';

const state = (phase: MigrationPhase): MigrationState => ({
  id: 7,
  source: { kind: 'layout', layout: { databases: 2, tablesPerDatabase: 4, databasePrefix: 'a' } },
  target: { databases: 4, tablesPerDatabase: 8, databasePrefix: 'b' },
  phase,
  throttle: 0,
  batchRows: 100,
  checkpoint: null,
  copiedRows: 0,
  sourceRows: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  backfilledAt: null,
  verifiedAt: null,
  cutOverAt: null,
  finishedAt: null,
  updatedAt: '2026-01-01T00:00:00.000Z',
});

// Which step may run in which phase: the whole table, so a change to the rules is a visible diff.
const ALLOWED: Record<MigrationStep, (MigrationPhase | 'none')[]> = {
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

describe('migration phases', () => {
  const phases = ['none', ...PHASES] as const;
  for (const [step, allowed] of Object.entries(ALLOWED) as [MigrationStep, (MigrationPhase | 'none')[]][]) {
    it(`${step} runs in ${allowed.join(', ')} and nowhere else`, () => {
      for (const phase of phases)
        expect(isAllowed(step, phase), `${step} in ${phase}`).toBe(allowed.includes(phase));
    });
  }

  it('refuses out of order with the phase, its meaning and the next step', () => {
    let caught: unknown;
    try {
      requireStep('cutover', state('started'));
    } catch (error) {
      caught = error;
    }
    expect(isTradectlError(caught) && caught.code).toBe('TRADECTL_MIGRATION_OUT_OF_ORDER');
    expect(isTradectlError(caught) && caught.kind).toBe('usage');
    expect((caught as Error).message).toBe(
      'cannot cutover: migration 7 is started (dual write on, backfill not finished)',
    );
    expect(isTradectlError(caught) && caught.hint).toBe('next step: tradectl migrate-shards backfill');
    expect(() => requireStep('start', null)).toThrow('cannot start: no migration is planned');
    expect(() => requireStep('plan', null)).not.toThrow();
  });

  it('names the next step of every phase', () => {
    expect(phases.map((phase) => nextStep(phase))).toEqual([
      'tradectl migrate-shards plan',
      'tradectl migrate-shards start',
      'tradectl migrate-shards backfill',
      'tradectl migrate-shards verify',
      'tradectl migrate-shards cutover',
      'tradectl migrate-shards cleanup --yes (or rollback)',
      'tradectl migrate-shards plan',
      'tradectl migrate-shards plan',
    ]);
  });

  it('writes the source first until cutover, both from start until cleanup', () => {
    expect(PHASES.map((phase) => writePlan(phase))).toEqual([
      { primary: 'source', secondary: null },
      { primary: 'source', secondary: 'target' },
      { primary: 'source', secondary: 'target' },
      { primary: 'source', secondary: 'target' },
      { primary: 'target', secondary: 'source' },
      { primary: 'target', secondary: null },
      { primary: 'source', secondary: null },
    ]);
  });

  it('parses layout shapes', () => {
    expect(parseLayoutShape('16x256')).toEqual({ databases: 16, tablesPerDatabase: 256 });
    expect(parseLayoutShape(' 4 X 8 ')).toEqual({ databases: 4, tablesPerDatabase: 8 });
    for (const bad of ['16', '0x4', '4x0', '2000x1', '1x5000', '4x8x2', 'axb', ''])
      expect(parseLayoutShape(bad)).toBeNull();
  });
});
