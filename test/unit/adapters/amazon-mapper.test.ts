import { describe, expect, it } from 'vitest';
import { AMAZON_STATUS, mapAmazonOrder, mapAmazonPage } from '../../../src/adapters/amazon/mapper.js';
import { ValidationError } from '../../../src/core/errors.js';
import {
  exampleOrder,
  getOrderExamples,
  ORDERS_2026,
  pendingOrder,
  searchOrdersExample,
  searchOrdersSandboxResponses,
} from './fixtures/amazon.js';
import { loadReference, undocumentedFields } from './fixtures/reference.js';

const ctx = { account: 'amz-1', userId: '42' };

function rejection(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('Amazon 2026-01-01 mapper on the model examples', () => {
  it('maps the documented searchOrders example: unit prices, line totals from proceeds, UTC times', () => {
    const order = mapAmazonOrder(searchOrdersExample().orders[0], ctx);
    expect(order).toMatchObject({
      platform: 'amazon',
      account: 'amz-1',
      userId: '42',
      platformOrderId: '123-4567890-1234567',
      rawStatus: 'SHIPPED',
      statusUnknown: false,
      currency: 'USD',
      createdAt: '2024-12-25T10:30:00.000Z',
      updatedAt: '2024-12-25T14:45:00.000Z',
      shippedAt: '2024-12-25T14:00:00.000Z',
      marketplace: 'ATVPDKIKX0DER',
      totals: { subtotal: 14997, shipping: 0, tax: 2, discount: 0, total: 15499, refunded: 0 },
      buyer: { name: 'John Smith', email: 'buyer-email@marketplace.amazon.com' },
      shippingAddress: { line1: '123 Main Street', line2: 'Suite 456', city: 'Seattle', countryCode: 'US' },
    });
    expect(order.lines).toEqual([
      expect.objectContaining({
        lineId: '12345678901234',
        sku: 'ECHO-DOT-4-CHARCOAL',
        listingId: 'B08N5WRWNW',
        quantity: 2,
        quantityShipped: 2,
        unitPrice: 4999,
        total: 9998,
        tax: 2,
        cancelled: false,
      }),
      expect.objectContaining({
        lineId: '12345678901235',
        quantity: 1,
        unitPrice: 4999,
        total: 4999,
        tax: 0,
      }),
    ]);
  });

  it('reports delivered only when every package of a shipped order is delivered', () => {
    expect(mapAmazonOrder(exampleOrder(), ctx).status).toBe('delivered');
    const inTransit = exampleOrder();
    inTransit.packages[0].packageStatus.status = 'IN_TRANSIT';
    expect(mapAmazonOrder(inTransit, ctx).status).toBe('shipped');
  });

  it('maps the static-sandbox examples in JPY (no minor unit), GBP and BRL', () => {
    const [jp, uk, br] = searchOrdersSandboxResponses().map((response) =>
      mapAmazonPage(response.orders, ctx),
    );
    expect(jp?.rejected).toEqual([]);
    expect(jp?.orders[0]).toMatchObject({
      currency: 'JPY',
      status: 'shipped',
      totals: { total: 19940, subtotal: 19940 },
    });
    expect(jp?.orders[0]?.lines[1]).toMatchObject({ quantity: 2, unitPrice: 6980, total: 13960 });
    expect(uk?.orders[0]).toMatchObject({ currency: 'GBP', status: 'shipped', totals: { total: 3499 } });
    expect(br?.orders[0]).toMatchObject({ currency: 'BRL', status: 'paid', rawStatus: 'UNSHIPPED' });
    expect(br?.orders[0]?.totals.total).toBe(159990);
  });

  it('maps every getOrder example of the model', () => {
    for (const response of getOrderExamples()) {
      const order = mapAmazonOrder(response.order, ctx);
      expect(order.platformOrderId).toBe(response.order.orderId);
      expect(order.currency).toBe(response.order.proceeds.grandTotal.currencyCode);
    }
  });

  it('uses only fields the model documents in the hand-built pending fixture', () => {
    const model = loadReference(ORDERS_2026);
    expect(undocumentedFields(model, '#/definitions/Order', pendingOrder())).toEqual([]);
  });
});

describe('Amazon 2026-01-01 status map', () => {
  const expected: Record<string, string> = {
    PENDING_AVAILABILITY: 'pending',
    PENDING: 'pending',
    UNSHIPPED: 'paid',
    PARTIALLY_SHIPPED: 'partially_shipped',
    SHIPPED: 'shipped',
    CANCELLED: 'cancelled',
    UNFULFILLABLE: 'cancelled',
  };

  it('covers every value of the model FulfillmentStatus enum', () => {
    const model = loadReference(ORDERS_2026);
    expect(Object.keys(AMAZON_STATUS).sort()).toEqual([...model.definitions.FulfillmentStatus.enum].sort());
  });

  it.each(Object.entries(expected))('maps %s to %s', (raw, status) => {
    const order = exampleOrder();
    order.fulfillment.fulfillmentStatus = raw;
    order.packages = [];
    const mapped = mapAmazonOrder(order, ctx);
    expect(mapped.status).toBe(status);
    expect(mapped.rawStatus).toBe(raw);
    expect(mapped.statusUnknown).toBe(false);
  });

  it('keeps an unknown status raw, flags it and defaults to pending', () => {
    const order = exampleOrder();
    order.fulfillment.fulfillmentStatus = 'AWAITING_PICKUP';
    const mapped = mapAmazonOrder(order, ctx);
    expect(mapped).toMatchObject({ status: 'pending', rawStatus: 'AWAITING_PICKUP', statusUnknown: true });
  });

  it('marks every line of a cancelled order cancelled, and drops zero-quantity items', () => {
    const order = exampleOrder();
    order.fulfillment.fulfillmentStatus = 'CANCELLED';
    order.orderItems[1].quantityOrdered = 0;
    const mapped = mapAmazonOrder(order, ctx);
    expect(mapped.lines.map((line) => [line.lineId, line.cancelled])).toEqual([['12345678901234', true]]);
  });
});

describe('Amazon 2026-01-01 money, times and pending orders', () => {
  it('maps a pending order without prices to zero amounts in the marketplace currency', () => {
    const order = mapAmazonOrder(pendingOrder(), ctx);
    expect(order).toMatchObject({ status: 'pending', currency: 'GBP', totals: { subtotal: 0, total: 0 } });
    expect(order.lines[0]).toMatchObject({ quantity: 3, unitPrice: 0, total: 0, sku: 'MUG-1' });
  });

  it('rejects a shipped order without prices, naming the missing price', () => {
    const error = rejection(() =>
      mapAmazonOrder(
        pendingOrder({ fulfillment: { fulfillmentStatus: 'SHIPPED' } }),
        ctx,
        'amazon.orders[4]',
      ),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'amazon.orders[4].orderItems[0].product.price.unitPrice',
      'amazon.orders[4].proceeds.grandTotal',
    ]);
  });

  it('rejects an amount with more decimals than the currency has', () => {
    const order = exampleOrder();
    order.proceeds.grandTotal.amount = '154.999';
    const error = rejection(() => mapAmazonOrder(order, ctx, 'amazon.orders[0]'));
    expect(error.issues[0]?.path).toBe('amazon.orders[0].proceeds.grandTotal.amount');
    expect(error.issues[0]?.message).toMatch(/more than 2 decimal places/);
  });

  it('rejects money in a second currency instead of converting it', () => {
    const order = exampleOrder();
    order.orderItems[1].product.price.unitPrice.currencyCode = 'EUR';
    const error = rejection(() => mapAmazonOrder(order, ctx, 'amazon.orders[2]'));
    expect(error.issues).toEqual([
      {
        path: 'amazon.orders[2].orderItems[1].product.price.unitPrice.currencyCode',
        message: '"EUR" differs from the order currency USD',
      },
    ]);
  });

  it('converts times with an offset to UTC and rejects unparseable ones by field', () => {
    const order = exampleOrder();
    order.lastUpdatedTime = '2024-12-25T23:45:00+09:00';
    expect(mapAmazonOrder(order, ctx).updatedAt).toBe('2024-12-25T14:45:00.000Z');
    order.lastUpdatedTime = 'yesterday';
    const error = rejection(() => mapAmazonOrder(order, ctx, 'amazon.orders[1]'));
    expect(error.issues[0]?.path).toBe('amazon.orders[1].lastUpdatedTime');
  });
});

describe('Amazon mapPage', () => {
  it('rejects one malformed record with the field named and keeps the rest of the page', () => {
    const good = exampleOrder();
    const bad = exampleOrder();
    bad.orderId = '123-0000000-0000002';
    delete bad.proceeds.grandTotal.currencyCode;
    const third = pendingOrder();
    const page = mapAmazonPage([good, bad, third, 'not an order'], ctx);
    expect(page.orders.map((order) => order.platformOrderId)).toEqual([
      '123-4567890-1234567',
      '203-0000000-0000001',
    ]);
    expect(page.rejected).toHaveLength(2);
    expect(page.rejected[0]?.platformOrderId).toBe('123-0000000-0000002');
    expect(page.rejected[0]?.raw).toBe(bad);
    expect(page.rejected[0]?.error.issues.map((issue) => issue.path)).toContain(
      'amazon.orders[1].proceeds.grandTotal.currencyCode',
    );
    expect(page.rejected[1]).toMatchObject({ platformOrderId: null });
    expect(page.rejected[1]?.error.issues[0]?.path).toBe('amazon.orders[3]');
  });
});

describe('Amazon quantities', () => {
  it('reports a non-numeric quantity once and a zero quantity of a live order', () => {
    const order = exampleOrder();
    order.orderItems[0].quantityOrdered = 'two';
    order.orderItems[1].quantityOrdered = 0;
    const error = rejection(() => mapAmazonOrder(order, ctx, 'amazon.orders[0]'));
    expect(error.issues).toEqual([
      { path: 'amazon.orders[0].orderItems[0].quantityOrdered', message: 'expected an integer, got "two"' },
      { path: 'amazon.orders[0].orderItems[1].quantityOrdered', message: 'must be at least 1' },
    ]);
  });
});
