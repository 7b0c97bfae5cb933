import { describe, expect, it } from 'vitest';
import { mapEbayOrder, mapEbayPage } from '../../../src/adapters/ebay/mapper.js';
import {
  EBAY_CANCEL_STATE,
  EBAY_FULFILLMENT_STATUS,
  EBAY_PAYMENT_STATUS,
} from '../../../src/adapters/ebay/status.js';
import { ValidationError } from '../../../src/core/errors.js';
import { ebayOrder, ebayPage, FULFILLMENT_MODEL } from './fixtures/ebay.js';
import { loadReference, undocumentedFields } from './fixtures/reference.js';

const ctx = { account: 'ebay-uk', userId: '1001' };

function rejection(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('eBay fixtures agree with the Sell Fulfillment contract', () => {
  it('uses only documented fields in the order and page fixtures', () => {
    const model = loadReference(FULFILLMENT_MODEL);
    expect(undocumentedFields(model, '#/components/schemas/Order', ebayOrder())).toEqual([]);
    expect(
      undocumentedFields(model, '#/components/schemas/OrderSearchPagedCollection', ebayPage([ebayOrder()])),
    ).toEqual([]);
  });
});

describe('eBay mapper', () => {
  it('maps money {value, currency}, line totals from lineItemCost and ISO-Z times', () => {
    const order = mapEbayOrder(ebayOrder(), ctx);
    expect(order).toMatchObject({
      platform: 'ebay',
      platformOrderId: '12-03955-36441',
      status: 'paid',
      rawStatus: 'PAID/NOT_STARTED/NONE_REQUESTED',
      refundState: 'none',
      currency: 'GBP',
      createdAt: '2026-03-02T09:15:02.768Z',
      updatedAt: '2026-03-02T11:40:10.001Z',
      paidAt: '2026-03-02T09:16:00.000Z',
      marketplace: 'EBAY_GB',
      totals: { subtotal: 4500, discount: 500, shipping: 395, tax: 800, total: 5195, refunded: 0 },
      buyer: { platformBuyerId: 'buyer_1', name: 'Ada Lovelace', email: 'ada@example.invalid' },
      shippingAddress: {
        line1: '12 St James Square',
        postalCode: 'SW1Y 4JH',
        countryCode: 'GB',
        phone: '+44 20 7946 0000',
      },
    });
    expect(order.lines).toEqual([
      expect.objectContaining({
        lineId: '10000000000001',
        listingId: '110000000001',
        sku: 'TEA-ASSAM-250',
        quantity: 3,
        unitPrice: 1000,
        total: 2500,
        tax: 500,
        quantityShipped: 0,
      }),
      expect.objectContaining({
        lineId: '10000000000002',
        quantity: 1,
        unitPrice: 1500,
        total: 1500,
        tax: 300,
      }),
    ]);
  });

  it('covers every documented payment, fulfilment and cancel state', () => {
    expect(Object.keys(EBAY_PAYMENT_STATUS).sort()).toEqual(
      ['FAILED', 'FULLY_REFUNDED', 'PAID', 'PARTIALLY_REFUNDED', 'PENDING'].sort(),
    );
    expect(Object.keys(EBAY_FULFILLMENT_STATUS).sort()).toEqual(['FULFILLED', 'IN_PROGRESS', 'NOT_STARTED']);
    expect(Object.keys(EBAY_CANCEL_STATE).sort()).toEqual(['CANCELED', 'IN_PROGRESS', 'NONE_REQUESTED']);
  });

  it.each([
    ['PAID', 'NOT_STARTED', 'NONE_REQUESTED', 'paid', 'none'],
    ['PAID', 'IN_PROGRESS', 'NONE_REQUESTED', 'partially_shipped', 'none'],
    ['PAID', 'FULFILLED', 'NONE_REQUESTED', 'shipped', 'none'],
    ['PENDING', 'NOT_STARTED', 'NONE_REQUESTED', 'pending', 'none'],
    ['FAILED', 'NOT_STARTED', 'NONE_REQUESTED', 'pending', 'none'],
    ['PARTIALLY_REFUNDED', 'FULFILLED', 'NONE_REQUESTED', 'shipped', 'partial'],
    ['PARTIALLY_REFUNDED', 'NOT_STARTED', 'NONE_REQUESTED', 'paid', 'partial'],
    ['FULLY_REFUNDED', 'FULFILLED', 'NONE_REQUESTED', 'refunded', 'full'],
    ['PAID', 'NOT_STARTED', 'IN_PROGRESS', 'paid', 'none'],
    ['PAID', 'NOT_STARTED', 'CANCELED', 'cancelled', 'none'],
    ['FULLY_REFUNDED', 'NOT_STARTED', 'CANCELED', 'cancelled', 'full'],
  ])(
    'maps %s / %s / cancel %s to %s (refund %s)',
    (payment, fulfillment, cancelState, status, refundState) => {
      const raw = ebayOrder({
        orderPaymentStatus: payment,
        orderFulfillmentStatus: fulfillment,
        cancelStatus: {
          cancelState,
          cancelRequests: [],
          ...(cancelState === 'CANCELED' ? { cancelledDate: '2026-03-02T12:00:00.000Z' } : {}),
        },
      });
      const order = mapEbayOrder(raw, ctx);
      expect(order).toMatchObject({ status, refundState, statusUnknown: false });
      expect(order.cancelledAt).toBe(status === 'cancelled' ? '2026-03-02T12:00:00.000Z' : null);
      expect(order.lines.every((line) => line.cancelled === (status === 'cancelled'))).toBe(true);
    },
  );

  it('keeps an unknown status raw and flagged, with the safe default', () => {
    const order = mapEbayOrder(ebayOrder({ orderPaymentStatus: 'AWAITING_SETTLEMENT' }), ctx);
    expect(order).toMatchObject({
      status: 'pending',
      statusUnknown: true,
      rawStatus: 'AWAITING_SETTLEMENT/NOT_STARTED/NONE_REQUESTED',
    });
  });

  it('counts issued order and line refunds, not pending ones', () => {
    const raw = ebayOrder({ orderPaymentStatus: 'PARTIALLY_REFUNDED' });
    raw.paymentSummary.refunds = [
      {
        refundStatus: 'REFUNDED',
        amount: { value: '2.50', currency: 'GBP' },
        refundDate: '2026-03-03T10:00:00.000Z',
      },
      { refundStatus: 'PENDING', amount: { value: '9.00', currency: 'GBP' } },
    ];
    raw.lineItems[1].refunds = [
      { amount: { value: '1.25', currency: 'GBP' }, refundDate: '2026-03-03T11:00:00.000Z' },
    ];
    expect(mapEbayOrder(raw, ctx).totals.refunded).toBe(375);
  });

  it('marks lines shipped per lineItemFulfillmentStatus', () => {
    const raw = ebayOrder({ orderFulfillmentStatus: 'IN_PROGRESS' });
    raw.lineItems[0].lineItemFulfillmentStatus = 'FULFILLED';
    const order = mapEbayOrder(raw, ctx);
    expect(order.lines.map((line) => line.quantityShipped)).toEqual([3, 0]);
    expect(order.status).toBe('partially_shipped');
  });

  it('rejects a malformed amount, naming the eBay path', () => {
    const raw = ebayOrder();
    raw.lineItems[1].lineItemCost = { value: '15,00', currency: 'GBP' };
    const error = rejection(() => mapEbayOrder(raw, ctx, 'ebay.orders[7]'));
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'ebay.orders[7].lineItems[1].lineItemCost.value',
    ]);
  });

  it('rejects a time without a zone', () => {
    const error = rejection(() => mapEbayOrder(ebayOrder({ lastModifiedDate: '2026-03-02 11:40:10' }), ctx));
    expect(error.issues[0]?.path).toBe('ebay.order.lastModifiedDate');
  });

  it('rejects one malformed record in a page and keeps the others', () => {
    const second = ebayOrder({ orderId: '12-00000-00002' });
    delete second.pricingSummary.total;
    delete second.pricingSummary.priceSubtotal;
    const page = mapEbayPage([ebayOrder(), second, ebayOrder({ orderId: '12-00000-00003' })], ctx);
    expect(page.orders.map((order) => order.platformOrderId)).toEqual(['12-03955-36441', '12-00000-00003']);
    expect(page.rejected).toHaveLength(1);
    expect(page.rejected[0]?.platformOrderId).toBe('12-00000-00002');
    expect(page.rejected[0]?.error.issues.map((issue) => issue.path)).toEqual([
      'ebay.orders[1].pricingSummary.total',
    ]);
  });
});
