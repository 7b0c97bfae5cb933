import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { ShardRouter } from '../../src/core/shard-router.js';

const seed = new ShardRouter({ databases: 16, tablesPerDatabase: 256, databasePrefix: 'tradectl' });
const MAX_BIGINT = 2n ** 63n - 1n;

describe('the seed rule, 16 databases x 256 tables', () => {
  // db = floor(u / 256) % 16, table = u % 256, worked by hand:
  it.each([
    ['0', 0, 0], // 0/256 = 0
    ['255', 0, 255], // 255/256 = 0; 255 % 256 = 255
    ['256', 1, 0], // 256/256 = 1
    ['1000', 3, 232], // 1000/256 = 3 (768); 1000 - 768 = 232
    ['4095', 15, 255], // 4095/256 = 15; 4095 - 3840 = 255
    ['4096', 0, 0], // 4096/256 = 16; 16 % 16 = 0
    ['65535', 15, 255], // 65535/256 = 255; 255 % 16 = 15; 65535 - 65280 = 255
    ['65536', 0, 0], // 65536/256 = 256; 256 % 16 = 0
    ['9223372036854775807', 15, 255], // 2^63-1: (2^55 - 1) % 16 = 15; (2^63 - 1) % 256 = 255
  ])('routes user %s to database %i, table %i', (userId, database, table) => {
    expect(seed.route(userId)).toMatchObject({ database, table });
  });

  it('names databases and tables with fixed-width indexes', () => {
    const location = seed.location(7, 3);
    expect(location).toEqual({ database: 7, table: 3, databaseName: 'tradectl_07', tableSuffix: '003' });
    expect(seed.qualifiedTable(location, 'orders')).toBe('`tradectl_07`.`orders_003`');
    expect(seed.qualifiedTable(location, 'order_lines')).toBe('`tradectl_07`.`order_lines_003`');
    expect(seed.qualifiedTable(seed.route('65535'), 'order_details')).toBe(
      '`tradectl_15`.`order_details_255`',
    );
    expect(seed.metaDatabaseName).toBe('tradectl_meta');
  });

  it('widens the names when the layout needs more digits', () => {
    const big = new ShardRouter({ databases: 1024, tablesPerDatabase: 4096, databasePrefix: 'big' });
    expect(big.location(7, 3)).toMatchObject({ databaseName: 'big_0007', tableSuffix: '0003' });
    const small = new ShardRouter({ databases: 1, tablesPerDatabase: 1, databasePrefix: 'one' });
    expect(small.route('123456789')).toEqual({
      database: 0,
      table: 0,
      databaseName: 'one_00',
      tableSuffix: '000',
    });
  });

  it('accepts numbers and bigints that route like their decimal strings', () => {
    expect(seed.route(65535)).toEqual(seed.route('65535'));
    expect(seed.route(65535n)).toEqual(seed.route('65535'));
  });
});

describe('totality', () => {
  const layout = fc.record({
    databases: fc.integer({ min: 1, max: 1024 }),
    tablesPerDatabase: fc.integer({ min: 1, max: 4096 }),
  });

  it('routes every user id up to 2^63-1 inside the layout, by the formula', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_BIGINT }),
        layout,
        (userId, { databases, tablesPerDatabase }) => {
          const router = new ShardRouter({ databases, tablesPerDatabase, databasePrefix: 'p' });
          const location = router.route(userId.toString());
          const tables = BigInt(tablesPerDatabase);
          expect(location.database).toBe(Number((userId / tables) % BigInt(databases)));
          expect(location.table).toBe(Number(userId % tables));
          expect(location.database).toBeGreaterThanOrEqual(0);
          expect(location.database).toBeLessThan(databases);
          expect(location.table).toBeGreaterThanOrEqual(0);
          expect(location.table).toBeLessThan(tablesPerDatabase);
          expect(router.route(userId)).toEqual(location);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('routes safe-integer numbers exactly like their decimal strings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (userId) => {
        expect(seed.route(userId)).toEqual(seed.route(String(userId)));
      }),
    );
  });

  it('lists every shard exactly once', () => {
    const router = new ShardRouter({ databases: 3, tablesPerDatabase: 5, databasePrefix: 'p' });
    const all = [...router.all()];
    expect(all).toHaveLength(router.shardCount);
    expect(new Set(all.map(ShardRouter.key)).size).toBe(15);
    expect(all[0]).toMatchObject({ database: 0, table: 0 });
    expect(all.at(-1)).toMatchObject({ database: 2, table: 4 });
    expect(seed.shardCount).toBe(4096);
  });
});

describe('invalid input', () => {
  it.each<[string | number | bigint]>([
    ['-1'],
    ['1.5'],
    ['abc'],
    [''],
    [' 1'],
    ['1e3'],
    ['0x10'],
    ['12345678901234567890'],
    [-1],
    [1.5],
    [Number.NaN],
    [2 ** 53],
    [-1n],
  ])('rejects the user id %s, naming userId', (userId) => {
    let caught: unknown;
    try {
      seed.route(userId);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).issues[0]!.path).toBe('userId');
    expect((caught as ValidationError).retriable).toBe(false);
  });

  it('rejects locations outside the layout', () => {
    expect(() => seed.location(16, 0)).toThrow(RangeError);
    expect(() => seed.location(0, 256)).toThrow(RangeError);
    expect(() => seed.location(-1, 0)).toThrow(RangeError);
  });

  it.each([
    [{ databases: 0, tablesPerDatabase: 256, databasePrefix: 'p' }],
    [{ databases: 16, tablesPerDatabase: 0, databasePrefix: 'p' }],
    [{ databases: 1.5, tablesPerDatabase: 256, databasePrefix: 'p' }],
    [{ databases: 16, tablesPerDatabase: 256, databasePrefix: 'Bad`Name' }],
    [{ databases: 16, tablesPerDatabase: 256, databasePrefix: '' }],
  ])('refuses the layout %j', (layout) => {
    expect(() => new ShardRouter(layout)).toThrow(RangeError);
  });
});
