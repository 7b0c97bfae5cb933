import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { silentLogger } from '../../src/core/logger.js';
import { withShardMigrations } from '../../src/core/migrate/dual-write-store.js';
import { createOrderStore, type OrderStore } from '../../src/core/order-store.js';
import { addMs } from '../../src/core/time.js';
import { layoutTotals, migrateCli } from '../helpers/migrate-fixture.js';
import { counterIds, generateOrders } from '../helpers/order-generator.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

// Resharding 2 x 4 into 4 x 8 through the real CLI, with orders written through the sink's
// store wrapper before and during the migration; every row is compared with an independent
// COUNT + checksum query (not verify's code) before cutover and after cleanup.

let fixture: StoreFixture;
let cli: Awaited<ReturnType<typeof migrateCli>>;
let store: OrderStore;
const ids = counterIds();
const orders = generateOrders({ seed: 11, count: 3000, users: 400 });

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 2, tablesPerDatabase: 4 });
  cli = await migrateCli(fixture.config);
  const { pools, router, config } = fixture;
  const base = createOrderStore({ pools, router, nextId: ids });
  store = withShardMigrations(base, {
    config,
    pools,
    router,
    nextId: ids,
    logger: silentLogger(),
    refreshMs: 50,
  });
  for (let at = 0; at < 2500; at += 500) await store.upsertBatch(orders.slice(at, at + 500));
});

afterAll(async () => {
  await cli?.cleanup();
  await fixture?.close();
});

const source = () => ({
  databases: 2,
  tablesPerDatabase: 4,
  databasePrefix: fixture.config.mysql.databasePrefix,
});
const target = () => ({
  databases: 4,
  tablesPerDatabase: 8,
  databasePrefix: `${fixture.config.mysql.databasePrefix}_n`,
});
const json = (text: string) => JSON.parse(text);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('migrate-shards 2 x 4 -> 4 x 8', () => {
  it('plans with the source size and an estimate at the throttle', async () => {
    const planned = await cli.run(
      'migrate-shards',
      'plan',
      '--to',
      '4x8',
      '--to-prefix',
      target().databasePrefix,
      '--throttle',
      '1000',
      '--batch',
      '400',
      '--json',
    );
    expect(planned.code, planned.stderr).toBe(EXIT.ok);
    expect(json(planned.stdout)).toMatchObject({
      migration: 1,
      sourceRows: 2500,
      target: target(),
      targetTables: 96,
      throttle: 1000,
      estimatedSeconds: 3,
    });
  });

  it('starts dual write: the running wrapper writes both layouts within its refresh', async () => {
    const started = await cli.run('migrate-shards', 'start', '--json');
    expect(started.code, started.stderr).toBe(EXIT.ok);
    expect(json(started.stdout).init.tablesCreated).toBeGreaterThanOrEqual(96);
    await wait(100);
    // New orders and a newer version of an old one, written while dual write is on.
    const updated = {
      ...orders[0]!,
      status: 'cancelled' as const,
      updatedAt: addMs(orders[0]!.updatedAt, 1000),
    };
    await store.upsertBatch([...orders.slice(2500, 2600), updated]);
    const totals = await layoutTotals(fixture.pools.meta(), target());
    expect(totals.orders.count).toBe(101);
  });

  it('backfills every order, resumable batches throttled by the state, with live writes in between', async () => {
    await cli.run('migrate-shards', 'throttle', '0');
    const writer = (async () => {
      for (let at = 2600; at < 3000; at += 100) {
        await store.upsertBatch(orders.slice(at, at + 100));
        await wait(20);
      }
    })();
    const backfill = await cli.run('migrate-shards', 'backfill', '--settle', '0', '--json');
    await writer;
    expect(backfill.code, backfill.stderr).toBe(EXIT.ok);
    expect(json(backfill.stdout)).toMatchObject({ completed: true, resumedFrom: null });
    expect(json(backfill.stdout).copiedThisRun).toBeGreaterThanOrEqual(2600);
  });

  it('verifies, and an independent count + checksum agrees row for row', async () => {
    const verified = await cli.run('migrate-shards', 'verify', '--chunk-rows', '500', '--json');
    expect(verified.code, verified.stdout).toBe(EXIT.ok);
    expect(json(verified.stdout)).toMatchObject({
      ok: true,
      phase: 'verified',
      sourceRows: 3000,
      targetRows: 3000,
    });
    const [before, after] = [
      await layoutTotals(fixture.pools.meta(), source()),
      await layoutTotals(fixture.pools.meta(), target()),
    ];
    expect(before.orders.count).toBe(3000);
    expect(after).toEqual(before);
    const [rows] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM \`${fixture.config.mysql.databasePrefix}_meta\`.order_locator`,
      );
    expect(Number(rows[0]!.n)).toBe(3000);
  });

  it('cuts over (reads follow), writes both until cleanup, and keeps every row after the source is dropped', async () => {
    expect((await cli.run('migrate-shards', 'cutover')).code).toBe(EXIT.ok);
    const listed = await cli.run('orders', 'list', '--limit', '1000', '--json');
    expect(json(listed.stdout).rows).toHaveLength(1000);
    await wait(100);
    const late = generateOrders({ seed: 12, count: 20, users: 400, idPrefix: 'LATE' });
    await store.upsertBatch(late);
    expect((await layoutTotals(fixture.pools.meta(), source())).orders.count).toBe(3020);
    expect((await cli.run('migrate-shards', 'rollback')).code).toBe(EXIT.ok);
    expect((await cli.run('migrate-shards', 'cutover')).code).toBe(EXIT.ok);
    const refused = await cli.run('migrate-shards', 'cleanup');
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toContain('--yes');
    const cleaned = await cli.run('migrate-shards', 'cleanup', '--yes', '--settle', '0', '--json');
    expect(cleaned.code, cleaned.stderr).toBe(EXIT.ok);
    expect(json(cleaned.stdout).dropped).toHaveLength(2);
    const after = await layoutTotals(fixture.pools.meta(), target());
    expect(after.orders.count).toBe(3020);
    await wait(100);
    await store.upsertBatch(generateOrders({ seed: 13, count: 5, users: 400, idPrefix: 'AFTER' }));
    expect((await layoutTotals(fixture.pools.meta(), target())).orders.count).toBe(3025);
    const found = await store.getByPlatformKey({ ...late[0]!, userId: late[0]!.userId });
    expect(found?.platformOrderId).toBe(late[0]!.platformOrderId);
  });
});
