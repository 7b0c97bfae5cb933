import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { migrateCli } from '../helpers/migrate-fixture.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

// Every step refuses to run out of order (exit 2), names the phase the migration is in and the
// step that comes next, and changes nothing; steps that already happened are safe to re-run.

let fixture: StoreFixture;
let cli: Awaited<ReturnType<typeof migrateCli>>;

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 1, tablesPerDatabase: 2 });
  cli = await migrateCli(fixture.config);
});

afterAll(async () => {
  await cli?.cleanup();
  await fixture?.close();
});

async function refused(argv: string[], message: string, next: string): Promise<void> {
  const result = await cli.run('migrate-shards', ...argv);
  expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(EXIT.usage);
  expect(result.stderr).toContain(message);
  expect(result.stderr).toContain(`hint: next step: tradectl migrate-shards ${next}`);
}

async function ok(...argv: string[]) {
  const result = await cli.run('migrate-shards', ...argv);
  expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(EXIT.ok);
  return result;
}

describe('migrate-shards step order', () => {
  it('refuses every step before a plan', async () => {
    for (const step of ['start', 'backfill', 'verify', 'cutover', 'rollback', 'abort']) {
      await refused(
        [step, '--settle', '0'].slice(0, step === 'backfill' ? 3 : 1),
        `cannot ${step}: no migration is planned`,
        'plan',
      );
    }
    await refused(['cleanup', '--yes'], 'cannot cleanup: no migration is planned', 'plan');
    await refused(['throttle', '10'], 'cannot throttle: no migration is planned', 'plan');
    const status = await ok('status');
    expect(status.stderr).toContain('no migration; next step: tradectl migrate-shards plan');
  });

  it('walks the phases, refusing what does not come next and re-running what did', async () => {
    const prefix = `${fixture.config.mysql.databasePrefix}_x`;
    await ok('plan', '--to', '1x3', '--to-prefix', prefix, '--dry-run');
    await refused(['start'], 'no migration is planned', 'plan');
    await ok('plan', '--to', '1x3', '--to-prefix', prefix);
    await ok('plan', '--to', '1x4', '--to-prefix', prefix, '--throttle', '50');
    expect(JSON.parse((await ok('status', '--json')).stdout).migration).toMatchObject({
      id: 1,
      phase: 'planned',
      throttle: 50,
      target: { databases: 1, tablesPerDatabase: 4 },
    });
    await refused(['backfill', '--settle', '0'], 'cannot backfill: migration 1 is planned', 'start');
    await refused(['cutover'], 'cannot cutover: migration 1 is planned', 'start');
    await ok('start');
    await ok('start');
    await refused(
      ['plan', '--to', '1x3', '--to-prefix', prefix],
      'cannot plan: migration 1 is started',
      'backfill',
    );
    await refused(['verify'], 'cannot verify: migration 1 is started', 'backfill');
    await refused(['cutover'], 'cannot cutover: migration 1 is started', 'backfill');
    await refused(['cleanup', '--yes'], 'cannot cleanup: migration 1 is started', 'backfill');
    await ok('throttle', '0');
    // Planned without --batch: batches through the process (layout to layout) hold 50,000 rows.
    expect(JSON.parse((await ok('backfill', '--settle', '0', '--json')).stdout)).toMatchObject({
      completed: true,
      batchRows: 50_000,
      serverCopy: false,
    });
    await ok('backfill', '--settle', '0');
    await refused(['cutover'], 'cannot cutover: migration 1 is backfilled', 'verify');
    await ok('verify');
    await ok('verify');
    await refused(['cleanup', '--yes'], 'cannot cleanup: migration 1 is verified', 'cutover');
    await ok('cutover', '--dry-run');
    expect(JSON.parse((await ok('status', '--json')).stdout).migration.phase).toBe('verified');
    await ok('cutover');
    await ok('cutover');
    await refused(['abort'], 'cannot abort: migration 1 is cut_over', 'cleanup --yes (or rollback)');
    await ok('rollback');
    expect(JSON.parse((await ok('status', '--json')).stdout).migration.phase).toBe('verified');
    const aborted = JSON.parse(
      (await ok('abort', '--drop-target', '--yes', '--settle', '0', '--json')).stdout,
    );
    expect(aborted).toMatchObject({ from: 'verified', to: 'aborted', dropped: [`database ${prefix}_00`] });
    await refused(['start'], 'cannot start: migration 1 is aborted', 'plan');
    const second = JSON.parse((await ok('plan', '--to', '2x2', '--to-prefix', prefix, '--json')).stdout);
    expect(second).toMatchObject({ migration: 2, batchRows: 'auto' });
  });

  it('refuses bad arguments as usage errors naming the flag', async () => {
    const shape = await cli.run('migrate-shards', 'plan', '--to', '16by256');
    expect(shape.code).toBe(EXIT.usage);
    expect(shape.stderr).toContain('--to must look like 16x256');
    const both = await cli.run('migrate-shards', 'plan');
    expect(both.code).toBe(EXIT.usage);
    expect(both.stderr).toContain('give either --to');
    const same = await cli.run(
      'migrate-shards',
      'plan',
      '--to',
      '2x2',
      '--to-prefix',
      fixture.config.mysql.databasePrefix,
    );
    expect(same.code).toBe(EXIT.usage);
    expect(same.stderr).toContain('the target needs its own database prefix');
    const prefix = await cli.run('migrate-shards', 'plan', '--to', '2x2', '--to-prefix', 'Orders-V2');
    expect(prefix.code).toBe(EXIT.usage);
    expect(prefix.stderr).toContain('--to-prefix must be lower-case letters');
    const table = await cli.run('migrate-shards', 'plan', '--from-legacy', 'no_such_db.orders');
    expect(table.code).toBe(EXIT.usage);
    expect(table.stderr).toContain('legacy table no_such_db.orders does not exist');
  });
});
