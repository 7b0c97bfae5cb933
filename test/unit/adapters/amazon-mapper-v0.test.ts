import { describe, expect, it } from 'vitest';
import { AMAZON_V0_STATUS, mapAmazonV0Order } from '../../../src/adapters/amazon/mapper-v0.js';
import { ValidationError } from '../../../src/core/errors.js';
import { ORDERS_V0, v0Examples } from './fixtures/amazon.js';
import { loadReference } from './fixtures/reference.js';

const ctx = { account: 'amz-legacy', userId: '7' };

// The v0 sandbox examples carry 1970 timestamps; a realistic copy moves them into this decade.
function datedExample() {
  const { order, items } = v0Examples();
  order.PurchaseDate = '2026-02-01T10:00:00Z';
  order.LastUpdateDate = '2026-02-01T10:05:00Z';
  return { order, items };
}

describe('Amazon Orders v0 mapper (deprecated API, kept as an option)', () => {
  it('maps the model example: ItemPrice is the line total, money {Amount, CurrencyCode}', () => {
    const { order, items } = datedExample();
    const mapped = mapAmazonV0Order({ order, items }, ctx);
    expect(mapped).toMatchObject({
      platformOrderId: '902-1845936-5435065',
      status: 'paid',
      rawStatus: 'Unshipped',
      currency: 'USD',
      totals: { subtotal: 1000, tax: 101, total: 1101 },
      marketplace: 'ATVPDKIKX0DER',
    });
    expect(mapped.lines[0]).toMatchObject({
      lineId: '05015851154158',
      quantity: 1,
      unitPrice: 1000,
      total: 1000,
    });
  });

  it('derives the unit price from a multi-unit line total', () => {
    const { order, items } = datedExample();
    items[0].QuantityOrdered = 4;
    items[0].ItemPrice = { CurrencyCode: 'USD', Amount: '40.00' };
    items[0].PromotionDiscount = { CurrencyCode: 'USD', Amount: '-5.00' };
    const line = mapAmazonV0Order({ order, items }, ctx).lines[0];
    expect(line).toMatchObject({ quantity: 4, unitPrice: 1000, total: 3500 });
  });

  it('rejects the raw example, whose 1970 timestamps are a unit mix-up, naming the field', () => {
    const { order, items } = v0Examples();
    let error: unknown;
    try {
      mapAmazonV0Order({ order, items }, ctx, 'amazon.v0.orders[0]');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
      'amazon.v0.orders[0].PurchaseDate',
      'amazon.v0.orders[0].LastUpdateDate',
    ]);
  });

  it('covers every value of the v0 OrderStatus enum', () => {
    const model = loadReference(ORDERS_V0);
    expect(Object.keys(AMAZON_V0_STATUS).sort()).toEqual(
      [...model.definitions.Order.properties.OrderStatus.enum].sort(),
    );
  });

  it.each([
    ['PendingAvailability', 'pending'],
    ['Pending', 'pending'],
    ['Unshipped', 'paid'],
    ['PartiallyShipped', 'partially_shipped'],
    ['Shipped', 'shipped'],
    ['InvoiceUnconfirmed', 'shipped'],
    ['Canceled', 'cancelled'],
    ['Unfulfillable', 'cancelled'],
  ])('maps %s to %s', (raw, status) => {
    const { order, items } = datedExample();
    order.OrderStatus = raw;
    expect(mapAmazonV0Order({ order, items }, ctx).status).toBe(status);
  });

  it('maps a pending order whose items come without prices', () => {
    const { order, items } = datedExample();
    order.OrderStatus = 'Pending';
    delete order.OrderTotal;
    for (const item of items) {
      delete item.ItemPrice;
      delete item.ItemTax;
      delete item.PromotionDiscount;
    }
    const mapped = mapAmazonV0Order({ order, items }, ctx);
    expect(mapped).toMatchObject({ status: 'pending', currency: 'USD', totals: { total: 0 } });
    expect(mapped.lines[0]).toMatchObject({ unitPrice: 0, total: 0 });
  });
});
