import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FieldIssue, ValidationError } from '../../src/core/errors.js';
import {
  type OrderLine,
  type OrderStatus,
  orderKey,
  parseOrder,
  statusFromLines,
  type UnifiedOrderInput,
} from '../../src/core/order.js';

// Cases break one field each, into shapes no type allows: the input is deliberately loose JSON.
// biome-ignore lint/suspicious/noExplicitAny: see above
type LooseOrder = Record<string, any>;

/** The smallest valid order: only required fields, everything else left to the defaults. */
function minimalOrder(): UnifiedOrderInput {
  return {
    platform: 'shopify',
    account: 'us-store',
    platformOrderId: '450789469',
    userId: '1001',
    status: 'paid',
    rawStatus: 'paid',
    currency: 'USD',
    totals: { subtotal: 2998, total: 3497 },
    createdAt: '2026-01-31T10:00:00.000Z',
    updatedAt: '2026-01-31T11:00:00.000Z',
    buyer: {},
    lines: [
      { lineId: '1', quantity: 2, unitPrice: 1499, total: 2998 },
      { lineId: '2', quantity: 1, unitPrice: 0, total: 0 },
    ],
  };
}

function issuesOf(fn: () => unknown): readonly FieldIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('TRADECTL_INVALID_INPUT');
    return (error as ValidationError).issues;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

/** A copy of the minimal order with `mutate` applied (the input is plain JSON). */
function orderWith(mutate: (order: LooseOrder) => void): unknown {
  const order = structuredClone(minimalOrder()) as LooseOrder;
  mutate(order);
  return order;
}

describe('parseOrder', () => {
  it('fills every default of a minimal valid order', () => {
    const order = parseOrder(minimalOrder());
    expect(order).toEqual({
      ...minimalOrder(),
      statusUnknown: false,
      refundState: 'none',
      totals: { subtotal: 2998, shipping: 0, tax: 0, discount: 0, total: 3497, refunded: 0 },
      paidAt: null,
      shippedAt: null,
      cancelledAt: null,
      marketplace: null,
      buyer: { platformBuyerId: null, name: null, email: null },
      shippingAddress: null,
      lines: [
        {
          lineId: '1',
          sku: null,
          listingId: null,
          title: '',
          quantity: 2,
          quantityShipped: 0,
          unitPrice: 1499,
          total: 2998,
          tax: 0,
          cancelled: false,
        },
        {
          lineId: '2',
          sku: null,
          listingId: null,
          title: '',
          quantity: 1,
          quantityShipped: 0,
          unitPrice: 0,
          total: 0,
          tax: 0,
          cancelled: false,
        },
      ],
    });
  });

  it('keeps a full order as given', () => {
    const full = orderWith((order) => {
      order.statusUnknown = true;
      order.refundState = 'partial';
      order.paidAt = '2026-01-31T10:01:00.000Z';
      order.marketplace = 'us-store.myshopify.com';
      order.buyer = { platformBuyerId: '207119551', name: 'Bob Norman', email: 'bob@example.com' };
      order.shippingAddress = {
        name: 'Bob Norman',
        line1: 'Chestnut Street 92',
        line2: null,
        city: 'Louisville',
        region: 'KY',
        postalCode: '40202',
        countryCode: 'US',
        phone: '555-625-1199',
      };
      order.lines[0].sku = 'IPOD-342-N';
      order.lines[0].quantityShipped = 1;
    });
    const order = parseOrder(full);
    expect(order.shippingAddress?.countryCode).toBe('US');
    expect(order.buyer.email).toBe('bob@example.com');
    expect(order.lines[0]).toMatchObject({ sku: 'IPOD-342-N', quantityShipped: 1 });
    expect(order.refundState).toBe('partial');
  });

  it('accepts an order without lines and drops unknown fields', () => {
    const order = parseOrder(
      orderWith((o) => {
        o.lines = [];
        o.somethingElse = 1;
      }),
    );
    expect(order.lines).toEqual([]);
    expect(order).not.toHaveProperty('somethingElse');
  });

  it.each<[string, string, (order: LooseOrder) => void]>([
    ['a zero quantity', 'order.lines[0].quantity', (o) => (o.lines[0].quantity = 0)],
    ['a fractional quantity', 'order.lines[1].quantity', (o) => (o.lines[1].quantity = 1.5)],
    ['a quantity as text', 'order.lines[0].quantity', (o) => (o.lines[0].quantity = '2')],
    ['a float price', 'order.lines[0].unitPrice', (o) => (o.lines[0].unitPrice = 14.99)],
    ['an unsafe integer total', 'order.totals.total', (o) => (o.totals.total = 2 ** 53)],
    ['a missing total', 'order.totals.total', (o) => delete o.totals.total],
    ['an empty line id', 'order.lines[0].lineId', (o) => (o.lines[0].lineId = '')],
    [
      'a negative quantity shipped',
      'order.lines[0].quantityShipped',
      (o) => (o.lines[0].quantityShipped = -1),
    ],
    ['an unknown currency', 'order.currency', (o) => (o.currency = 'XYZ')],
    ['a lower-case currency', 'order.currency', (o) => (o.currency = 'usd')],
    ['a missing currency', 'order.currency', (o) => delete o.currency],
    ['an unknown platform', 'order.platform', (o) => (o.platform = 'myspace')],
    ['an unknown status', 'order.status', (o) => (o.status = 'on_hold')],
    ['an unknown refund state', 'order.refundState', (o) => (o.refundState = 'some')],
    ['a numeric user id', 'order.userId', (o) => (o.userId = 1001)],
    ['a negative user id', 'order.userId', (o) => (o.userId = '-5')],
    ['a 20-digit user id', 'order.userId', (o) => (o.userId = '1'.repeat(20))],
    ['an empty account', 'order.account', (o) => (o.account = '')],
    ['an over-long platform order id', 'order.platformOrderId', (o) => (o.platformOrderId = 'x'.repeat(65))],
    ['a naive update time', 'order.updatedAt', (o) => (o.updatedAt = '2026-01-31T11:00:00')],
    ['an offset update time', 'order.updatedAt', (o) => (o.updatedAt = '2026-01-31T11:00:00.000+01:00')],
    ['an impossible created date', 'order.createdAt', (o) => (o.createdAt = '2026-02-30T10:00:00.000Z')],
    ['an epoch-0 paid time', 'order.paidAt', (o) => (o.paidAt = '1970-01-01T00:00:00.000Z')],
    ['unix seconds as update time', 'order.updatedAt', (o) => (o.updatedAt = 1769857200)],
    [
      'a bad country code',
      'order.shippingAddress.countryCode',
      (o) => (o.shippingAddress = { countryCode: 'USA' }),
    ],
    ['a missing buyer', 'order.buyer', (o) => delete o.buyer],
    ['lines that are not a list', 'order.lines', (o) => (o.lines = {})],
    ['update before creation', 'order.updatedAt', (o) => (o.updatedAt = '2026-01-31T09:59:59.999Z')],
    ['a duplicate line id', 'order.lines[1].lineId', (o) => (o.lines[1].lineId = '1')],
    ['more shipped than ordered', 'order.lines[1].quantityShipped', (o) => (o.lines[1].quantityShipped = 2)],
  ])('rejects %s, naming %s', (_what, path, mutate) => {
    const issues = issuesOf(() => parseOrder(orderWith(mutate)));
    expect(issues.map((issue) => issue.path)).toEqual([path]);
    expect(issues[0]!.message.length).toBeGreaterThan(0);
  });

  it('lists every bad field at once, under the caller prefix', () => {
    const issues = issuesOf(() =>
      parseOrder(
        orderWith((o) => {
          o.currency = 'XYZ';
          o.lines[0].quantity = 0;
          o.updatedAt = 'soon';
        }),
        'message.order',
      ),
    );
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      'message.order.currency',
      'message.order.lines[0].quantity',
      'message.order.updatedAt',
    ]);
  });

  it('names the message itself when it is not an object', () => {
    for (const input of [null, 'order', 42, []]) {
      expect(issuesOf(() => parseOrder(input))[0]!.path).toBe('order');
    }
  });

  it('reports the field paths in the error message too', () => {
    expect(() => parseOrder(orderWith((o) => (o.lines[0].quantity = 0)))).toThrow(
      /invalid order: order\.lines\[0\]\.quantity: /,
    );
  });
});

describe('orderKey', () => {
  it('is platform:account:platformOrderId', () => {
    expect(orderKey(parseOrder(minimalOrder()))).toBe('shopify:us-store:450789469');
    expect(orderKey({ platform: 'amazon', account: 'na-main', platformOrderId: '902-3159896-1390916' })).toBe(
      'amazon:na-main:902-3159896-1390916',
    );
  });
});

type LineState = Pick<OrderLine, 'quantity' | 'quantityShipped' | 'cancelled'>;
const open = (quantity = 1): LineState => ({ quantity, quantityShipped: 0, cancelled: false });
const shipped = (quantity = 1): LineState => ({ quantity, quantityShipped: quantity, cancelled: false });
const partly = (quantity: number, sent: number): LineState => ({
  quantity,
  quantityShipped: sent,
  cancelled: false,
});
const cancelled = (quantity = 1): LineState => ({ quantity, quantityShipped: 0, cancelled: true });

describe('statusFromLines (MARKETPLACES.md section 0, rule 3)', () => {
  it.each<[string, LineState[], OrderStatus, OrderStatus]>([
    ['all lines cancelled', [cancelled(), cancelled(2)], 'paid', 'cancelled'],
    ['all live lines shipped', [shipped(), shipped(3)], 'paid', 'shipped'],
    ['shipped lines next to cancelled ones', [shipped(), cancelled()], 'paid', 'shipped'],
    ['some lines shipped', [shipped(), open()], 'paid', 'partially_shipped'],
    ['part of one line shipped', [partly(3, 1)], 'paid', 'partially_shipped'],
    ['part shipped and the rest cancelled', [partly(3, 2), cancelled()], 'paid', 'partially_shipped'],
    ['nothing shipped, paid', [open(), open(2)], 'paid', 'paid'],
    ['nothing shipped, pending', [open(), cancelled()], 'pending', 'pending'],
    ['no lines at all', [], 'pending', 'pending'],
  ])('%s → %s', (_what, lines, fallback, expected) => {
    expect(statusFromLines(lines, fallback)).toBe(expected);
  });

  const line = fc.record({
    quantity: fc.integer({ min: 1, max: 5 }),
    quantityShipped: fc.integer({ min: 0, max: 5 }),
    cancelled: fc.boolean(),
  });
  const lines = fc
    .array(line, { maxLength: 6 })
    .map((list) =>
      list.map((item) => ({ ...item, quantityShipped: Math.min(item.quantityShipped, item.quantity) })),
    );

  it('does not depend on the order of the lines', () => {
    fc.assert(
      fc.property(lines, fc.constantFrom<OrderStatus>('paid', 'pending'), (list, fallback) => {
        expect(statusFromLines([...list].reverse(), fallback)).toBe(statusFromLines(list, fallback));
      }),
    );
  });

  it('is cancelled exactly when every line is cancelled, and never ignores a shipment', () => {
    fc.assert(
      fc.property(lines, (list) => {
        const status = statusFromLines(list, 'paid');
        const live = list.filter((item) => !item.cancelled);
        expect(status === 'cancelled').toBe(list.length > 0 && live.length === 0);
        if (live.some((item) => item.quantityShipped > 0)) {
          expect(['shipped', 'partially_shipped']).toContain(status);
        }
      }),
    );
  });
});
