import { describe, expect, it } from 'vitest';
import { parseOrder } from '../../src/core/order.js';
import { deductIntents } from '../../src/core/order-stock/intent-rows.js';
import { intentOperationId, lineOperationKey } from '../../src/core/order-stock/operation-ids.js';
import { ID_PATTERN } from '../../src/core/stock/stock-validation.js';

// The Redis operation ids of order stock: what makes a line's deduction idempotent in Redis.
const times = { now: '2026-03-01T10:00:00.000Z', dueAt: '2026-03-01T10:00:30.000Z' };

function order(lineIds: string[]) {
  return parseOrder({
    platform: 'ebay',
    account: 'de',
    platformOrderId: '12-345',
    userId: '7',
    status: 'paid',
    rawStatus: 'paid',
    currency: 'EUR',
    totals: { subtotal: 100, total: 100 },
    createdAt: '2026-03-01T09:00:00.000Z',
    updatedAt: '2026-03-01T09:30:00.000Z',
    buyer: { platformBuyerId: null, name: null, email: null },
    lines: lineIds.map((lineId) => ({
      lineId,
      sku: 'SKU',
      listingId: null,
      quantity: 1,
      unitPrice: 10,
      total: 10,
      cancelled: false,
    })),
  });
}

describe('operation ids', () => {
  const line = { platform: 'ebay', account: 'de', platformOrderId: '12-345', lineId: 'L-1' };

  it('name the marketplace line, not the order id, within the stock id pattern', () => {
    expect(lineOperationKey(line)).toBe('ol:ebay:de:12-345:L-1');
    const [row] = deductIntents(order(['L-1']), '99', times);
    expect(row!.operationKey).toBe('ol:ebay:de:12-345:L-1');
    // The same line stored under another order id has the same operations.
    const [again] = deductIntents(order(['L-1']), '100', times);
    expect(intentOperationId(again!, 'd')).toBe(intentOperationId(row!, 'd'));
    expect(intentOperationId(row!, 'd')).toBe('ol:ebay:de:12-345:L-1:d');
    expect(intentOperationId(row!, 'ra')).toBe('ol:ebay:de:12-345:L-1:ra');
  });

  it('hash lines whose parts hold a colon or other characters, or are too long, under another prefix', () => {
    const hashed = [
      { ...line, lineId: 'gid://shopify/LineItem/9' },
      { ...line, platformOrderId: 'a:b', lineId: 'c' },
      { ...line, platformOrderId: 'a', lineId: 'b:c' },
      { ...line, lineId: 'line 1' },
      { ...line, account: 'x'.repeat(64), platformOrderId: 'y'.repeat(64) },
    ].map(lineOperationKey);
    for (const key of hashed) {
      expect(key).toMatch(/^olh:[0-9a-f]{40}$/);
      expect(`${key}:ra`).toMatch(ID_PATTERN);
    }
    // Parts that would read alike once joined stay apart.
    expect(new Set(hashed).size).toBe(hashed.length);
    const longest = lineOperationKey({
      ...line,
      account: 'x'.repeat(40),
      platformOrderId: 'y'.repeat(40),
      lineId: 'z'.repeat(24),
    });
    expect(`${longest}:ra`).toMatch(ID_PATTERN);
  });

  it('intents written before operation keys keep the order-id operations they were deducted under', () => {
    const legacy = (lineId: string) => ({ orderId: '123', lineId, operationKey: null });
    expect(intentOperationId(legacy('L-1'), 'd')).toBe('ord:123:L-1:d');
    expect(intentOperationId(legacy('gid://shopify/LineItem/9'), 'r')).toBe(
      'ord:123:gid://shopify/LineItem/9:r',
    );
    expect(intentOperationId({ ...legacy('x'.repeat(64)), orderId: '18446744073709551615' }, 'ra')).toMatch(
      ID_PATTERN,
    );
    const spaced = intentOperationId({ ...legacy('line 1'), orderId: '1' }, 'd');
    expect(spaced).toMatch(/^orh:1:[0-9a-f]{40}:d$/);
    expect(spaced).toMatch(ID_PATTERN);
    expect(intentOperationId({ ...legacy('línea'), orderId: '1' }, 'd')).not.toBe(spaced);
    expect(intentOperationId({ ...legacy('line 1'), orderId: '1' }, 'r')).not.toBe(spaced);
  });
});
