import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { createOrderStore } from '../../src/core/order-store.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { layoutTotals, migrateCli } from '../helpers/migrate-fixture.js';
import { generateOrders } from '../helpers/order-generator.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

// verify compares per-chunk checksums and lists the ranges that differ; --repair re-copies
// exactly those orders. Differences are injected into the target behind the system's back:
// a missing order, a changed status, an extra line, an order newer than the source, and an
// order the source does not have at all.

let fixture: StoreFixture;
let cli: Awaited<ReturnType<typeof migrateCli>>;
const orders = generateOrders({ seed: 21, count: 4000, users: 700 });
const ids: string[] = [];
let next = 10n ** 12n;
// Even ids only, so an odd id inside the range is free for an order only the target has.
const nextId = () => {
  next += 2n;
  ids.push(String(next));
  return String(next);
};

const source = () => ({
  databases: 2,
  tablesPerDatabase: 4,
  databasePrefix: fixture.config.mysql.databasePrefix,
});
const target = () => ({
  databases: 3,
  tablesPerDatabase: 5,
  databasePrefix: `${fixture.config.mysql.databasePrefix}_v`,
});

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 2, tablesPerDatabase: 4 });
  const store = createOrderStore({ pools: fixture.pools, router: fixture.router, nextId });
  for (let at = 0; at < orders.length; at += 1000) await store.upsertBatch(orders.slice(at, at + 1000));
  cli = await migrateCli(fixture.config);
  for (const argv of [
    ['plan', '--to', '3x5', '--to-prefix', target().databasePrefix, '--throttle', '0'],
    ['start'],
    ['backfill', '--settle', '0'],
  ]) {
    const result = await cli.run('migrate-shards', ...argv);
    expect(result.code, result.stderr).toBe(EXIT.ok);
  }
}, 120_000);

afterAll(async () => {
  await cli?.cleanup();
  await fixture?.close();
});

/** Runs SQL against the target table of the order with this key (its user decides the table). */
async function onTarget(index: number, statement: (table: (kind: string) => string) => [string, unknown[]]) {
  const router = new ShardRouter(target());
  const location = router.route(orders[index]!.userId);
  const [sql, values] = statement(
    (kind) => `\`${location.databaseName}\`.\`${kind}_${location.tableSuffix}\``,
  );
  await fixture.pools.meta().query(sql, values);
}

describe('verify and verify --repair', () => {
  it('passes on a clean copy', async () => {
    const clean = await cli.run('migrate-shards', 'verify', '--chunk-rows', '300', '--json');
    expect(clean.code, clean.stdout).toBe(EXIT.ok);
    expect(JSON.parse(clean.stdout)).toMatchObject({
      ok: true,
      sourceRows: 4000,
      targetRows: 4000,
      differing: [],
    });
  });

  it('finds every injected difference and lists the ranges', async () => {
    await onTarget(10, (t) => [`DELETE FROM ${t('order_lines')} WHERE order_id = ?`, [ids[10]]]);
    await onTarget(10, (t) => [`DELETE FROM ${t('order_details')} WHERE order_id = ?`, [ids[10]]]);
    await onTarget(10, (t) => [`DELETE FROM ${t('orders')} WHERE id = ?`, [ids[10]]]);
    await onTarget(1000, (t) => [
      `UPDATE ${t('orders')} SET status = IF(status = 'paid', 'pending', 'paid') WHERE id = ?`,
      [ids[1000]],
    ]);
    await onTarget(2000, (t) => [
      `INSERT INTO ${t('order_lines')} (order_id, line_id, updated_at, line_no, title, quantity, quantity_shipped, ` +
        'unit_price_amount, total_amount, tax_amount, cancelled) ' +
        `SELECT order_id, 'EXTRA', updated_at, 9, 'ghost', 1, 0, 1, 1, 0, 0 FROM ${t('order_lines')} WHERE order_id = ? LIMIT 1`,
      [ids[2000]],
    ]);
    await onTarget(3000, (t) => [
      `UPDATE ${t('orders')} SET updated_at = updated_at + INTERVAL 1 DAY, status = 'delivered' WHERE id = ?`,
      [ids[3000]],
    ]);
    const ghost = String(BigInt(ids[3500]!) + 1n);
    await onTarget(3500, (t) => [
      `INSERT INTO ${t('orders')} (id, user_id, platform, account, platform_order_id, status, raw_status, status_unknown, ` +
        'refund_state, currency, total_amount, line_count, created_at, updated_at, stored_at) ' +
        `SELECT ?, user_id, platform, account, 'GHOST-1', status, raw_status, status_unknown, refund_state, currency, ` +
        `total_amount, line_count, created_at, updated_at, stored_at FROM ${t('orders')} WHERE id = ?`,
      [ghost, ids[3500]],
    ]);
    const found = await cli.run('migrate-shards', 'verify', '--chunk-rows', '300', '--json');
    expect(found.code).toBe(EXIT.failed);
    const report = JSON.parse(found.stdout);
    expect(report.ok).toBe(false);
    const sum = (field: string) =>
      report.differing.reduce((total: number, range: Record<string, number>) => total + range[field]!, 0);
    expect({ missing: sum('missing'), extra: sum('extra'), different: sum('different') }).toEqual({
      missing: 1,
      extra: 1,
      different: 3,
    });
    for (const id of [ids[10], ids[1000], ids[2000], ids[3000], ghost]) {
      expect(
        report.differing.some(
          (range: { lo: string; hi: string }) =>
            BigInt(range.lo) <= BigInt(id!) && BigInt(id!) <= BigInt(range.hi),
        ),
        `a listed range holds ${id}`,
      ).toBe(true);
    }
    expect(report.differing.every((range: { repaired: boolean }) => !range.repaired)).toBe(true);
    const table = await cli.run('migrate-shards', 'verify', '--chunk-rows', '300');
    expect(table.stdout.split('\n')[0]).toBe(
      'from id\tto id\tsource orders\ttarget orders\tmissing\textra\tdifferent\trepaired\texamples',
    );
    expect(table.stderr).toContain('range(s) differ; run verify --repair');
  });

  it('--repair --dry-run changes nothing', async () => {
    const before = await layoutTotals(fixture.pools.meta(), target());
    const dry = await cli.run(
      'migrate-shards',
      'verify',
      '--repair',
      '--dry-run',
      '--chunk-rows',
      '300',
      '--json',
    );
    expect(dry.code).toBe(EXIT.failed);
    expect(await layoutTotals(fixture.pools.meta(), target())).toEqual(before);
  });

  it('--repair re-copies exactly those orders; the target then equals the source', async () => {
    const repaired = await cli.run('migrate-shards', 'verify', '--repair', '--chunk-rows', '300', '--json');
    expect(repaired.code, repaired.stdout).toBe(EXIT.ok);
    const report = JSON.parse(repaired.stdout);
    expect(report).toMatchObject({ ok: true, phase: 'verified', remaining: 0 });
    expect(report.differing.length).toBeGreaterThan(0);
    expect(await layoutTotals(fixture.pools.meta(), target())).toEqual(
      await layoutTotals(fixture.pools.meta(), source()),
    );
    const again = await cli.run('migrate-shards', 'verify', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, differing: [] });
  });
});
