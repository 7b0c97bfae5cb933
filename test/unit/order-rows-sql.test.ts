import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { ORDER_COLUMNS, ORDER_KEY_COLUMNS, orderRow } from '../../src/core/order-rows.js';
import {
  deleteStaleLinesSql,
  hadDuplicates,
  multiRowInsert,
  parseInsertInfo,
  readBackSql,
  type SqlStatement,
  selectLinesSql,
  selectOrderSql,
  versionedUpsert,
} from '../../src/core/order-store-sql.js';
import { generateOrders } from '../helpers/order-generator.js';

const ORDERS = '`t_00`.`orders_003`';
const DETAILS = '`t_00`.`order_details_003`';
const LINES = '`t_00`.`order_lines_003`';

/** The statement as the driver sends it: every value escaped into the text. */
function bound(statement: SqlStatement): string {
  return mysql.format(statement.sql, statement.values as Parameters<typeof mysql.format>[1]);
}

describe('versionedUpsert', () => {
  const rows = [
    ['1', 'a', '2026-01-01 00:00:00.000', 'x'],
    ['2', 'b', '2026-01-02 00:00:00.000', 'y'],
  ];
  const statement = versionedUpsert(ORDERS, ['id', 'k', 'updated_at', 'v'], ['id', 'k'], rows);

  it('sends one multi-row statement with every value bound', () => {
    expect(statement.sql).toMatch(
      /^INSERT INTO `t_00`\.`orders_003` \(`id`, `k`, `updated_at`, `v`\) VALUES \? ON DUPLICATE KEY UPDATE /,
    );
    expect(statement.values).toEqual([rows]);
    expect(statement.sql.match(/\?/g)).toHaveLength(1);
  });

  it('lets the driver escape every value into the rows', () => {
    const hostile = [['3', "x'); DROP TABLE t; --", '2026-01-03 00:00:00.000', null]];
    const sql = bound(versionedUpsert(ORDERS, ['id', 'k', 'updated_at', 'v'], ['id', 'k'], hostile));
    expect(sql).toContain(
      "VALUES ('3', 'x\\'); DROP TABLE t; --', '2026-01-03 00:00:00.000', NULL) ON DUPLICATE",
    );
    const twoRows = bound(statement);
    expect(twoRows).toContain(
      "VALUES ('1', 'a', '2026-01-01 00:00:00.000', 'x'), ('2', 'b', '2026-01-02 00:00:00.000', 'y') ON",
    );
  });

  it('applies non-key columns only when the incoming version is not older', () => {
    expect(statement.sql).toContain('`v` = IF(VALUES(`updated_at`) >= `updated_at`, VALUES(`v`), `v`)');
  });

  it('never assigns key columns', () => {
    const update = statement.sql.split('ON DUPLICATE KEY UPDATE')[1]!;
    expect(update).not.toMatch(/`id` =|`k` =/);
  });

  it('assigns updated_at last so every condition reads the stored version', () => {
    const update = statement.sql.split('ON DUPLICATE KEY UPDATE')[1]!.trim();
    expect(update.endsWith('`updated_at` = GREATEST(`updated_at`, VALUES(`updated_at`))')).toBe(true);
    expect(update.match(/`updated_at` =/g)).toHaveLength(1);
  });

  it('assigns every non-key column of the real tables', () => {
    const order = generateOrders({ seed: 1, count: 1 })[0]!;
    const upsert = versionedUpsert(ORDERS, ORDER_COLUMNS, ORDER_KEY_COLUMNS, [
      orderRow(order, '7', order.updatedAt),
    ]);
    const assigned = [...upsert.sql.split('ON DUPLICATE KEY UPDATE')[1]!.matchAll(/`(\w+)` = /g)].map(
      (m) => m[1],
    );
    expect(assigned).toEqual([
      ...ORDER_COLUMNS.filter(
        (c) => c !== 'updated_at' && !(ORDER_KEY_COLUMNS as readonly string[]).includes(c),
      ),
      'updated_at',
    ]);
  });

  it('refuses an empty batch instead of sending invalid SQL', () => {
    expect(() => versionedUpsert(ORDERS, ['id', 'updated_at'], ['id'], [])).toThrow(RangeError);
    expect(() => multiRowInsert(ORDERS, ['id'], [])).toThrow(RangeError);
  });
});

describe('statements around the upsert', () => {
  it('reads back id, stored version and the previous version of each key in one statement', () => {
    const statement = readBackSql(ORDERS, DETAILS, [
      { platform: 'ebay', account: 'a', platformOrderId: '1' },
      { platform: 'amazon', account: 'b', platformOrderId: '2' },
    ]);
    expect(statement.sql).toContain(
      `FROM ${ORDERS} AS o LEFT JOIN ${DETAILS} AS d ON d.\`order_id\` = o.\`id\``,
    );
    expect(statement.sql).toMatch(/IN \(\?\)$/);
    expect(statement.sql).toContain('d.`updated_at` AS `previous_version`');
    expect(bound(statement)).toMatch(/IN \(\('ebay', 'a', '1'\), \('amazon', 'b', '2'\)\)$/);
  });

  it('deletes only lines older than their order version, for the given orders', () => {
    const statement = deleteStaleLinesSql(LINES, [
      { id: '10', version: '2026-01-02T03:04:05.678Z' },
      { id: '11', version: '2026-01-03T00:00:00.000Z' },
    ]);
    expect(statement.sql).toBe(
      `DELETE FROM ${LINES} WHERE (\`order_id\` = ? AND \`updated_at\` < ?) OR (\`order_id\` = ? AND \`updated_at\` < ?)`,
    );
    expect(statement.values).toEqual(['10', '2026-01-02 03:04:05.678', '11', '2026-01-03 00:00:00.000']);
    expect(() => deleteStaleLinesSql(LINES, [])).toThrow(RangeError);
  });

  it('writes the locator with INSERT IGNORE', () => {
    const statement = multiRowInsert(
      '`m`.`order_locator`',
      ['order_id', 'user_id'],
      [
        ['1', '2'],
        ['3', '4'],
      ],
      {
        ignore: true,
      },
    );
    expect(bound(statement)).toBe(
      "INSERT IGNORE INTO `m`.`order_locator` (`order_id`, `user_id`) VALUES ('1', '2'), ('3', '4')",
    );
  });

  it('selects one order by id or by platform key, and its lines in platform order', () => {
    expect(selectOrderSql(ORDERS, DETAILS, { id: '5' })).toMatchObject({ values: ['5'] });
    const byKey = selectOrderSql(ORDERS, DETAILS, { platform: 'etsy', account: 'a', platformOrderId: 'x' });
    expect(byKey.sql).toMatch(
      /WHERE o\.`platform` = \? AND o\.`account` = \? AND o\.`platform_order_id` = \?$/,
    );
    expect(byKey.values).toEqual(['etsy', 'a', 'x']);
    expect(selectLinesSql(LINES, '5').sql).toMatch(/ORDER BY `line_no`, `line_id`$/);
  });
});

describe('parseInsertInfo', () => {
  it('reads the record and duplicate counts of a multi-row INSERT, whatever the message language', () => {
    expect(parseInsertInfo('Records: 3  Duplicates: 0  Warnings: 0')).toEqual({ records: 3, duplicates: 0 });
    expect(parseInsertInfo('Datensätze: 5  Duplikate: 2  Warnungen: 0')).toEqual({
      records: 5,
      duplicates: 2,
    });
  });

  it('knows nothing from a single-row INSERT or an unexpected message', () => {
    expect(parseInsertInfo('')).toBeNull();
    expect(parseInsertInfo(undefined)).toBeNull();
    expect(parseInsertInfo('Records: 3')).toBeNull();
  });
});

describe('hadDuplicates', () => {
  const header = (insertId: number | string, affectedRows: number, info = '') => ({
    insertId,
    affectedRows,
    info,
  });

  it('is false only when the server says every row was new', () => {
    expect(hadDuplicates(header(0, 1), 1)).toBe(false);
    expect(hadDuplicates(header(0, 3, 'Records: 3  Duplicates: 0  Warnings: 0'), 3)).toBe(false);
  });

  it('is true when an existing row reported its id, or the count shows duplicates', () => {
    expect(hadDuplicates(header('9007199254740993', 1), 1)).toBe(true);
    expect(hadDuplicates(header(0, 2), 1)).toBe(true);
    expect(hadDuplicates(header(0, 4, 'Records: 3  Duplicates: 1  Warnings: 0'), 3)).toBe(true);
  });

  it('is true when the answer cannot be read, so the store reads back', () => {
    expect(hadDuplicates(header(0, 3, ''), 3)).toBe(true);
    expect(hadDuplicates(header(0, 2, 'Records: 2  Duplicates: 0  Warnings: 0'), 3)).toBe(true);
  });
});

describe('versionedUpsert reporting duplicate ids', () => {
  it('assigns id = LAST_INSERT_ID(id) first, before any versioned column', () => {
    const statement = versionedUpsert(
      ORDERS,
      ['id', 'k', 'updated_at', 'v'],
      ['id', 'k'],
      [['1', 'a', 't', 'x']],
      {
        reportDuplicateId: 'id',
      },
    );
    expect(statement.sql).toContain('ON DUPLICATE KEY UPDATE `id` = LAST_INSERT_ID(`id`), `v` = IF(');
  });
});
