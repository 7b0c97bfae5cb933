import type { UnifiedOrder, UnifiedOrderInput } from '../../core/order.js';
import { parseOrder } from '../../core/order.js';
import type { Instant } from '../../core/time.js';
import {
  isRec,
  type MapContext,
  type MappedPage,
  mapRecords,
  PayloadReader,
  type Rec,
  rawId,
  sum,
} from '../payload.js';
import { ebayStatus } from './status.js';

/**
 * eBay Sell Fulfillment v1 `Order` (getOrders, getOrder) -> unified order. Pure.
 *
 * Money is `{value: "12.34", currency: "USD"}`; `lineItemCost` is the LINE total (unit price x
 * quantity, before discounts). Times are ISO-8601 UTC with milliseconds.
 */

export function mapEbayOrder(raw: unknown, ctx: MapContext, path = 'ebay.order'): UnifiedOrder {
  const r = new PayloadReader();
  if (!isRec(raw)) {
    r.fail(path, 'expected an order object');
    r.throwIfAny('invalid eBay order');
  }
  const order = raw as Rec;
  const platformOrderId = r.str(order, 'orderId', path);
  const createdAt = r.instant(order, 'creationDate', path);
  const updatedAt = r.instant(order, 'lastModifiedDate', path);
  const payment = r.str(order, 'orderPaymentStatus', path);
  const fulfillment = r.str(order, 'orderFulfillmentStatus', path);
  const cancelStatus = r.optRec(order, 'cancelStatus', path) ?? {};
  const cancelState = r.optStr(cancelStatus, 'cancelState', `${path}.cancelStatus`) ?? 'NONE_REQUESTED';
  const status = ebayStatus(payment, fulfillment, cancelState);

  const pricing = r.rec(order, 'pricingSummary', path);
  const currency = ebayCurrency(r, order, pricing, `${path}.pricingSummary`);
  const money = (parent: Rec, key: string, base: string) => ebayMoney(r, parent, key, base, currency);
  const lines = r
    .array(order, 'lineItems', path, true)
    .flatMap((item, index) => mapLine(r, item, `${path}.lineItems[${index}]`, currency, status.cancelled));
  const pricingBase = `${path}.pricingSummary`;
  const total = money(pricing, 'total', pricingBase);
  if (total === null) r.fail(`${pricingBase}.total`, 'is missing');
  const deliveryDiscount = money(pricing, 'deliveryDiscount', pricingBase) ?? 0;
  const totals = {
    subtotal: money(pricing, 'priceSubtotal', pricingBase) ?? sum(lines.map((line) => line.total)),
    shipping: (money(pricing, 'deliveryCost', pricingBase) ?? 0) - Math.abs(deliveryDiscount),
    tax: money(pricing, 'tax', pricingBase) ?? 0,
    discount: Math.abs(money(pricing, 'priceDiscount', pricingBase) ?? 0),
    total: total ?? 0,
    refunded: refunds(r, order, path, currency),
  };
  const paidAt = paymentTime(r, order, path);
  const cancelledAt = r.optInstant(cancelStatus, 'cancelledDate', `${path}.cancelStatus`);
  r.throwIfAny('invalid eBay order');

  const shipTo = shipToOf(order);
  const contact = isRec(shipTo?.contactAddress) ? shipTo.contactAddress : null;
  const buyer = isRec(order.buyer) ? order.buyer : {};
  const registration = isRec(buyer.buyerRegistrationAddress) ? buyer.buyerRegistrationAddress : {};
  const firstLine = Array.isArray(order.lineItems) && isRec(order.lineItems[0]) ? order.lineItems[0] : {};
  const input: UnifiedOrderInput = {
    platform: 'ebay',
    account: ctx.account,
    platformOrderId,
    userId: ctx.userId,
    status: status.status,
    rawStatus: `${payment}/${fulfillment}/${cancelState}`,
    statusUnknown: status.unknown,
    refundState: status.refundState,
    currency,
    totals,
    createdAt,
    updatedAt,
    paidAt,
    cancelledAt: status.cancelled ? cancelledAt : null,
    marketplace: text(firstLine.purchaseMarketplaceId) ?? text(firstLine.listingMarketplaceId),
    buyer: {
      platformBuyerId: text(buyer.username),
      name: text(registration.fullName) ?? text(shipTo?.fullName),
      email: text(registration.email) ?? text(shipTo?.email),
    },
    shippingAddress: contact && {
      name: text(shipTo?.fullName),
      line1: text(contact.addressLine1),
      line2: text(contact.addressLine2),
      city: text(contact.city),
      region: text(contact.stateOrProvince),
      postalCode: text(contact.postalCode),
      countryCode: text(contact.countryCode),
      phone: isRec(shipTo?.primaryPhone) ? text(shipTo.primaryPhone.phoneNumber) : null,
    },
    lines,
  };
  return parseOrder(input, `${path}(unified)`);
}

export function mapEbayPage(records: readonly unknown[], ctx: MapContext, base = 'ebay.orders'): MappedPage {
  return mapRecords(
    records,
    (raw, path) => mapEbayOrder(raw, ctx, path),
    (index) => `${base}[${index}]`,
    (raw) => rawId(raw, 'orderId'),
  );
}

function mapLine(
  r: PayloadReader,
  raw: unknown,
  path: string,
  currency: string,
  orderCancelled: boolean,
): UnifiedOrderInput['lines'] {
  if (!isRec(raw)) {
    r.fail(path, 'expected a line item object');
    return [];
  }
  const quantity = r.int(raw, 'quantity', path, { min: 1 });
  const lineCost = ebayMoney(r, raw, 'lineItemCost', path, currency);
  if (lineCost === null) r.fail(`${path}.lineItemCost`, 'is missing');
  const discounted = ebayMoney(r, raw, 'discountedLineItemCost', path, currency);
  const taxes = r.array(raw, 'taxes', path).map((tax, index) => {
    const base = `${path}.taxes[${index}]`;
    if (isRec(tax)) return ebayMoney(r, tax, 'amount', base, currency) ?? 0;
    r.fail(base, 'expected a tax object');
    return 0;
  });
  const lineStatus = r.optStr(raw, 'lineItemFulfillmentStatus', path);
  return [
    {
      lineId: r.id(raw, 'lineItemId', path),
      sku: r.optStr(raw, 'sku', path),
      listingId: r.optStr(raw, 'legacyItemId', path),
      title: r.optStr(raw, 'title', path) ?? '',
      quantity,
      // Per-line progress is only FULFILLED or not: no partial quantities are reported.
      quantityShipped: lineStatus === 'FULFILLED' ? quantity : 0,
      // lineItemCost is unit x quantity; the unit price is derived from it.
      unitPrice: Math.trunc((lineCost ?? 0) / quantity),
      total: discounted ?? lineCost ?? 0,
      tax: sum(taxes),
      cancelled: orderCancelled,
    },
  ];
}

/** Minor units of an eBay Amount `{value, currency}` at `parent[key]`, or null when absent. */
export function ebayMoney(
  r: PayloadReader,
  parent: Rec,
  key: string,
  base: string,
  currency: string,
): number | null {
  const amount = r.optRec(parent, key, base);
  if (!amount) return null;
  const path = `${base}.${key}`;
  const code = amount.currency;
  if (typeof code !== 'string' || code === '') {
    r.fail(`${path}.currency`, 'is missing');
    return 0;
  }
  if (code !== currency) {
    r.fail(`${path}.currency`, `"${code}" differs from the order currency ${currency}`);
    return 0;
  }
  return r.decimal(amount.value, currency, `${path}.value`);
}

// The order's currency is that of its total; an order missing its total still has one in
// its other amounts, which keeps the report to the one missing field.
function ebayCurrency(r: PayloadReader, order: Rec, pricing: Rec, base: string): string {
  const lines = Array.isArray(order.lineItems) ? order.lineItems : [];
  const candidates = [
    pricing.total,
    pricing.priceSubtotal,
    ...lines.map((line) => (isRec(line) ? line.lineItemCost : null)),
  ];
  const found = candidates.find((amount) => isRec(amount) && amount.currency != null);
  return r.currency(isRec(found) ? found.currency : undefined, `${base}.total.currency`);
}

// Refunds appear at order level (paymentSummary.refunds) or per line (lineItems[].refunds),
// never both for the same refund; only completed ones count.
function refunds(r: PayloadReader, order: Rec, path: string, currency: string): number {
  const amounts: number[] = [];
  const summary = r.optRec(order, 'paymentSummary', path) ?? {};
  r.array(summary, 'refunds', `${path}.paymentSummary`).forEach((refund, index) => {
    const base = `${path}.paymentSummary.refunds[${index}]`;
    if (!isRec(refund)) {
      r.fail(base, 'expected a refund object');
      return;
    }
    if (refund.refundStatus !== 'REFUNDED') return;
    amounts.push(ebayMoney(r, refund, 'amount', base, currency) ?? 0);
  });
  (Array.isArray(order.lineItems) ? order.lineItems : []).forEach((line, lineIndex) => {
    if (!isRec(line)) return;
    const lineBase = `${path}.lineItems[${lineIndex}]`;
    r.array(line, 'refunds', lineBase).forEach((refund, index) => {
      const base = `${lineBase}.refunds[${index}]`;
      // A line refund only carries refundDate once it has been issued.
      if (!isRec(refund) || refund.refundDate == null) return;
      amounts.push(ebayMoney(r, refund, 'amount', base, currency) ?? 0);
    });
  });
  return sum(amounts);
}

function paymentTime(r: PayloadReader, order: Rec, path: string): Instant | null {
  const summary = isRec(order.paymentSummary) ? order.paymentSummary : {};
  const times: Instant[] = [];
  (Array.isArray(summary.payments) ? summary.payments : []).forEach((payment, index) => {
    if (!isRec(payment) || payment.paymentStatus !== 'PAID') return;
    const time = r.optInstant(payment, 'paymentDate', `${path}.paymentSummary.payments[${index}]`);
    if (time) times.push(time);
  });
  return times.length > 0 ? times.sort()[0]! : null;
}

function shipToOf(order: Rec): Rec | null {
  const instructions = Array.isArray(order.fulfillmentStartInstructions)
    ? order.fulfillmentStartInstructions
    : [];
  for (const instruction of instructions) {
    if (isRec(instruction) && isRec(instruction.shippingStep) && isRec(instruction.shippingStep.shipTo)) {
      return instruction.shippingStep.shipTo;
    }
  }
  return null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
