import { describe, expect, it } from 'vitest';
import { mapShopifyOrder, mapShopifyPage } from '../../../src/adapters/shopify/mapper.js';
import {
  SHOPIFY_FINANCIAL_STATUS,
  SHOPIFY_FULFILLMENT_STATUS,
} from '../../../src/adapters/shopify/status.js';
import { ValidationError } from '../../../src/core/errors.js';
import { fulfillment, shopifyOrder } from './fixtures/shopify.js';

const ctx = { account: 'shop-1', userId: '5', shopDomain: 'jsmith.myshopify.com' };

function rejection(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('Shopify mapper', () => {
  it('maps unit prices, discount allocations, tax lines and shop-offset times to UTC', () => {
    const order = mapShopifyOrder(shopifyOrder(), ctx);
    expect(order).toMatchObject({
      platform: 'shopify',
      platformOrderId: '450789469',
      status: 'paid',
      rawStatus: 'paid/unfulfilled',
      currency: 'USD',
      createdAt: '2026-01-10T16:00:00.000Z',
      updatedAt: '2026-01-12T14:30:15.000Z',
      marketplace: 'jsmith.myshopify.com',
      totals: { subtotal: 59700, discount: 1000, shipping: 1000, tax: 1194, total: 60894, refunded: 0 },
      buyer: { platformBuyerId: '207119551', name: 'Bob Norman', email: 'bob.norman@mail.example.com' },
      shippingAddress: {
        name: 'Bob Norman',
        line1: 'Chestnut Street 92',
        line2: null,
        region: 'KY',
        countryCode: 'US',
      },
    });
    expect(order.lines).toEqual([
      expect.objectContaining({
        lineId: '466157049',
        listingId: '467157049',
        quantity: 1,
        unitPrice: 19900,
        total: 19566,
        tax: 398,
      }),
      expect.objectContaining({ lineId: '518995019', quantity: 2, unitPrice: 19900, total: 39134, tax: 796 }),
    ]);
  });

  it('falls back to total_discount when a line has no discount allocations', () => {
    const raw = shopifyOrder();
    raw.line_items[1].discount_allocations = [];
    raw.line_items[1].total_discount = '1.50';
    expect(mapShopifyOrder(raw, ctx).lines[1]?.total).toBe(39650);
  });

  it('covers every documented financial and fulfilment status', () => {
    expect(Object.keys(SHOPIFY_FINANCIAL_STATUS).sort()).toEqual(
      [
        'authorized',
        'expired',
        'paid',
        'partially_paid',
        'partially_refunded',
        'pending',
        'refunded',
        'voided',
      ].sort(),
    );
    expect(Object.keys(SHOPIFY_FULFILLMENT_STATUS).sort()).toEqual([
      'fulfilled',
      'partial',
      'restocked',
      'unfulfilled',
    ]);
  });

  it.each([
    ['pending', null, 'pending', 'none'],
    ['authorized', null, 'pending', 'none'],
    ['partially_paid', null, 'pending', 'none'],
    ['expired', null, 'pending', 'none'],
    ['voided', null, 'pending', 'none'],
    ['paid', null, 'paid', 'none'],
    ['paid', 'unfulfilled', 'paid', 'none'],
    ['paid', 'partial', 'partially_shipped', 'none'],
    ['paid', 'fulfilled', 'shipped', 'none'],
    ['pending', 'fulfilled', 'shipped', 'none'],
    ['partially_refunded', null, 'paid', 'partial'],
    ['partially_refunded', 'fulfilled', 'shipped', 'partial'],
    ['refunded', 'fulfilled', 'refunded', 'full'],
    ['refunded', 'restocked', 'cancelled', 'full'],
    ['paid', 'restocked', 'cancelled', 'none'],
  ])('maps financial %s + fulfilment %s to %s (refund %s)', (financial, fulfilment, status, refundState) => {
    const order = mapShopifyOrder(
      shopifyOrder({ financial_status: financial, fulfillment_status: fulfilment }),
      ctx,
    );
    expect(order).toMatchObject({ status, refundState, statusUnknown: false });
  });

  it('lets cancellation win over payment and fulfilment', () => {
    const order = mapShopifyOrder(
      shopifyOrder({ financial_status: 'refunded', cancelled_at: '2026-01-11T08:00:00-05:00' }),
      ctx,
    );
    expect(order).toMatchObject({
      status: 'cancelled',
      refundState: 'full',
      cancelledAt: '2026-01-11T13:00:00.000Z',
      rawStatus: 'refunded/unfulfilled/cancelled',
    });
    expect(order.lines.every((line) => line.cancelled)).toBe(true);
  });

  it('keeps an unknown status raw and flagged, with the safe default', () => {
    const order = mapShopifyOrder(shopifyOrder({ financial_status: 'disputed' }), ctx);
    expect(order).toMatchObject({
      status: 'pending',
      statusUnknown: true,
      rawStatus: 'disputed/unfulfilled',
    });
    const missing = mapShopifyOrder(shopifyOrder({ financial_status: null }), ctx);
    expect(missing).toMatchObject({ status: 'pending', statusUnknown: true, rawStatus: 'null/unfulfilled' });
  });

  it('counts shipped units from live fulfillments and ignores cancelled ones', () => {
    const raw = shopifyOrder({
      fulfillment_status: 'partial',
      fulfillments: [
        fulfillment(1, 'cancelled', [[518995019, 2]], '2026-01-11T09:00:00-05:00'),
        fulfillment(2, 'success', [[518995019, 1]], '2026-01-11T10:00:00-05:00'),
      ],
    });
    const order = mapShopifyOrder(raw, ctx);
    expect(order.lines.map((line) => line.quantityShipped)).toEqual([0, 1]);
    expect(order.shippedAt).toBe('2026-01-11T15:00:00.000Z');
    expect(order.status).toBe('partially_shipped');
  });

  it('sums successful refund transactions in the shop currency', () => {
    const raw = shopifyOrder({
      financial_status: 'partially_refunded',
      refunds: [
        {
          id: 509562969,
          created_at: '2026-01-12T09:00:00-05:00',
          transactions: [
            { id: 1, kind: 'refund', status: 'success', amount: '20.00', currency: 'USD' },
            { id: 2, kind: 'refund', status: 'failure', amount: '99.00', currency: 'USD' },
          ],
        },
        {
          id: 509562970,
          transactions: [{ id: 3, kind: 'refund', status: 'success', amount: 5.5, currency: 'USD' }],
        },
      ],
    });
    expect(mapShopifyOrder(raw, ctx).totals.refunded).toBe(2550);
  });

  it('marks a line removed before shipping as cancelled', () => {
    const raw = shopifyOrder();
    raw.line_items[0].current_quantity = 0;
    expect(mapShopifyOrder(raw, ctx).lines.map((line) => line.cancelled)).toEqual([true, false]);
  });

  it('maps a zero-decimal currency exactly', () => {
    const raw = shopifyOrder({
      currency: 'JPY',
      total_price: '61000',
      total_line_items_price: '60000',
      total_tax: '0',
      total_discounts: '0',
    });
    raw.total_shipping_price_set = { shop_money: { amount: '1000', currency_code: 'JPY' } };
    raw.line_items = [
      { ...raw.line_items[0], price: '30000', quantity: 2, discount_allocations: [], tax_lines: [] },
    ];
    const order = mapShopifyOrder(raw, ctx);
    expect(order.totals).toMatchObject({ total: 61000, shipping: 1000 });
    expect(order.lines[0]).toMatchObject({ unitPrice: 30000, total: 60000 });
  });

  it('rejects a price with too many decimals and a bad time, naming both fields', () => {
    const raw = shopifyOrder({ updated_at: '2026-01-12 09:30:15' });
    raw.line_items[1].price = '199.001';
    const error = rejection(() => mapShopifyOrder(raw, ctx, 'shopify.orders[3]'));
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'shopify.orders[3].updated_at',
      'shopify.orders[3].line_items[1].price',
    ]);
  });

  it('rejects an id that lost precision in JSON', () => {
    const error = rejection(() => mapShopifyOrder(shopifyOrder({ id: 2 ** 60 }), ctx, 'shopify.orders[0]'));
    expect(error.issues[0]?.path).toBe('shopify.orders[0].id');
  });

  it('rejects one malformed record in a page and keeps the others', () => {
    const bad = shopifyOrder({ id: 450789470, currency: 'DOLLARS' });
    const page = mapShopifyPage([shopifyOrder(), bad, shopifyOrder({ id: 450789471 })], ctx);
    expect(page.orders.map((order) => order.platformOrderId)).toEqual(['450789469', '450789471']);
    expect(page.rejected).toHaveLength(1);
    expect(page.rejected[0]?.platformOrderId).toBe('450789470');
    expect(page.rejected[0]?.error.issues).toEqual([
      { path: 'shopify.orders[1].currency', message: '"DOLLARS" is not an ISO-4217 currency code' },
    ]);
  });
});
