import { describe, expect, it } from 'vitest';
import { parseOrder, type UnifiedOrder } from '../../src/core/order.js';
import {
  activeLines,
  deductIntents,
  intentFromRow,
  intentValues,
  releaseSelection,
} from '../../src/core/order-stock/intent-rows.js';
import {
  finishFullDeductsSql,
  insertIntentsSql,
  insertReleasesSql,
  persistTargetsSql,
  selectDeductsSql,
  selectDueSql,
  selectPendingOfOrdersSql,
  writeOutcomesSql,
} from '../../src/core/order-stock/intent-sql.js';
import { resolveLineTargets, stockIntentStatements } from '../../src/core/order-stock/intent-writes.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { deductAvailableArgs } from '../../src/core/stock/deduct-available.js';
import { tenantKeys } from '../../src/core/stock/keys.js';

const router = new ShardRouter({ databases: 2, tablesPerDatabase: 4, databasePrefix: 'tc' });
const TABLE = '`tc_01`.`stock_intents`';
const times = { now: '2026-03-01T10:00:00.000Z', dueAt: '2026-03-01T10:00:30.000Z' };

function order(status: UnifiedOrder['status'], lines: { id: string; cancelled?: boolean }[]): UnifiedOrder {
  return parseOrder({
    platform: 'ebay',
    account: 'de',
    platformOrderId: '12-345',
    userId: '7',
    status,
    rawStatus: status,
    currency: 'EUR',
    totals: { subtotal: 100, total: 100 },
    createdAt: '2026-03-01T09:00:00.000Z',
    updatedAt: '2026-03-01T09:30:00.000Z',
    buyer: { platformBuyerId: null, name: null, email: null },
    lines: lines.map((line, index) => ({
      lineId: line.id,
      sku: `SKU-${index}`,
      listingId: index === 0 ? '111' : null,
      quantity: index + 1,
      unitPrice: 10,
      total: 10 * (index + 1),
      cancelled: line.cancelled ?? false,
    })),
  });
}

describe('which lines an order version deducts and releases', () => {
  it.each([
    ['pending', 2],
    ['paid', 2],
    ['partially_shipped', 2],
    ['shipped', 2],
    ['delivered', 2],
    ['refunded', 2],
    ['cancelled', 0],
  ] as const)('a %s order has %i active lines of 3 (one line cancelled)', (status, count) => {
    const lines = activeLines(order(status, [{ id: 'a' }, { id: 'b', cancelled: true }, { id: 'c' }]));
    expect(lines).toHaveLength(count);
  });

  it('deduct intents: one pending row per active line, with the channel keys and the first sweep time', () => {
    const rows = deductIntents(
      order('paid', [{ id: 'a' }, { id: 'b', cancelled: true }, { id: 'c' }]),
      '99',
      times,
    );
    expect(rows.map((row) => [row.lineId, row.kind, row.channelSku, row.listingId, row.quantity])).toEqual([
      ['a', 'deduct', 'SKU-0', '111', 1],
      ['c', 'deduct', 'SKU-2', null, 3],
    ]);
    expect(rows[0]).toMatchObject({
      orderId: '99',
      platform: 'ebay',
      account: 'de',
      platformOrderId: '12-345',
      status: 'pending',
      tenant: null,
      attempts: 0,
      nextAttemptAt: times.dueAt,
      createdAt: times.now,
    });
  });

  it('release selection names the marketplace order and keeps the active lines; a cancelled order keeps none', () => {
    const ebay = { platform: 'ebay', account: 'de', platformOrderId: '12-345' };
    expect(releaseSelection(order('paid', [{ id: 'a' }, { id: 'b', cancelled: true }]))).toEqual({
      ...ebay,
      keep: ['a'],
    });
    expect(releaseSelection(order('cancelled', [{ id: 'a' }]))).toEqual({ ...ebay, keep: [] });
  });

  it('rows survive the trip through MySQL column values', () => {
    const [row] = deductIntents(order('paid', [{ id: 'a' }]), '18446744073709551615', times);
    const columns = [
      'order_id',
      'line_id',
      'kind',
      'platform',
      'account',
      'platform_order_id',
      'channel_sku',
      'listing_id',
      'quantity',
      'status',
      'tenant',
      'sku',
      'applied_quantity',
      'shortfall',
      'attempts',
      'last_error',
      'next_attempt_at',
      'created_at',
      'updated_at',
      'operation_key',
    ];
    const values = intentValues(row!);
    expect(
      intentFromRow(Object.fromEntries(columns.map((column, index) => [column, values[index]]))),
    ).toEqual(row);
  });
});

describe('outbox statements', () => {
  it('inserts new intents with INSERT IGNORE (a line deducts at most once), with their target, outcomes at their defaults', () => {
    const rows = deductIntents(order('paid', [{ id: 'a' }]), '99', times);
    const statement = insertIntentsSql(TABLE, rows);
    expect(statement.sql).toBe(
      'INSERT IGNORE INTO `tc_01`.`stock_intents` (`order_id`, `line_id`, `kind`, `platform`, `account`, ' +
        '`platform_order_id`, `channel_sku`, `listing_id`, `quantity`, `status`, `tenant`, `sku`, ' +
        '`next_attempt_at`, `created_at`, `updated_at`, `operation_key`) VALUES ?',
    );
    expect(statement.values).toEqual([
      [
        [
          '99',
          'a',
          'deduct',
          'ebay',
          'de',
          '12-345',
          'SKU-0',
          '111',
          1,
          'pending',
          null,
          null,
          '2026-03-01 10:00:30.000',
          '2026-03-01 10:00:00.000',
          '2026-03-01 10:00:00.000',
          'ol:ebay:de:12-345:a',
        ],
      ],
    ]);
  });

  it('copies releases from the deduct intents of each marketplace order (whatever id wrote them), except the lines it keeps', () => {
    const statement = insertReleasesSql(
      TABLE,
      [
        { platform: 'ebay', account: 'de', platformOrderId: '5', keep: ['a', 'b'] },
        { platform: 'ebay', account: 'de', platformOrderId: '6', keep: [] },
      ],
      times,
    );
    const order = '`platform` = ? AND `account` = ? AND `platform_order_id` = ?';
    expect(statement.sql).toBe(
      'INSERT IGNORE INTO `tc_01`.`stock_intents` (`order_id`, `line_id`, `kind`, `platform`, `account`, ' +
        '`platform_order_id`, `channel_sku`, `listing_id`, `quantity`, `status`, `tenant`, `sku`, ' +
        '`applied_quantity`, `shortfall`, `attempts`, `last_error`, `next_attempt_at`, `created_at`, `updated_at`, ' +
        '`operation_key`) ' +
        "SELECT `order_id`, `line_id`, 'release', `platform`, `account`, `platform_order_id`, `channel_sku`, " +
        "`listing_id`, `quantity`, 'pending', NULL, NULL, NULL, NULL, 0, NULL, ?, ?, ?, `operation_key` " +
        'FROM `tc_01`.`stock_intents` ' +
        `WHERE \`kind\` = 'deduct' AND ((${order} AND \`line_id\` NOT IN (?)) OR (${order}))`,
    );
    expect(statement.values).toEqual([
      '2026-03-01 10:00:30.000',
      '2026-03-01 10:00:00.000',
      '2026-03-01 10:00:00.000',
      'ebay',
      'de',
      '5',
      ['a', 'b'],
      'ebay',
      'de',
      '6',
    ]);
  });

  it('finds the pending intents of a batch by marketplace order', () => {
    const statement = selectPendingOfOrdersSql(TABLE, [
      { platform: 'ebay', account: 'de', platformOrderId: '5' },
    ]);
    expect(statement.sql).toMatch(
      /WHERE \(`platform`, `account`, `platform_order_id`\) IN \(\?\) AND `status` = 'pending'$/,
    );
    expect(statement.values).toEqual([[['ebay', 'de', '5']]]);
  });

  it('outcomes land only on pending rows whose target is the one they were computed for; status last', () => {
    const rows = deductIntents(order('paid', [{ id: 'a' }]), '99', times);
    const { sql } = writeOutcomesSql(TABLE, rows);
    const guard = "IF(`status` = 'pending' AND (`kind` = 'release' OR VALUES(`tenant`) <=> `tenant`)";
    expect(sql).toContain(
      `\`applied_quantity\` = ${guard}, VALUES(\`applied_quantity\`), \`applied_quantity\`)`,
    );
    expect(sql.indexOf('`tenant` = IF')).toBeLessThan(sql.indexOf('`status` = IF'));
    expect(sql.trimEnd().endsWith('VALUES(`status`), `status`)')).toBe(true);
    const persist = persistTargetsSql(TABLE, rows).sql;
    expect(persist).toContain("`sku` = IF(`tenant` IS NULL AND `status` = 'pending', VALUES(`sku`), `sku`)");
    expect(persist.trimEnd().endsWith('VALUES(`tenant`), `tenant`)')).toBe(true);
  });

  it('finishes full deducts of one tenant by their keys, under the same guard as any outcome', () => {
    const statement = finishFullDeductsSql(
      TABLE,
      'acme',
      [
        { orderId: '5', lineId: 'a' },
        { orderId: '6', lineId: 'b' },
      ],
      times.now,
    );
    expect(statement.sql).toBe(
      'UPDATE `tc_01`.`stock_intents` SET `applied_quantity` = `quantity`, `shortfall` = 0, `last_error` = NULL, ' +
        "`updated_at` = ?, `status` = 'applied' WHERE `kind` = 'deduct' AND `status` = 'pending' " +
        'AND `tenant` = ? AND (`order_id`, `line_id`) IN (?)',
    );
    expect(statement.values).toEqual([
      '2026-03-01 10:00:00.000',
      'acme',
      [
        ['5', 'a'],
        ['6', 'b'],
      ],
    ]);
    expect(() => finishFullDeductsSql(TABLE, 'acme', [], times.now)).toThrow(RangeError);
  });

  it('selects due rows oldest first, and deducts by line', () => {
    expect(selectDueSql(TABLE, times.now, 50)).toMatchObject({
      values: ['2026-03-01 10:00:00.000', 50],
    });
    expect(selectDueSql(TABLE, times.now, 50).sql).toMatch(
      /WHERE `status` = 'pending' AND `next_attempt_at` <= \? ORDER BY `next_attempt_at` LIMIT \?$/,
    );
    expect(selectDeductsSql(TABLE, [{ orderId: '5', lineId: 'a' }]).values).toEqual([[['5', 'a']]]);
  });

  it('a changed batch costs one statement for new orders and one more when orders moved forward', () => {
    const paid = order('paid', [{ id: 'a' }, { id: 'b' }]);
    const inserted = stockIntentStatements(router, 1, [{ id: '1', order: paid, outcome: 'inserted' }], {
      sweepAfterMs: 30_000,
      now: times.now,
      maxRows: 2000,
    });
    expect(inserted).toHaveLength(1);
    expect(inserted[0]!.sql).toContain(TABLE);
    const cancelled = order('cancelled', [{ id: 'a' }, { id: 'b' }]);
    const both = stockIntentStatements(
      router,
      1,
      [
        { id: '1', order: paid, outcome: 'inserted' },
        { id: '2', order: cancelled, outcome: 'updated' },
      ],
      { sweepAfterMs: 30_000, now: times.now, maxRows: 2000 },
    );
    expect(both.map((statement) => statement.sql.slice(0, 40))).toEqual([
      'INSERT IGNORE INTO `tc_01`.`stock_intent',
      'INSERT IGNORE INTO `tc_01`.`stock_intent',
    ]);
    expect(both[1]!.values.slice(3)).toEqual(['ebay', 'de', '12-345']);
    // A cancelled order moved forward deducts nothing; a new cancelled one writes nothing at all.
    expect(
      stockIntentStatements(router, 1, [{ id: '3', order: cancelled, outcome: 'inserted' }], {
        sweepAfterMs: 0,
        now: times.now,
        maxRows: 2000,
      }),
    ).toEqual([]);
  });

  it('writes the targets it is given by marketplace line, and leaves the rest unresolved', async () => {
    const paid = order('paid', [{ id: 'a' }, { id: 'b' }]);
    const targets = await resolveLineTargets(
      {
        sweepAfterMs: 30_000,
        resolveTargets: async (rows) =>
          rows.map((row) => (row.lineId === 'b' ? { ...row, tenant: 'acme', sku: 'MUG' } : row)),
      },
      [{ order: paid, proposedId: '77' }],
      times.now,
    );
    expect([...targets!]).toEqual([['ebay\u0000de\u000012-345\u0000b', { tenant: 'acme', sku: 'MUG' }]]);
    // The transaction stored the order under another id than proposed: the line key still matches.
    const [insert] = stockIntentStatements(router, 1, [{ id: '1', order: paid, outcome: 'inserted' }], {
      sweepAfterMs: 30_000,
      now: times.now,
      maxRows: 2000,
      targets,
    });
    const rows = insert!.values[0] as unknown[][];
    const column = (name: string) =>
      insert!.sql.split('(')[1]!.split(')')[0]!.split(', ').indexOf(`\`${name}\``);
    expect(rows.map((row) => [row[0], row[1], row[column('tenant')], row[column('sku')]])).toEqual([
      ['1', 'a', null, null],
      ['1', 'b', 'acme', 'MUG'],
    ]);
    expect(
      await resolveLineTargets({ sweepAfterMs: 1 }, [{ order: paid, proposedId: '77' }], times.now),
    ).toBe(undefined);
  });
});

describe('deduct-available script arguments', () => {
  it('record, stream, reservations, stock; ARGV in contract order with a fingerprint of its own', () => {
    const keys = tenantKeys('p:', 'acme');
    const call = deductAvailableArgs(keys, {
      now: 1_772_000_000_000,
      recordTtlMs: 1000,
      operationId: 'ord:1:a:d',
      sku: 'MUG',
      quantity: 3,
      sweepCheck: true,
    });
    expect(call.keys).toEqual([
      'p:stock:{t:acme}:op:ord:1:a:d',
      'p:stock:{t:acme}:stream',
      'p:stock:{t:acme}:reservations',
      'p:stock:{t:acme}:sku:MUG',
    ]);
    expect(call.args).toEqual([1_772_000_000_000, 'ord:1:a:d', 1000, 'max|MUG 3', '1', 'MUG', 3]);
  });
});
