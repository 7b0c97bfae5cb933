import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnifiedOrder } from '../../src/core/order.js';
import { intentsTable } from '../../src/core/order-stock/intent-schema.js';
import { createOrderStore } from '../../src/core/order-store.js';
import { initShards } from '../../src/core/shard-admin.js';
import { addMs } from '../../src/core/time.js';
import {
  batchOf,
  createOrderStockFixture,
  marketplaceOrder,
  type OrderStockFixture,
} from '../helpers/order-stock-fixture.js';

// A store whose stock intents were written before intents were unique per marketplace line:
// `tradectl shards init` upgrades the tables, refuses (naming them) lines deducted twice under
// two order ids, and the deductions made before the upgrade are still released exactly once,
// through the order-id operations that took the stock (MariaDB + Redis, 2 x 4, own prefixes).
let f: OrderStockFixture;
const INITIAL = 30;
// User 1003 routes to database 0, user 1007 to database 1 (2 x 4 layout).
const LEGACY_USER = '1003';
const DUPLICATED_USER = '1007';

// The intents table as the previous version created it: frozen history, not the current DDL.
const legacyDdl = (table: string) => `CREATE TABLE ${table} (
  order_id BIGINT UNSIGNED NOT NULL,
  line_id VARCHAR(64) NOT NULL,
  kind VARCHAR(8) NOT NULL,
  platform VARCHAR(16) NOT NULL,
  account VARCHAR(64) NOT NULL,
  platform_order_id VARCHAR(64) NOT NULL,
  channel_sku VARCHAR(128) NULL,
  listing_id VARCHAR(128) NULL,
  quantity INT UNSIGNED NOT NULL,
  status VARCHAR(12) NOT NULL,
  tenant VARCHAR(64) NULL,
  sku VARCHAR(128) NULL,
  applied_quantity INT UNSIGNED NULL,
  shortfall INT UNSIGNED NULL,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  last_error VARCHAR(500) NULL,
  next_attempt_at DATETIME(3) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (order_id, line_id, kind),
  KEY ix_stock_intents_due (status, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

/** An applied deduct intent row as the previous version wrote it (no operation key). */
async function insertLegacyDeduct(order: UnifiedOrder, orderId: string, sku: string): Promise<void> {
  const line = order.lines[0]!;
  const { database } = f.router.route(order.userId);
  const at = '2026-03-01 10:00:00.000';
  await f.pools
    .forDatabase(database)
    .query(
      `INSERT INTO ${intentsTable(f.router, database)} (order_id, line_id, kind, platform, account, ` +
        'platform_order_id, channel_sku, listing_id, quantity, status, tenant, sku, applied_quantity, ' +
        'shortfall, attempts, last_error, next_attempt_at, created_at, updated_at) ' +
        "VALUES (?, ?, 'deduct', ?, ?, ?, ?, NULL, ?, 'applied', 'default', ?, ?, 0, 0, NULL, ?, ?, ?)",
      [
        orderId,
        line.lineId,
        order.platform,
        order.account,
        order.platformOrderId,
        line.sku,
        line.quantity,
        sku,
        line.quantity,
        at,
        at,
        at,
      ],
    );
}

async function hasOperationKey(database: number): Promise<boolean> {
  const [rows] = await f.pools
    .forDatabase(database)
    .query<RowDataPacket[]>(
      'SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?',
      [f.router.databaseName(database), 'stock_intents', 'operation_key'],
    );
  return rows.length === 1;
}

const legacy = marketplaceOrder('U-1', [{ lineId: '1', sku: 'S-KETTLE', quantity: 2 }], {
  userId: LEGACY_USER,
});
let legacyId: string;

beforeAll(async () => {
  f = await createOrderStockFixture();
  await f.service.set({ operationId: 'init-KETTLE', sku: 'KETTLE', expectedVersion: 0, available: INITIAL });
  await f.listings.add({
    platform: 'shopify',
    account: 'us',
    kind: 'sku',
    channelKey: 'S-KETTLE',
    sku: 'KETTLE',
  });
  for (let database = 0; database < f.router.layout.databases; database++) {
    const pool = f.pools.forDatabase(database);
    await pool.query(`DROP TABLE ${intentsTable(f.router, database)}`);
    await pool.query(legacyDdl(intentsTable(f.router, database)));
  }
  // What the previous version left: the order stored, its line deducted under its order id.
  let next = 500;
  const plain = createOrderStore({ pools: f.pools, router: f.router, nextId: () => String(++next) });
  legacyId = (await plain.upsertBatch([legacy])).ids.values().next().value!;
  await f.service.deductAvailable({ sku: 'KETTLE', quantity: 2, operationId: `ord:${legacyId}:1:d` });
  await insertLegacyDeduct(legacy, legacyId, 'KETTLE');
  // And a line it deducted twice: its order re-stored under a second id.
  const twice = marketplaceOrder('U-2', [{ lineId: '1', sku: 'S-KETTLE', quantity: 1 }], {
    userId: DUPLICATED_USER,
  });
  await insertLegacyDeduct(twice, '601', 'KETTLE');
  await insertLegacyDeduct(twice, '602', 'KETTLE');
}, 60_000);

afterAll(async () => {
  await f?.close();
});

describe('upgrading stock intents written before they were unique per marketplace line', () => {
  it('tells the sink to run shards init, refuses lines deducted twice, and upgrades once they are resolved', async () => {
    const fresh = marketplaceOrder('U-3', [{ lineId: '1', sku: 'S-KETTLE', quantity: 1 }]);
    await expect(f.store.upsertBatch([fresh])).rejects.toMatchObject({
      code: 'TRADECTL_SHARDS_MISSING',
      hint: expect.stringContaining('tradectl shards init'),
    });
    const init = (dryRun = false) =>
      initShards({ config: f.config, pools: f.pools, router: f.router, dryRun });
    expect((await init(true)).tablesUpgraded).toEqual([intentsTable(f.router, 0), intentsTable(f.router, 1)]);
    expect(await hasOperationKey(0)).toBe(false);

    await expect(init()).rejects.toMatchObject({
      code: 'TRADECTL_STOCK_INTENTS_DUPLICATED',
      details: {
        table: intentsTable(f.router, 1),
        lines: [{ platformOrderId: 'U-2', lineId: '1', kind: 'deduct', orderIds: ['601', '602'] }],
      },
    });
    expect(await hasOperationKey(1)).toBe(false);
    // The operator gives back the second deduction and removes its intent (docs/stock-orders.md).
    await f.pools.forDatabase(1).query(`DELETE FROM ${intentsTable(f.router, 1)} WHERE order_id = 602`);
    const upgraded = await init();
    expect(upgraded.tablesUpgraded).toContain(intentsTable(f.router, 1));
    expect([await hasOperationKey(0), await hasOperationKey(1)]).toEqual([true, true]);
    expect((await init()).tablesUpgraded).toEqual([]);
  });

  it('keeps a deduction made before the upgrade when the order is re-stored, and releases it once by its old operation', async () => {
    const { sink } = f.pipeline();
    expect(await f.available('KETTLE')).toBe(INITIAL - 2);
    // Deleted from its shard and stored again under a new id: the line is known, nothing moves.
    const location = f.router.route(LEGACY_USER);
    for (const kind of ['order_lines', 'order_details', 'orders'] as const) {
      const column = kind === 'orders' ? 'id' : 'order_id';
      await f.pools
        .forDatabase(location.database)
        .query(`DELETE FROM ${f.router.qualifiedTable(location, kind)} WHERE ${column} = ?`, [legacyId]);
    }
    await sink.handler(batchOf([legacy]));
    expect((await f.store.getByPlatformKey(legacy))?.id).not.toBe(legacyId);
    expect(await f.available('KETTLE')).toBe(INITIAL - 2);

    const cancelled = {
      ...legacy,
      status: 'cancelled' as const,
      rawStatus: 'cancelled',
      updatedAt: addMs(legacy.updatedAt, 60_000),
    };
    await sink.handler(batchOf([cancelled]));
    await sink.handler(batchOf([cancelled]));
    expect(await f.available('KETTLE')).toBe(INITIAL);
    const intents = (await f.intents()).filter((row) => row.platformOrderId === 'U-1');
    expect(
      intents.map((row) => [
        row.orderId,
        row.kind,
        row.status,
        row.appliedQuantity,
        row.lastError,
        row.operationKey,
      ]),
    ).toEqual([
      [legacyId, 'deduct', 'applied', 2, null, null],
      // Given back by restoring `ord:<old id>:1:d`, not by the fallback adjustment.
      [legacyId, 'release', 'applied', 2, null, null],
    ]);
  });

  it('writes new intents keyed by the marketplace line once upgraded', async () => {
    const fresh = marketplaceOrder('U-4', [{ lineId: '9', sku: 'S-KETTLE', quantity: 3 }]);
    await f.pipeline().sink.handler(batchOf([fresh]));
    expect(await f.available('KETTLE')).toBe(INITIAL - 3);
    const [intent] = (await f.intents()).filter((row) => row.platformOrderId === 'U-4');
    expect(intent).toMatchObject({
      status: 'applied',
      appliedQuantity: 3,
      operationKey: 'ol:shopify:us:U-4:9',
    });
  });
});
