import { describe, expect, it } from 'vitest';
import {
  DETAIL_COLUMNS,
  detailRow,
  LINE_COLUMNS,
  lineRows,
  ORDER_COLUMNS,
  orderFromRows,
  orderRow,
} from '../../src/core/order-rows.js';
import { generateOrders } from '../helpers/order-generator.js';

describe('row mapping', () => {
  const [order] = generateOrders({ seed: 7, count: 1 });

  it('maps money to integer minor units and times to DATETIME(3) text', () => {
    const row = orderRow(order!, '42', '2026-02-03T04:05:06.789Z');
    const named = Object.fromEntries(ORDER_COLUMNS.map((column, index) => [column, row[index]]));
    expect(named.id).toBe('42');
    expect(named.total_amount).toBe(order!.totals.total);
    expect(named.line_count).toBe(order!.lines.length);
    expect(named.stored_at).toBe('2026-02-03 04:05:06.789');
    expect(named.updated_at).toBe(order!.updatedAt.replace('T', ' ').replace('Z', ''));
    expect(row).toHaveLength(ORDER_COLUMNS.length);
    expect(detailRow(order!, '42')).toHaveLength(DETAIL_COLUMNS.length);
  });

  it('gives every line the order version and its position', () => {
    const rows = lineRows(order!, '42');
    expect(rows).toHaveLength(order!.lines.length);
    rows.forEach((row, index) => {
      expect(row).toHaveLength(LINE_COLUMNS.length);
      expect(row[LINE_COLUMNS.indexOf('updated_at')]).toBe(
        order!.updatedAt.replace('T', ' ').replace('Z', ''),
      );
      expect(row[LINE_COLUMNS.indexOf('line_no')]).toBe(index);
    });
  });

  it('reads back exactly the order that was written, from rows shaped like mysql2 returns them', () => {
    for (const original of generateOrders({ seed: 3, count: 60 })) {
      const row: Record<string, unknown> = {};
      orderRow(original, '9007199254740993', '2026-05-01T00:00:00.000Z').forEach((value, index) => {
        row[ORDER_COLUMNS[index]!] = asMysql2(ORDER_COLUMNS[index]!, value);
      });
      detailRow(original, '9007199254740993').forEach((value, index) => {
        const column = DETAIL_COLUMNS[index]!;
        if (column !== 'order_id') row[`d_${column}`] = asMysql2(column, value);
      });
      const lines = lineRows(original, '9007199254740993')
        .reverse()
        .sort((a, b) => Number(a[3]) - Number(b[3]))
        .map((line) =>
          Object.fromEntries(
            line.map((value, index) => [LINE_COLUMNS[index]!, asMysql2(LINE_COLUMNS[index]!, value)]),
          ),
        );
      expect(orderFromRows(row, lines)).toEqual({
        ...original,
        id: '9007199254740993',
        storedAt: '2026-05-01T00:00:00.000Z',
      });
    }
  });

  it('reads an address with no fields as no address', () => {
    const original = { ...order!, shippingAddress: null };
    const row: Record<string, unknown> = {};
    orderRow(original, '1', original.updatedAt).forEach((value, index) => {
      row[ORDER_COLUMNS[index]!] = asMysql2(ORDER_COLUMNS[index]!, value);
    });
    detailRow(original, '1').forEach((value, index) => {
      row[`d_${DETAIL_COLUMNS[index]}`] = value;
    });
    expect(orderFromRows(row, []).shippingAddress).toBeNull();
  });
});

/** What mysql2 returns for a bound value with bigNumberStrings and dateStrings. */
function asMysql2(column: string, value: unknown): unknown {
  if (value === null) return null;
  const bigint = /amount$|^id$|^order_id$|^user_id$/.test(column);
  return bigint ? String(value) : value;
}
