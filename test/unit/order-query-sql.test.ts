import { describe, expect, it } from 'vitest';
import { buildShardStatement, type ShardStatementInput } from '../../src/core/order-query-sql.js';
import { ShardRouter } from '../../src/core/shard-router.js';

const router = new ShardRouter({ databases: 4, tablesPerDatabase: 8, databasePrefix: 'tq' });
const shards = [router.location(0, 0), router.location(0, 7), router.location(3, 2)];

function build(overrides: Partial<ShardStatementInput> = {}) {
  return buildShardStatement({ router, shards, filters: {}, order: 'asc', limit: 101, ...overrides });
}

function placeholders(sql: string): number {
  return sql.split('?').length - 1;
}

describe('buildShardStatement', () => {
  it('reads each table through one sub-select named by the router, with the page limit pushed down', () => {
    const { sql, params, streams } = build();
    expect(streams).toBe(3);
    const tables = [...sql.matchAll(/FROM (\S+)/g)].map((match) => match[1]);
    expect(tables).toEqual(shards.map((shard) => router.qualifiedTable(shard, 'orders')));
    expect(sql.match(/ORDER BY created_at ASC, id ASC LIMIT \?\)/g)).toHaveLength(3);
    expect(sql.split('\nUNION ALL\n')).toHaveLength(3);
    // stream number, then the limit, per sub-select
    expect(params).toEqual([0, 101, 1, 101, 2, 101]);
  });

  it('binds every value: no filter value appears in the SQL text', () => {
    const hostile = "paid' OR '1'='1";
    const { sql, params } = build({
      filters: {
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-02-01T00:00:00.000Z',
        statuses: [hostile as never, 'shipped'],
        platforms: ['ebay', 'amazon'],
      },
      after: { createdAt: '2026-01-05T10:00:00.123Z', id: '18446744073709551615' },
      before: { createdAt: '2026-01-20T00:00:00.000Z', id: '12345678901234567890' },
    });
    expect(placeholders(sql)).toBe(params.length);
    for (const text of [hostile, 'shipped', 'ebay', 'amazon', '2026', '18446744073709551615', '1234567890']) {
      expect(sql).not.toContain(text);
    }
    expect(params).toContain(hostile);
    expect(params).toContain('2026-01-05 10:00:00.123');
    expect(params).toContain('18446744073709551615');
  });

  it('writes the keyset as an OR a MariaDB index range can use, not a row constructor', () => {
    const { sql, params } = build({
      shards: [shards[0]!],
      after: { createdAt: '2026-01-05T10:00:00.123Z', id: '77' },
    });
    expect(sql).not.toMatch(/\(\s*created_at\s*,\s*id\s*\)\s*[<>]/);
    expect(sql).toContain(
      'created_at >= ? AND (created_at > ? OR (created_at = ? AND id > CAST(? AS UNSIGNED)))',
    );
    expect(params).toEqual([
      0,
      '2026-01-05 10:00:00.123',
      '2026-01-05 10:00:00.123',
      '2026-01-05 10:00:00.123',
      '77',
      101,
    ]);
  });

  it('turns every comparison round for descending order', () => {
    const { sql } = build({
      shards: [shards[0]!],
      order: 'desc',
      after: { createdAt: '2026-01-05T10:00:00.000Z', id: '77' },
      before: { createdAt: '2026-01-01T00:00:00.000Z', id: '5' },
    });
    expect(sql).toContain(
      'created_at <= ? AND (created_at < ? OR (created_at = ? AND id < CAST(? AS UNSIGNED)))',
    );
    expect(sql).toContain(
      'created_at >= ? AND (created_at > ? OR (created_at = ? AND id > CAST(? AS UNSIGNED)))',
    );
    expect(sql).toContain('ORDER BY created_at DESC, id DESC LIMIT ?');
  });

  it('splits several statuses into one ordered stream per table and status, platforms as a filter', () => {
    const { sql, params, streams } = build({
      filters: { statuses: ['paid', 'shipped', 'paid'], platforms: ['ebay'] },
    });
    expect(streams).toBe(shards.length * 2);
    expect(sql.match(/status = \?/g)).toHaveLength(6);
    expect(sql.match(/platform IN \(\?\)/g)).toHaveLength(6);
    expect(sql).not.toContain('status IN');
    const streamNumbers = params.filter((_, index) => index % 4 === 0);
    expect(streamNumbers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(params.slice(0, 4)).toEqual([0, 'paid', 'ebay', 101]);
  });

  it('splits by platform when no status is given', () => {
    const { sql, streams } = build({ filters: { platforms: ['ebay', 'amazon', 'etsy'] } });
    expect(streams).toBe(9);
    expect(sql.match(/platform = \?/g)).toHaveLength(9);
  });

  it('does not split one user, whose (user_id, created_at, id) index is already in order', () => {
    const { sql, params, streams } = build({
      shards: [router.route('123456789012')],
      filters: { userId: '123456789012', statuses: ['paid', 'shipped'] },
    });
    expect(streams).toBe(1);
    expect(sql).toContain('user_id = CAST(? AS UNSIGNED) AND status IN (?, ?)');
    expect(params).toEqual([0, '123456789012', 'paid', 'shipped', 101]);
  });

  it('uses from as inclusive and to as exclusive bounds on created_at', () => {
    const { sql, params } = build({
      shards: [shards[0]!],
      filters: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' },
    });
    expect(sql).toContain('WHERE created_at >= ? AND created_at < ?');
    expect(params).toEqual([0, '2026-01-01 00:00:00.000', '2026-01-02 00:00:00.000', 101]);
  });

  it('refuses an empty shard list and a bad limit', () => {
    expect(() => build({ shards: [] })).toThrow(RangeError);
    expect(() => build({ limit: 0 })).toThrow(RangeError);
  });
});
