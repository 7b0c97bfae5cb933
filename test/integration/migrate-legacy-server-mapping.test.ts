import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import {
  type LegacyRow,
  type LegacySource,
  legacyRowToOrder,
} from '../../src/core/migrate/legacy-mapping.js';
import { createOrderStore } from '../../src/core/order-store.js';
import { migrateCli } from '../helpers/migrate-fixture.js';
import { counterIds } from '../helpers/order-generator.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

// The server-side copy (legacy-bulk.ts) maps legacy rows in SQL; the dual write, verify and repair
// map them with legacyRowToOrder. Here the rows the SQL is most likely to get wrong: times with
// microseconds (cut to milliseconds, never rounded, also across a second's end), a NULL
// updated_at (created_at stands in), wall time at +08:00, odd statuses, a NULL product id.

let fixture: StoreFixture;
let cli: Awaited<ReturnType<typeof migrateCli>>;
let schema: string;

const LEGACY_DDL = (table: string) => `CREATE TABLE ${table} (
  id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, product_id BIGINT NULL, quantity INT NOT NULL,
  amount DECIMAL(10,2) NOT NULL, status VARCHAR(20) NOT NULL,
  created_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NULL
) ENGINE=InnoDB`;

const ROWS: Record<string, unknown>[] = [
  {
    id: 1,
    created_at: '2024-03-01 08:00:00.123999',
    updated_at: '2024-03-01 09:00:00.999999',
    status: 'paid',
  },
  { id: 2, created_at: '2024-03-01 08:00:59.999500', updated_at: null, status: ' PAID ' },
  {
    id: 3,
    created_at: '2024-01-01 07:59:59.000001',
    updated_at: '2024-01-01 07:59:59.000999',
    status: 'on_hold',
  },
  { id: 4, created_at: '2024-06-30 23:59:59.999999', updated_at: '2024-07-01 00:00:00', status: 'refunded' },
  { id: 5, created_at: '2024-02-29 12:00:00', updated_at: null, status: '', product_id: null },
];

const source = (): LegacySource => ({
  schema,
  table: 'orders',
  platform: 'shopify',
  account: 'legacy-shop',
  currency: 'USD',
  utcOffsetMinutes: 480,
  hasUpdatedAt: true,
  timePrecision: 3,
  amountScale: 2,
  highKey: String(ROWS.length),
});

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 2, tablesPerDatabase: 4 });
  schema = `${fixture.config.mysql.databasePrefix}_legacy`;
  const pool = fixture.pools.meta();
  await pool.query(`CREATE DATABASE \`${schema}\``);
  await pool.query(LEGACY_DDL(`\`${schema}\`.orders`));
  await insertLegacy(`\`${schema}\`.orders`, ROWS);
  await pool.query(`CREATE TABLE \`${schema}\`.refused LIKE \`${schema}\`.orders`);
  // Row 3's quantity is refused by the mapping, and the stage's unsigned column fails on it too.
  await insertLegacy(`\`${schema}\`.refused`, [ROWS[0]!, ROWS[1]!, { ...ROWS[2]!, quantity: -2 }]);
  cli = await migrateCli(fixture.config);
}, 120_000);

async function insertLegacy(table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (const row of rows) {
    await fixture.pools
      .meta()
      .query(
        `INSERT INTO ${table} (id, user_id, product_id, quantity, amount, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          row.id,
          1000 + Number(row.id) * 37,
          'product_id' in row ? row.product_id : 900 + Number(row.id),
          row.quantity ?? Number(row.id),
          `${Number(row.id) * 3}.07`,
          row.status,
          row.created_at,
          row.updated_at,
        ],
      );
  }
}

afterAll(async () => {
  await cli?.cleanup();
  await fixture?.close();
});

const plan = (table: string) =>
  cli.run(
    'migrate-shards',
    'plan',
    '--from-legacy',
    `${schema}.${table}`,
    '--legacy-platform',
    'shopify',
    '--legacy-account',
    'legacy-shop',
    '--legacy-utc-offset',
    '+08:00',
    '--throttle',
    '0',
    '--json',
  );

describe('the server-side legacy copy maps rows as legacyRowToOrder does', () => {
  it('stops at a refused row naming its id and field, before any error of the SQL it broke', async () => {
    expect((await plan('refused')).code).toBe(EXIT.ok);
    expect((await cli.run('migrate-shards', 'start')).code).toBe(EXIT.ok);
    for (let attempt = 0; attempt < 3; attempt++) {
      const backfill = await cli.run('migrate-shards', 'backfill', '--settle', '0', '--json');
      expect(backfill.code).not.toBe(EXIT.ok);
      expect(backfill.stderr).toContain('refused[id=3].quantity');
      expect(backfill.stderr).not.toContain('Out of range');
    }
    const status = JSON.parse((await cli.run('migrate-shards', 'status', '--json')).stdout);
    expect(status.migration).toMatchObject({ phase: 'started', copiedRows: 0, checkpoint: null });
    expect((await cli.run('migrate-shards', 'abort')).code).toBe(EXIT.ok);
  });

  it('stores every edge row exactly as the client-side mapping would, and verify agrees', async () => {
    const planned = await plan('orders');
    expect(planned.code, planned.stderr).toBe(EXIT.ok);
    expect((await cli.run('migrate-shards', 'start')).code).toBe(EXIT.ok);
    const backfill = await cli.run('migrate-shards', 'backfill', '--settle', '0', '--json');
    expect(backfill.code, backfill.stderr).toBe(EXIT.ok);
    expect(JSON.parse(backfill.stdout)).toMatchObject({
      completed: true,
      serverCopy: true,
      copiedTotal: ROWS.length,
    });

    const store = createOrderStore({
      pools: fixture.pools,
      router: fixture.router,
      nextId: counterIds(10n ** 12n),
    });
    const [legacyRows] = await fixture.pools
      .meta()
      .query<RowDataPacket[]>(`SELECT * FROM \`${schema}\`.orders ORDER BY id`);
    expect(legacyRows).toHaveLength(ROWS.length);
    for (const row of legacyRows) {
      const { order: expected } = legacyRowToOrder(row as unknown as LegacyRow, source());
      const stored = await store.getById(String(row.id));
      expect(stored, `legacy id ${row.id}`).toMatchObject({
        createdAt: expected.createdAt,
        updatedAt: expected.updatedAt,
        status: expected.status,
        rawStatus: expected.rawStatus,
        statusUnknown: expected.statusUnknown,
        refundState: expected.refundState,
        totals: expected.totals,
        lines: expected.lines.map(({ sku, quantity, unitPrice, total }) => ({
          sku,
          quantity,
          unitPrice,
          total,
        })),
      });
    }
    // Spot checks of the mapping itself, so both sides cannot be wrong the same way.
    const byId = async (id: number) => (await store.getById(String(id)))!;
    expect((await byId(1)).createdAt).toBe('2024-03-01T00:00:00.123Z');
    expect((await byId(1)).updatedAt).toBe('2024-03-01T01:00:00.999Z');
    expect((await byId(2)).updatedAt).toBe('2024-03-01T00:00:59.999Z');
    expect((await byId(4)).createdAt).toBe('2024-06-30T15:59:59.999Z');
    expect((await byId(5)).lines[0]!.sku).toBeNull();

    const verified = await cli.run('migrate-shards', 'verify', '--json');
    expect(verified.code, verified.stdout).toBe(EXIT.ok);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      ok: true,
      sourceRows: ROWS.length,
      targetRows: ROWS.length,
    });
  });
});
