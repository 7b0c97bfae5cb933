import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runBackfill } from '../../src/core/migrate/backfill.js';
import { metaDatabaseOf } from '../../src/core/migrate/layouts.js';
import { migrationSides } from '../../src/core/migrate/sides.js';
import { MigrationStateStore } from '../../src/core/migrate/state.js';
import { fillLegacyTable, legacyTableDdl, migrateCli } from '../helpers/migrate-fixture.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

// A backfill stopped mid-way resumes exactly at its checkpoint: once stopped by its abort
// signal, once killed with SIGKILL in a child process (no chance to clean up). Legacy ids are
// 1..ROWS without gaps, so the rows a resumed run copies must be exactly ROWS - checkpoint.

const ROWS = 20_000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let fixture: StoreFixture;
let cli: Awaited<ReturnType<typeof migrateCli>>;
let states: MigrationStateStore;

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 2, tablesPerDatabase: 4 });
  const schema = `${fixture.config.mysql.databasePrefix}_legacy`;
  const pool = fixture.pools.meta();
  await pool.query(`CREATE DATABASE \`${schema}\``);
  await pool.query(legacyTableDdl(`\`${schema}\`.orders`, { updatedAt: false }));
  await fillLegacyTable(pool, `\`${schema}\`.orders`, ROWS, { updatedAt: false });
  cli = await migrateCli(fixture.config);
  states = new MigrationStateStore(pool, metaDatabaseOf(fixture.config));
  const planned = await cli.run(
    'migrate-shards',
    'plan',
    '--from-legacy',
    `${schema}.orders`,
    '--batch',
    '500',
    '--throttle',
    '4000',
  );
  expect(planned.code, planned.stderr).toBe(EXIT.ok);
  expect((await cli.run('migrate-shards', 'start')).code).toBe(EXIT.ok);
}, 120_000);

afterAll(async () => {
  await cli?.cleanup();
  await fixture?.close();
});

const backfillIn = (signal?: AbortSignal, onProgress?: (copied: number) => void) =>
  runBackfill({
    states,
    sidesFor: (state) => migrationSides(fixture.config, fixture, state),
    lockPool: fixture.pools.meta(),
    settleMs: 0,
    signal,
    onProgress: (progress) => onProgress?.(progress.copied),
  });

describe('backfill resume', () => {
  it('stops on its abort signal after a batch and resumes from the checkpoint', async () => {
    const controller = new AbortController();
    const first = await backfillIn(controller.signal, (copied) => {
      if (copied >= 3000) controller.abort();
    });
    expect(first).toMatchObject({ completed: false, stopped: 'signal' });
    const saved = (await states.current())!;
    expect(saved.phase).toBe('started');
    expect(saved.checkpoint?.afterId).toBe(String(first.copiedThisRun));
    expect(first.copiedThisRun % 500).toBe(0);
  });

  it('survives SIGKILL in the middle and the next run copies exactly the rest', async () => {
    const before = (await states.current())!;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/tradectl.ts',
        'migrate-shards',
        'backfill',
        '--settle',
        '0',
        '--config',
        cli.file,
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    const exited = once(child, 'exit');
    // Kill once it has copied at least 4,000 more rows (about a second at 4,000 rows/s).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = (await states.current())!;
      if (state.copiedRows >= before.copiedRows + 4000) break;
      if (Date.now() > deadline)
        throw new Error(`the child backfill made no progress (copied ${state.copiedRows})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    const killed = (await states.current())!;
    expect(killed.phase).toBe('started');
    const afterId = Number(killed.checkpoint!.afterId);
    expect(afterId).toBeGreaterThan(Number(before.checkpoint!.afterId));
    expect(afterId).toBeLessThan(ROWS);

    // The server released the dead process's lock; the resumed run starts at the checkpoint.
    const resumed = await backfillIn();
    expect(resumed).toMatchObject({ completed: true, resumedFrom: { table: 0, afterId: String(afterId) } });
    expect(resumed.copiedThisRun).toBe(ROWS - afterId);
    const again = await cli.run('migrate-shards', 'backfill', '--settle', '0', '--json');
    expect(again.code).toBe(EXIT.ok);
    expect(JSON.parse(again.stdout)).toMatchObject({ completed: true, alreadyDone: true, copiedThisRun: 0 });
    const verified = await cli.run('migrate-shards', 'verify', '--json');
    expect(verified.code, verified.stdout).toBe(EXIT.ok);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, sourceRows: ROWS, targetRows: ROWS });
  });

  it('refuses a backfill once verified, naming the next step', async () => {
    const late = await cli.run('migrate-shards', 'backfill', '--settle', '0');
    expect(late.code).toBe(EXIT.usage);
    expect(late.stderr).toContain('cannot backfill: migration 1 is verified');
    expect(late.stderr).toContain('hint: next step: tradectl migrate-shards cutover');
  });
});
