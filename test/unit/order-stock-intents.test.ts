import { describe, expect, it } from 'vitest';
import { parseOrder, type UnifiedOrder } from '../../src/core/order.js';
import {
  activeLines,
  deductIntents,
  intentFromRow,
  intentOperationId,
  intentValues,
  releaseSelection,
} from '../../src/core/order-stock/intent-rows.js';
import {
  insertIntentsSql,
  insertReleasesSql,
  persistTargetsSql,
  selectDeductsSql,
  selectDueSql,
  writeOutcomesSql,
} from '../../src/core/order-stock/intent-sql.js';
import { stockIntentStatements } from '../../src/core/order-stock/intent-writes.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { deductAvailableArgs } from '../../src/core/stock/deduct-available.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { ID_PATTERN } from '../../src/core/stock/stock-validation.js';

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

  it('release selection keeps the active lines; a cancelled order keeps none', () => {
    expect(releaseSelection(order('paid', [{ id: 'a' }, { id: 'b', cancelled: true }]), '5')).toEqual({
      orderId: '5',
      keep: ['a'],
    });
    expect(releaseSelection(order('cancelled', [{ id: 'a' }]), '5')).toEqual({ orderId: '5', keep: [] });
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
    ];
    const values = intentValues(row!);
    expect(
      intentFromRow(Object.fromEntries(columns.map((column, index) => [column, values[index]]))),
    ).toEqual(row);
  });
});

describe('operation ids', () => {
  it('names the order line and the step, within the stock id pattern', () => {
    expect(intentOperationId('123', 'L-1', 'd')).toBe('ord:123:L-1:d');
    expect(intentOperationId('123', 'gid://shopify/LineItem/9', 'r')).toBe(
      'ord:123:gid://shopify/LineItem/9:r',
    );
    const long = intentOperationId('18446744073709551615', 'x'.repeat(64), 'ra');
    expect(long).toMatch(ID_PATTERN);
  });

  it('hashes line ids outside the pattern under another prefix, so no two lines share an id', () => {
    const spaced = intentOperationId('1', 'line 1', 'd');
    expect(spaced).toMatch(/^orh:1:[0-9a-f]{40}:d$/);
    expect(spaced).toMatch(ID_PATTERN);
    expect(intentOperationId('1', 'línea', 'd')).not.toBe(spaced);
    expect(intentOperationId('1', 'line 1', 'r')).not.toBe(spaced);
  });
});

describe('outbox statements', () => {
  it('inserts new intents with INSERT IGNORE (a line deducts at most once), leaving outcomes at their defaults', () => {
    const rows = deductIntents(order('paid', [{ id: 'a' }]), '99', times);
    const statement = insertIntentsSql(TABLE, rows);
    expect(statement.sql).toBe(
      'INSERT IGNORE INTO `tc_01`.`stock_intents` (`order_id`, `line_id`, `kind`, `platform`, `account`, ' +
        '`platform_order_id`, `channel_sku`, `listing_id`, `quantity`, `status`, `next_attempt_at`, ' +
        '`created_at`, `updated_at`) VALUES ?',
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
          '2026-03-01 10:00:30.000',
          '2026-03-01 10:00:00.000',
          '2026-03-01 10:00:00.000',
        ],
      ],
    ]);
  });

  it('copies releases from deduct intents, except the lines each order keeps', () => {
    const statement = insertReleasesSql(
      TABLE,
      [
        { orderId: '5', keep: ['a', 'b'] },
        { orderId: '6', keep: [] },
      ],
      times,
    );
    expect(statement.sql).toBe(
      'INSERT IGNORE INTO `tc_01`.`stock_intents` (`order_id`, `line_id`, `kind`, `platform`, `account`, ' +
        '`platform_order_id`, `channel_sku`, `listing_id`, `quantity`, `status`, `tenant`, `sku`, ' +
        '`applied_quantity`, `shortfall`, `attempts`, `last_error`, `next_attempt_at`, `created_at`, `updated_at`) ' +
        "SELECT `order_id`, `line_id`, 'release', `platform`, `account`, `platform_order_id`, `channel_sku`, " +
        "`listing_id`, `quantity`, 'pending', NULL, NULL, NULL, NULL, 0, NULL, ?, ?, ? FROM `tc_01`.`stock_intents` " +
        "WHERE `kind` = 'deduct' AND ((`order_id` = ? AND `line_id` NOT IN (?)) OR `order_id` = ?)",
    );
    expect(statement.values).toEqual([
      '2026-03-01 10:00:30.000',
      '2026-03-01 10:00:00.000',
      '2026-03-01 10:00:00.000',
      '5',
      ['a', 'b'],
      '6',
    ]);
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
    expect(both[1]!.values.slice(3)).toEqual(['2']);
    // A cancelled order moved forward deducts nothing; a new cancelled one writes nothing at all.
    expect(
      stockIntentStatements(router, 1, [{ id: '3', order: cancelled, outcome: 'inserted' }], {
        sweepAfterMs: 0,
        now: times.now,
        maxRows: 2000,
      }),
    ).toEqual([]);
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
