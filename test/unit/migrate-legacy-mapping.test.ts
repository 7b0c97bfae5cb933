import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import {
  type LegacyRow,
  type LegacySource,
  legacyRowToOrder,
  legacyTuple,
  orderToLegacyRow,
  sqlQuote,
} from '../../src/core/migrate/legacy-mapping.js';

const source = (overrides: Partial<LegacySource> = {}): LegacySource => ({
  schema: 'shop',
  table: 'orders',
  platform: 'legacy',
  account: 'legacy',
  currency: 'USD',
  utcOffsetMinutes: 0,
  hasUpdatedAt: true,
  timePrecision: 0,
  amountScale: 2,
  highKey: '100',
  ...overrides,
});

const row = (overrides: Partial<LegacyRow> = {}): LegacyRow => ({
  id: '42',
  user_id: '1007',
  product_id: '555',
  quantity: 3,
  amount: '19.99',
  status: 'Paid',
  created_at: '2023-05-01 10:00:00',
  updated_at: '2023-05-02 11:00:00',
  ...overrides,
});

function issuesOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    if (error instanceof ValidationError)
      return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
}

describe('legacy row -> unified order', () => {
  it('keeps the id, maps money exactly to minor units and times to UTC, one line per row', () => {
    const { id, order } = legacyRowToOrder(row(), source());
    expect(id).toBe('42');
    expect(order).toMatchObject({
      platform: 'legacy',
      account: 'legacy',
      platformOrderId: '42',
      userId: '1007',
      status: 'paid',
      rawStatus: 'Paid',
      statusUnknown: false,
      currency: 'USD',
      totals: { subtotal: 1999, total: 1999, shipping: 0, tax: 0, discount: 0, refunded: 0 },
      createdAt: '2023-05-01T10:00:00.000Z',
      updatedAt: '2023-05-02T11:00:00.000Z',
    });
    expect(order.lines).toEqual([
      {
        lineId: '1',
        sku: '555',
        listingId: null,
        title: '',
        quantity: 3,
        quantityShipped: 0,
        unitPrice: 666,
        total: 1999,
        tax: 0,
        cancelled: false,
      },
    ]);
  });

  it('shifts wall-clock times by the configured offset and falls back to created_at without updated_at', () => {
    const shanghai = legacyRowToOrder(row(), source({ utcOffsetMinutes: 480 })).order;
    expect(shanghai.createdAt).toBe('2023-05-01T02:00:00.000Z');
    const noVersion = legacyRowToOrder(row({ updated_at: undefined }), source({ hasUpdatedAt: false })).order;
    expect(noVersion.updatedAt).toBe(noVersion.createdAt);
  });

  it.each([
    ['SHIPPED', 'shipped', false],
    ['completed', 'delivered', false],
    ['canceled', 'cancelled', false],
    ['refunded', 'refunded', false],
    ['on_hold', 'pending', true],
  ] as const)('maps status %s to %s (unknown: %s)', (raw, status, unknown) => {
    const { order } = legacyRowToOrder(row({ status: raw }), source());
    expect(order).toMatchObject({ status, rawStatus: raw, statusUnknown: unknown });
    if (status === 'shipped') expect(order.lines[0]!.quantityShipped).toBe(3);
    if (status === 'refunded') expect(order.refundState).toBe('full');
  });

  it('takes trailing zeros but never rounds: a JPY amount with yen fractions is an error', () => {
    expect(legacyRowToOrder(row({ amount: '1000.00' }), source({ currency: 'JPY' })).order.totals.total).toBe(
      1000,
    );
    expect(issuesOf(() => legacyRowToOrder(row({ amount: '1000.50' }), source({ currency: 'JPY' })))).toEqual(
      ['shop.orders[id=42].amount: "1000.50" has more than 0 decimal places for JPY'],
    );
  });

  it('names every bad field of a row', () => {
    const issues = issuesOf(() =>
      legacyRowToOrder(
        row({ user_id: '-3', quantity: 0, created_at: '0000-00-00 00:00:00', amount: 'n/a' }),
        source(),
      ),
    );
    expect(issues).toEqual([
      'shop.orders[id=42].user_id: expected a non-negative integer',
      'shop.orders[id=42].quantity: expected an integer of at least 1',
      'shop.orders[id=42].amount: "n/a" is not a decimal amount',
      'shop.orders[id=42].created_at: "0000-00-00 00:00:00" is not a valid date-time',
    ]);
    expect(issuesOf(() => legacyRowToOrder(row({ updated_at: '2023-04-01 00:00:00' }), source()))).toEqual([
      'shop.orders[id=42].updated_at: is before created_at',
    ]);
  });
});

describe('unified order -> legacy row (the dual write mirror)', () => {
  it('round-trips a legacy order through the mirror to the same compared tuple', () => {
    const item = legacyRowToOrder(row(), source());
    const mirrored = orderToLegacyRow(item, source());
    expect(mirrored).toEqual([
      '42',
      '1007',
      '555',
      3,
      '19.99',
      'paid',
      '2023-05-01 10:00:00',
      '2023-05-02 11:00:00',
    ]);
    const [id, user_id, product_id, quantity, amount, status, created_at, updated_at] = mirrored as string[];
    const back = legacyRowToOrder(
      {
        id: id!,
        user_id: user_id!,
        product_id: product_id!,
        quantity: quantity!,
        amount: amount!,
        status: status!,
        created_at: created_at!,
        updated_at: updated_at!,
      },
      source(),
    );
    expect(legacyTuple(back, 0)).toBe(legacyTuple(item, 0));
  });

  it('is lossy where the table cannot hold more, and says how', () => {
    const item = legacyRowToOrder(row(), source());
    const order = {
      ...item.order,
      currency: 'KWD',
      totals: { ...item.order.totals, total: 1234 },
      updatedAt: '2023-05-02T11:00:00.789Z',
      lines: [
        { ...item.order.lines[0]!, sku: 'MUG-RED', quantity: 2 },
        { ...item.order.lines[0]!, lineId: '2', quantity: 5 },
      ],
    };
    expect(orderToLegacyRow({ id: '42', order }, source({ utcOffsetMinutes: 60 }))).toEqual([
      '42',
      '1007',
      '0',
      7,
      '1.23',
      'paid',
      '2023-05-01 11:00:00',
      '2023-05-02 12:00:00',
    ]);
    expect(
      orderToLegacyRow({ id: '42', order }, source({ hasUpdatedAt: false, timePrecision: 3 })),
    ).toHaveLength(7);
    expect(
      orderToLegacyRow(
        { id: '42', order: { ...order, currency: 'JPY', totals: { ...order.totals, total: 1234 } } },
        source(),
      )[4],
    ).toBe('1234');
  });

  it("quotes like MySQL's QUOTE()", () => {
    expect(sqlQuote(null)).toBe('NULL');
    expect(sqlQuote(12)).toBe("'12'");
    expect(sqlQuote("O'Brien\\x\u0000\u001a")).toBe("'O\\'Brien\\\\x\\0\\Z'");
  });

  it('compares id, owner, key, status, currency, total and times at the table precision', () => {
    const item = legacyRowToOrder(row(), source());
    const withMs = { ...item, order: { ...item.order, updatedAt: '2023-05-02T11:00:00.789Z' } };
    expect(legacyTuple(withMs, 0)).toBe(
      "'42','1007','42','paid','USD','1999','2023-05-01 10:00:00','2023-05-02 11:00:00'",
    );
    expect(legacyTuple(withMs, 3)).toContain("'2023-05-02 11:00:00.789'");
  });
});
