import { describe, expect, it } from 'vitest';
import {
  chunkSumsSql,
  hashedExpressions,
  rowHashesSql,
  tableStatsSql,
} from '../../src/core/migrate/checksum-sql.js';
import { ShardRouter } from '../../src/core/shard-router.js';

const router = new ShardRouter({ databases: 2, tablesPerDatabase: 4, databasePrefix: 'shop' });
const legacy = { kind: 'legacy', platform: 'legacy', account: 'main', precision: 0 } as const;

describe('verify statements', () => {
  it('hashes every column but stored_at on both layouts, and only round-trip columns for a legacy source', () => {
    const orders = hashedExpressions({ kind: 'full' }, 'orders')!;
    expect(orders).toContain('`updated_at`');
    expect(orders).not.toContain('`stored_at`');
    expect(hashedExpressions({ kind: 'full' }, 'lines')).toContain('`line_no`');
    expect(hashedExpressions(legacy, 'lines')).toBeNull();
    expect(hashedExpressions(legacy, 'orders')).toEqual([
      '`id`',
      '`user_id`',
      '`platform_order_id`',
      '`status`',
      '`currency`',
      '`total_amount`',
      "LEFT(DATE_FORMAT(`created_at`, '%Y-%m-%d %H:%i:%s.%f'), 19)",
      "LEFT(DATE_FORMAT(`updated_at`, '%Y-%m-%d %H:%i:%s.%f'), 19)",
    ]);
    expect(hashedExpressions({ ...legacy, precision: 3 }, 'orders')![6]).toContain(', 23)');
  });

  it('sums per chunk over a group of tables, keys bound as text and CAST', () => {
    const locations = [router.location(1, 2), router.location(1, 3)];
    const statement = chunkSumsSql(router, locations, { kind: 'full' }, { lo: 10n, hi: 99n, width: 30n });
    expect(statement.sql.match(/UNION ALL/g)).toHaveLength(5);
    expect(statement.sql).toMatch(/^SELECT kind, chunk, SUM\(n\) AS n, BIT_XOR\(h\) AS h FROM \(/);
    expect(statement.sql).toContain(
      "SELECT 'l' AS kind, (`order_id` - CAST(? AS UNSIGNED)) DIV CAST(? AS UNSIGNED) AS chunk",
    );
    expect(statement.sql).toContain(
      'FROM `shop_01`.`order_details_003` WHERE `order_id` BETWEEN CAST(? AS UNSIGNED) AND CAST(? AS UNSIGNED) GROUP BY chunk',
    );
    expect(statement.values).toEqual(Array.from({ length: 6 }, () => ['10', '30', '10', '99']).flat());
    const filtered = chunkSumsSql(router, locations, legacy, { lo: 1n, hi: 2n, width: 1n });
    expect(filtered.sql.match(/UNION ALL/g)).toHaveLength(1);
    expect(filtered.values).toEqual([
      '1',
      '1',
      '1',
      '2',
      'legacy',
      'main',
      '1',
      '1',
      '1',
      '2',
      'legacy',
      'main',
    ]);
  });

  it('hashes rows one by one, lines folded per order', () => {
    const location = router.location(0, 1);
    const orders = rowHashesSql(router, location, { kind: 'full' }, 'orders', { lo: 5n, hi: 6n })!;
    expect(orders.sql).toMatch(
      /^SELECT `id`, `user_id`, `updated_at`, 1 AS n, CAST\(CONV\(LEFT\(MD5\(CONCAT_WS\(',', QUOTE\(`id`\)/,
    );
    const lines = rowHashesSql(router, location, { kind: 'full' }, 'lines', { lo: 5n, hi: 6n })!;
    expect(lines.sql).toContain('FROM `shop_00`.`order_lines_001` WHERE `order_id` BETWEEN');
    expect(lines.sql).toMatch(/GROUP BY `order_id`$/);
    expect(rowHashesSql(router, location, legacy, 'details', { lo: 5n, hi: 6n })).toBeNull();
  });

  it('counts with the id range per table', () => {
    const statement = tableStatsSql(router, [router.location(0, 0)], legacy);
    expect(statement).toEqual({
      sql: 'SELECT COUNT(*) AS n, MIN(`id`) AS lo, MAX(`id`) AS hi FROM `shop_00`.`orders_000` WHERE 1 = 1 AND `platform` = ? AND `account` = ?',
      values: ['legacy', 'main'],
    });
  });
});
