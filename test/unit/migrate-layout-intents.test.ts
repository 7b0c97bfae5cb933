import { describe, expect, it } from 'vitest';
import { copyIntentsSql } from '../../src/core/migrate/layout-intents.js';
import type { IntentRow } from '../../src/core/order-stock/intent-rows.js';

const row: IntentRow = {
  orderId: '42',
  lineId: '1',
  kind: 'deduct',
  platform: 'shopify',
  account: 'us',
  platformOrderId: 'A-1',
  channelSku: 'S-MUG',
  listingId: null,
  quantity: 2,
  status: 'applied',
  tenant: 'default',
  sku: 'MUG',
  appliedQuantity: 2,
  shortfall: 0,
  attempts: 1,
  lastError: null,
  nextAttemptAt: '2026-03-01T10:00:01.000Z',
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:02.000Z',
  operationKey: 'k',
};

describe('copyIntentsSql', () => {
  const { sql, values } = copyIntentsSql('`db_00`.`stock_intents`', [row]);
  const assignments = sql.split('ON DUPLICATE KEY UPDATE ')[1]!.split(/, (?=`\w+` = IF\()/);
  const assigned = assignments.map((part) => /^`(\w+)`/.exec(part)![1]);

  it('copies every column of the row, as it is', () => {
    expect(sql).toMatch(/^INSERT INTO `db_00`.`stock_intents` \(`order_id`, .*`operation_key`\) VALUES \?/);
    expect(values).toEqual([
      [
        [
          '42',
          '1',
          'deduct',
          'shopify',
          'us',
          'A-1',
          'S-MUG',
          null,
          2,
          'applied',
          'default',
          'MUG',
          2,
          0,
          1,
          null,
          '2026-03-01 10:00:01.000',
          '2026-03-01 10:00:00.000',
          '2026-03-01 10:00:02.000',
          'k',
        ],
      ],
    ]);
  });

  it('never assigns the keys, and assigns the columns its condition reads last', () => {
    for (const key of ['order_id', 'line_id', 'kind', 'platform', 'account', 'platform_order_id'])
      expect(assigned).not.toContain(key);
    expect(assigned.slice(-2)).toEqual(['updated_at', 'status']);
    expect(assigned).toHaveLength(14);
  });

  it('changes only a pending row, to a final one or one not older', () => {
    for (const part of assignments) {
      expect(part).toContain(
        "IF(`status` = 'pending' AND (VALUES(`status`) <> 'pending' OR VALUES(`updated_at`) >= `updated_at`)",
      );
    }
  });

  it('refuses an empty copy', () => {
    expect(() => copyIntentsSql('t', [])).toThrow(RangeError);
  });
});
