import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { type OrderQuery, queryOrders } from '../../src/core/order-query.js';
import { buildShardStatement, type OrderListFilters } from '../../src/core/order-query-sql.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { referenceRouter } from '../helpers/order-fixtures.js';
import { type Fixture, setUpOrderFixture, tearDownOrderFixture } from '../helpers/order-query-fixture.js';

// Plans and row counts are checked on one fixed data set (order-query.test.ts varies the data).
const DATA_SEED = 1;

describe('queryOrders efficiency and failures', () => {
  let fixture: Fixture | undefined;
  beforeAll(async () => {
    fixture = await setUpOrderFixture(DATA_SEED, { databases: 2, tablesPerDatabase: 8, count: 2000 });
  });
  afterAll(async () => {
    await tearDownOrderFixture(fixture);
  });

  it('sends fewer rows once the held page bounds later tables, with the same answer', async () => {
    const f = fixture!;
    const deps = { pools: f.pools, router: f.router, concurrency: 1, subqueriesPerStatement: 1 };
    const query: OrderQuery = { limit: 50, order: 'desc' };
    const pruned = await queryOrders({ ...deps, prune: true }, query);
    const full = await queryOrders({ ...deps, prune: false }, query);
    expect(pruned.rows).toEqual(full.rows);
    const perTable = new Map<string, number>();
    for (const row of f.rows) {
      const key = ShardRouter.key(f.router.route(row.userId));
      perTable.set(key, (perTable.get(key) ?? 0) + 1);
    }
    // Without the bound every table sends its whole page (limit + 1 rows, or all it has).
    const unbounded = [...perTable.values()].reduce((sum, count) => sum + Math.min(count, 51), 0);
    expect(full.stats.rowsRead).toBe(unbounded);
    expect(pruned.stats.rowsRead).toBeLessThan(full.stats.rowsRead / 2);
  });

  it('returns the same pages with and without the pruning bound, at every page size', async () => {
    const f = fixture!;
    const deps = { pools: f.pools, router: f.router, concurrency: 1, subqueriesPerStatement: 1 };
    for (const order of ['asc', 'desc'] as const) {
      for (const limit of [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]) {
        const query: OrderQuery = { limit, order, statuses: ['paid', 'shipped'] };
        const pruned = await queryOrders({ ...deps, prune: true }, query);
        const full = await queryOrders({ ...deps, prune: false }, query);
        expect(pruned.rows, `${order} ${limit}`).toEqual(full.rows);
        expect(pruned.nextCursor, `${order} ${limit}`).toBe(full.nextCursor);
        const next = await queryOrders({ ...deps, prune: true }, { ...query, after: pruned.nextCursor! });
        const nextFull = await queryOrders({ ...deps, prune: false }, { ...query, after: full.nextCursor! });
        expect(next.rows, `${order} ${limit}, second page`).toEqual(nextFull.rows);
      }
    }
  });

  it('reads every filter shape as an ordered index range, never a filesort (EXPLAIN)', async () => {
    const f = fixture!;
    // The reference table holds all 2000 rows, enough for the optimizer to show its real plan.
    const ref = referenceRouter(f.config.mysql.databasePrefix);
    const byTime = [...f.rows].sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
    const [first, middle, late, last] = [byTime[0]!, byTime[1000]!, byTime[1500]!, byTime[1999]!];
    const shapes: OrderListFilters[] = [
      {},
      { statuses: ['paid', 'shipped'] },
      { platforms: ['ebay'] },
      { userId: middle.userId },
      { from: first.createdAt, to: last.createdAt, statuses: ['cancelled'] },
    ];
    for (const filters of shapes) {
      for (const order of ['asc', 'desc'] as const) {
        const [after, before] = order === 'asc' ? [middle, late] : [late, middle];
        const statement = buildShardStatement({
          router: ref,
          shards: [ref.location(0, 0)],
          filters,
          order,
          after,
          before,
          limit: 101,
        });
        const [plan] = await f.refPools
          .forDatabase(0)
          .query<RowDataPacket[]>(`EXPLAIN ${statement.sql}`, statement.params);
        const tables = plan.filter((step) => step.table === 'orders_000');
        const context = `${order} ${JSON.stringify(filters)}: ${JSON.stringify(plan)}`;
        expect(tables.length, context).toBeGreaterThan(0);
        for (const step of tables) {
          expect(step.type, context).toBe('range');
          expect(String(step.key), context).toMatch(
            /^idx_(created|status_created|platform_created|user_created)$/,
          );
          expect(String(step.Extra ?? ''), context).not.toContain('filesort');
        }
      }
    }
  });

  it('reports missing shard tables as a configuration error with a hint', async () => {
    const f = fixture!;
    const router = new ShardRouter({
      databases: 2,
      tablesPerDatabase: 8,
      databasePrefix: `${f.config.mysql.databasePrefix}_none`,
    });
    const pools = new MysqlPools(f.config, router);
    try {
      await expect(queryOrders({ pools, router }, { limit: 10, order: 'asc' })).rejects.toMatchObject({
        code: 'TRADECTL_SHARDS_MISSING',
        kind: 'config',
        retriable: false,
      });
    } finally {
      await pools.close();
    }
  });

  it('returns an empty last page without a cursor when nothing matches', async () => {
    const f = fixture!;
    const page = await queryOrders(
      { pools: f.pools, router: f.router },
      { from: '2030-01-01T00:00:00.000Z', limit: 10, order: 'asc' },
    );
    expect(page).toMatchObject({ rows: [], nextCursor: null });
  });
});
