import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { silentLogger } from '../../src/core/logger.js';
import { withShardMigrations } from '../../src/core/migrate/dual-write-store.js';
import {
  type LegacyRow,
  type LegacySource,
  legacyRowToOrder,
} from '../../src/core/migrate/legacy-mapping.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import { createOrderStore, type OrderStore } from '../../src/core/order-store.js';
import {
  fillLegacyTable,
  legacyTableDdl,
  migrateCli,
  upsertLikeTheSink,
} from '../helpers/migrate-fixture.js';
import { counterIds, generateOrders } from '../helpers/order-generator.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

// A 50,000-row legacy `orders` table migrated into the 2 x 4 layout tradectl writes, while a
// writer keeps upserting live orders through the sink's store wrapper: new orders, and newer
// versions of legacy orders (whole-second versions, so the legacy mirror holds the SAME version
// the backfill later reads). Nothing may be lost, doubled, or overwritten by an older or lossy copy.

const ROWS = 50_000;
let fixture: StoreFixture;
let cli: Awaited<ReturnType<typeof migrateCli>>;
let store: OrderStore;
let schema: string;
const ids = counterIds(10n ** 12n);
const before: UnifiedOrder[] = [];
const after: UnifiedOrder[] = [];
const liveUpdates = new Map<string, UnifiedOrder>();

const legacy = (): LegacySource => ({
  schema,
  table: 'orders',
  platform: 'shopify',
  account: 'legacy-shop',
  currency: 'USD',
  utcOffsetMinutes: 0,
  hasUpdatedAt: true,
  timePrecision: 0,
  amountScale: 2,
  highKey: String(ROWS),
});

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 2, tablesPerDatabase: 4 });
  schema = `${fixture.config.mysql.databasePrefix}_legacy`;
  const pool = fixture.pools.meta();
  await pool.query(`CREATE DATABASE \`${schema}\``);
  await pool.query(legacyTableDdl(`\`${schema}\`.orders`));
  await fillLegacyTable(pool, `\`${schema}\`.orders`, ROWS, { users: 5000 });
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
}, 300_000);

afterAll(async () => {
  await cli?.cleanup();
  await fixture?.close();
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (text: string) => JSON.parse(text);
let batchNo = 0;

/** One live batch: 20 new orders, and (after start) newer versions of 20 legacy orders. */
async function liveBatch(into: UnifiedOrder[], withLegacy: boolean): Promise<void> {
  const fresh = generateOrders({ seed: 100 + batchNo, count: 20, users: 5000, idPrefix: `LIVE${batchNo}` });
  const batch: UnifiedOrder[] = [...fresh];
  if (withLegacy) {
    const legacyIds = Array.from({ length: 20 }, (_, index) => 1 + ((batchNo * 7919 + index * 2477) % ROWS));
    const [rows] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(`SELECT * FROM \`${schema}\`.orders WHERE id IN (?)`, [legacyIds]);
    for (const row of rows) {
      const { order } = legacyRowToOrder(row as unknown as LegacyRow, legacy());
      const second = String(batchNo % 60).padStart(2, '0');
      const live: UnifiedOrder = {
        ...order,
        status: 'shipped',
        rawStatus: 'fulfilled',
        updatedAt: `2030-01-01T00:00:${second}.000Z`,
        lines: [
          { ...order.lines[0]!, lineId: 'A', quantity: 1, quantityShipped: 1 },
          { ...order.lines[0]!, lineId: 'B', quantity: 1, quantityShipped: 1, sku: 'GIFT-WRAP' },
        ],
      };
      batch.push(live);
      const seen = liveUpdates.get(order.platformOrderId);
      if (!seen || seen.updatedAt <= live.updatedAt) liveUpdates.set(order.platformOrderId, live);
    }
  }
  batchNo++;
  await upsertLikeTheSink(store, batch);
  into.push(...fresh);
}

describe('migrate-shards from a 50,000-row legacy table with a live writer', () => {
  it('migrates: not a row lost or doubled, live versions kept, mirror written from start', async () => {
    for (let index = 0; index < 5; index++) await liveBatch(before, false);
    const planned = await cli.run(
      'migrate-shards',
      'plan',
      '--from-legacy',
      `${schema}.orders`,
      '--legacy-platform',
      'shopify',
      '--legacy-account',
      'legacy-shop',
      '--throttle',
      '0',
      '--batch',
      '2000',
      '--json',
    );
    expect(planned.code, planned.stderr).toBe(EXIT.ok);
    expect(json(planned.stdout)).toMatchObject({ sourceRows: ROWS, source: { kind: 'legacy' } });
    const started = await cli.run('migrate-shards', 'start', '--json');
    expect(started.code, started.stderr).toBe(EXIT.ok);
    expect(json(started.stdout).highKey).toBe(String(ROWS));
    await wait(100);

    // Versions OLDER than the legacy rows' (live deliveries late by a day): the backfill's copy
    // must replace them, lines included (their lines A and B are stale once line 1 is copied).
    const [olderRows] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(
        `SELECT * FROM \`${schema}\`.orders WHERE id BETWEEN 40001 AND 40200 AND updated_at > created_at LIMIT 10`,
      );
    const older = olderRows.map((row) => {
      const { order } = legacyRowToOrder(row as unknown as LegacyRow, legacy());
      return {
        ...order,
        updatedAt: order.createdAt,
        lines: [
          { ...order.lines[0]!, lineId: 'A' },
          { ...order.lines[0]!, lineId: 'B' },
        ],
      };
    });
    await store.upsertBatch(older);

    let writing = true;
    const writer = (async () => {
      while (writing) {
        await liveBatch(after, true);
        await wait(10);
      }
    })();
    const backfill = await cli.run('migrate-shards', 'backfill', '--settle', '1', '--json');
    for (let index = 0; index < 5; index++) await wait(20);
    writing = false;
    await writer;
    expect(backfill.code, backfill.stderr).toBe(EXIT.ok);
    // The legacy table shares the layout's server: the server copies, in the planned batches.
    expect(json(backfill.stdout)).toMatchObject({
      completed: true,
      sourceRows: ROWS,
      batchRows: 2000,
      serverCopy: true,
    });
    expect(liveUpdates.size).toBeGreaterThan(100);

    const verified = await cli.run('migrate-shards', 'verify', '--json');
    expect(verified.code, verified.stdout).toBe(EXIT.ok);
    expect(json(verified.stdout)).toMatchObject({ ok: true, sourceRows: ROWS, targetRows: ROWS });

    // Independent counts: legacy key space exactly once per legacy id, every live order once.
    const union = (select: string) =>
      [...fixture.router.all()]
        .map((location) => select.replace('$t', fixture.router.qualifiedTable(location, 'orders')))
        .join(' UNION ALL ');
    const [counts] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids, SUM(platform = 'shopify' AND account = 'legacy-shop') AS legacy, ` +
          `SUM(platform = 'shopify' AND account = 'legacy-shop' AND CAST(id AS CHAR) = platform_order_id) AS kept FROM (${union('SELECT id, platform, account, platform_order_id FROM $t')}) AS u`,
      );
    expect(Number(counts[0]!.legacy)).toBe(ROWS);
    expect(Number(counts[0]!.kept)).toBe(ROWS);
    expect(Number(counts[0]!.n)).toBe(ROWS + before.length + after.length);
    expect(Number(counts[0]!.ids)).toBe(Number(counts[0]!.n));

    // Live versions survived the backfill whole: status, version and both live lines.
    for (const [id, live] of [...liveUpdates].slice(0, 200)) {
      const stored = await store.getById(id);
      expect(stored, `legacy order ${id}`).toMatchObject({
        status: 'shipped',
        updatedAt: live.updatedAt,
        rawStatus: 'fulfilled',
      });
      expect(stored!.lines.map((line) => line.lineId)).toEqual(['A', 'B']);
    }
    const notUpdatedLive = older.filter((stale) => !liveUpdates.has(stale.platformOrderId));
    expect(notUpdatedLive.length).toBeGreaterThan(5);
    for (const stale of notUpdatedLive) {
      const stored = await store.getById(stale.platformOrderId);
      expect(
        stored!.updatedAt > stale.updatedAt,
        `legacy order ${stale.platformOrderId} newer than the live one`,
      ).toBe(true);
      expect(stored!.lines.map((line) => line.lineId)).toEqual(['1']);
    }
    // The mirror: live versions in the legacy table, new orders after start (and none before).
    const [mirrored] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n, SUM(id > ?) AS live, SUM(status = 'shipped' AND updated_at >= '2030-01-01') AS updated FROM \`${schema}\`.orders`,
        [ROWS],
      );
    expect(Number(mirrored[0]!.live)).toBe(after.length);
    expect(Number(mirrored[0]!.updated)).toBe(liveUpdates.size);
  });

  it('cuts over, rolls back and cleans up keeping the legacy table when asked', async () => {
    expect((await cli.run('migrate-shards', 'cutover')).code).toBe(EXIT.ok);
    expect((await cli.run('migrate-shards', 'verify', '--json')).code).toBe(EXIT.ok);
    const refused = await cli.run('migrate-shards', 'verify', '--repair');
    expect(refused.code).toBe(EXIT.usage);
    expect((await cli.run('migrate-shards', 'rollback')).code).toBe(EXIT.ok);
    expect((await cli.run('migrate-shards', 'cutover')).code).toBe(EXIT.ok);
    const cleaned = await cli.run(
      'migrate-shards',
      'cleanup',
      '--yes',
      '--keep-source',
      '--settle',
      '0',
      '--json',
    );
    expect(cleaned.code, cleaned.stderr).toBe(EXIT.ok);
    expect(json(cleaned.stdout)).toMatchObject({ to: 'cleaned_up', dropped: [] });
    await wait(100);
    const [rows] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${schema}\`.orders`);
    const legacyRows = Number(rows[0]!.n);
    await liveBatch(after, false);
    const [again] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${schema}\`.orders`);
    expect(Number(again[0]!.n)).toBe(legacyRows);
  });
});
