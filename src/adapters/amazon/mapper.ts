import { type OrderStatus, parseOrder, type UnifiedOrder, type UnifiedOrderInput } from '../../core/order.js';
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
import { AMAZON_MARKETPLACE_CURRENCY, amazonCurrencyOf, amazonMoney } from './money.js';

/**
 * Amazon SP-API Orders 2026-01-01 (`searchOrders`, `getOrder`) -> unified order. Pure.
 *
 * Orders are requested with `includedData` FULFILLMENT, PROCEEDS, BUYER, RECIPIENT, PACKAGES,
 * CANCELLATION, so items, money and fulfilment arrive inline (no getOrderItems fan-out).
 */

/** `fulfillment.fulfillmentStatus` -> unified, every value of the model's FulfillmentStatus enum. */
export const AMAZON_STATUS: Readonly<Record<string, OrderStatus>> = {
  PENDING_AVAILABILITY: 'pending', // pre-order, payment not authorised
  PENDING: 'pending', // placed, payment not authorised
  UNSHIPPED: 'paid', // payment authorised, nothing shipped
  PARTIALLY_SHIPPED: 'partially_shipped',
  SHIPPED: 'shipped',
  CANCELLED: 'cancelled',
  UNFULFILLABLE: 'cancelled', // MCF order Amazon cannot fulfil: it will never ship
};

/** The status an unknown value gets: nothing ships or counts as paid until someone looks. */
const UNKNOWN_STATUS_DEFAULT: OrderStatus = 'pending';

// Statuses in which Amazon leaves prices out (pending orders have no pricing yet; cancelled
// ones may lose it). Anywhere else a missing price is a data error, not a zero.
const PRICELESS = new Set(['PENDING', 'PENDING_AVAILABILITY', 'CANCELLED', 'UNFULFILLABLE']);

/** Maps one `Order` of a searchOrders/getOrder response; throws a ValidationError naming the field. */
export function mapAmazonOrder(raw: unknown, ctx: MapContext, path = 'amazon.order'): UnifiedOrder {
  const r = new PayloadReader();
  if (!isRec(raw)) {
    r.fail(path, 'expected an order object');
    r.throwIfAny('invalid Amazon order');
  }
  const order = raw as Rec;
  const platformOrderId = r.str(order, 'orderId', path);
  const createdAt = r.instant(order, 'createdTime', path);
  const updatedAt = r.instant(order, 'lastUpdatedTime', path);
  const salesChannel = r.optRec(order, 'salesChannel', path);
  const marketplace = salesChannel ? r.optStr(salesChannel, 'marketplaceId', `${path}.salesChannel`) : null;

  const fulfillment = r.rec(order, 'fulfillment', path);
  const rawStatus = r.str(fulfillment, 'fulfillmentStatus', `${path}.fulfillment`);
  const mapped = AMAZON_STATUS[rawStatus];
  const priceless = PRICELESS.has(rawStatus);
  const orderCancelled = mapped === 'cancelled';

  const currency = orderCurrency(r, order, marketplace, path);
  const items = r.array(order, 'orderItems', path, true);
  const lines = items.flatMap((item, index) =>
    mapItem(r, item, `${path}.orderItems[${index}]`, currency, priceless, orderCancelled),
  );
  const packages = r.array(order, 'packages', path);
  const totals = mapTotals(r, order, path, currency, priceless, lines);
  r.throwIfAny('invalid Amazon order');

  const input: UnifiedOrderInput = {
    platform: 'amazon',
    account: ctx.account,
    platformOrderId,
    userId: ctx.userId,
    status: mapped ? deliveredOrShipped(mapped, packages) : UNKNOWN_STATUS_DEFAULT,
    rawStatus,
    statusUnknown: mapped === undefined,
    // The Orders API reports no refunds (they live in the Finances API).
    refundState: 'none',
    currency,
    totals,
    createdAt,
    updatedAt,
    shippedAt: firstShipTime(packages),
    marketplace,
    buyer: mapBuyer(order),
    shippingAddress: mapAddress(order),
    lines,
  };
  return parseOrder(input, `${path}(unified)`);
}

/** Maps the `orders` of one searchOrders page; one bad record never loses the page. */
export function mapAmazonPage(
  records: readonly unknown[],
  ctx: MapContext,
  base = 'amazon.orders',
): MappedPage {
  return mapRecords(
    records,
    (raw, path) => mapAmazonOrder(raw, ctx, path),
    (index) => `${base}[${index}]`,
    (raw) => rawId(raw, 'orderId'),
  );
}

function orderCurrency(r: PayloadReader, order: Rec, marketplace: string | null, path: string): string {
  const proceeds = isRec(order.proceeds) ? order.proceeds : {};
  const fromTotal = amazonCurrencyOf(proceeds.grandTotal);
  if (fromTotal) return r.currency(fromTotal, `${path}.proceeds.grandTotal.currencyCode`);
  const items = Array.isArray(order.orderItems) ? order.orderItems : [];
  for (const [index, item] of items.entries()) {
    const product = isRec(item) && isRec(item.product) ? item.product : {};
    const price = isRec(product.price) ? product.price : {};
    const code = amazonCurrencyOf(price.unitPrice);
    if (code) return r.currency(code, `${path}.orderItems[${index}].product.price.unitPrice.currencyCode`);
  }
  const byMarketplace = marketplace ? AMAZON_MARKETPLACE_CURRENCY[marketplace] : undefined;
  if (byMarketplace) return byMarketplace;
  r.fail(`${path}.proceeds.grandTotal.currencyCode`, 'is missing and the marketplace has no known currency');
  return 'USD';
}

function mapItem(
  r: PayloadReader,
  raw: unknown,
  path: string,
  currency: string,
  priceless: boolean,
  orderCancelled: boolean,
): UnifiedOrderInput['lines'] {
  if (!isRec(raw)) {
    r.fail(path, 'expected an order item object');
    return [];
  }
  const quantity = r.int(raw, 'quantityOrdered', path, { min: 0 });
  // Cancelled orders can report items with nothing ordered: they carry no stock or money.
  if (quantity === 0) {
    // (A value that was not a number at all is already reported.)
    if (!orderCancelled && raw.quantityOrdered === 0) r.fail(`${path}.quantityOrdered`, 'must be at least 1');
    return [];
  }
  const lineId = r.id(raw, 'orderItemId', path);
  const product = r.rec(raw, 'product', path);
  const price = r.optRec(product, 'price', `${path}.product`);
  const unitPrice = price ? amazonMoney(r, price, 'unitPrice', `${path}.product.price`, currency) : null;
  const breakdown = breakdowns(r, raw, 'proceeds', path, currency);
  const itemAmount = breakdown.ITEM;
  if (unitPrice === null && itemAmount === undefined && !priceless) {
    r.fail(`${path}.product.price.unitPrice`, 'is missing');
  }
  // ItemPrice here is a unit price; the proceeds ITEM breakdown is the line's total.
  const unit = unitPrice ?? (itemAmount !== undefined ? Math.trunc(itemAmount / quantity) : 0);
  const gross = itemAmount ?? unit * quantity;
  const fulfillment = r.optRec(raw, 'fulfillment', path);
  const shipped = fulfillment
    ? r.int(fulfillment, 'quantityFulfilled', `${path}.fulfillment`, { min: 0, default: 0 })
    : 0;
  const cancellation = r.optRec(raw, 'cancellation', path);
  // An executed cancellation on an item nothing of which shipped; a shipped unit stays a sale.
  const itemCancelled = Boolean(cancellation && isRec(cancellation.cancellationExecution)) && shipped === 0;
  return [
    {
      lineId,
      sku: r.optStr(product, 'sellerSku', `${path}.product`),
      listingId: r.optStr(product, 'asin', `${path}.product`),
      title: r.optStr(product, 'title', `${path}.product`) ?? '',
      quantity,
      quantityShipped: shipped,
      unitPrice: unit,
      total: gross - Math.abs(breakdown.DISCOUNT ?? 0),
      tax: breakdown.TAX ?? 0,
      cancelled: orderCancelled || itemCancelled,
    },
  ];
}

/** Sums a `proceeds.breakdowns` list by type (ITEM, SHIPPING, TAX, DISCOUNT, …). */
function breakdowns(
  r: PayloadReader,
  parent: Rec,
  key: string,
  base: string,
  currency: string,
): Partial<Record<string, number>> {
  const proceeds = r.optRec(parent, key, base);
  if (!proceeds) return {};
  const out: Partial<Record<string, number>> = {};
  r.array(proceeds, 'breakdowns', `${base}.${key}`).forEach((entry, index) => {
    const path = `${base}.${key}.breakdowns[${index}]`;
    if (!isRec(entry)) {
      r.fail(path, 'expected a breakdown object');
      return;
    }
    const type = r.str(entry, 'type', path);
    const amount = amazonMoney(r, entry, 'subtotal', path, currency);
    if (amount === null) {
      r.fail(`${path}.subtotal`, 'is missing');
      return;
    }
    out[type] = (out[type] ?? 0) + amount;
  });
  return out;
}

function mapTotals(
  r: PayloadReader,
  order: Rec,
  path: string,
  currency: string,
  priceless: boolean,
  lines: UnifiedOrderInput['lines'],
): UnifiedOrderInput['totals'] {
  const proceeds = r.optRec(order, 'proceeds', path) ?? {};
  const grandTotal = amazonMoney(r, proceeds, 'grandTotal', `${path}.proceeds`, currency);
  if (grandTotal === null && !priceless) r.fail(`${path}.proceeds.grandTotal`, 'is missing');
  const breakdown = breakdowns(r, order, 'proceeds', path, currency);
  return {
    subtotal: breakdown.ITEM ?? sum(lines.map((line) => line.total)),
    shipping: breakdown.SHIPPING ?? 0,
    tax: breakdown.TAX ?? 0,
    discount: Math.abs(breakdown.DISCOUNT ?? 0),
    total: grandTotal ?? 0,
  };
}

// `delivered` only when Amazon itself says so: every package of a shipped order delivered.
function deliveredOrShipped(status: OrderStatus, packages: readonly unknown[]): OrderStatus {
  if (status !== 'shipped' || packages.length === 0) return status;
  const delivered = packages.every(
    (entry) => isRec(entry) && isRec(entry.packageStatus) && entry.packageStatus.status === 'DELIVERED',
  );
  return delivered ? 'delivered' : status;
}

function firstShipTime(packages: readonly unknown[]): Instant | null {
  const times: Instant[] = [];
  packages.forEach((entry) => {
    if (!isRec(entry) || entry.shipTime == null) return;
    // A bad ship time must not reject the order: it is informational, the status is not.
    const reader = new PayloadReader();
    const time = reader.optInstant(entry, 'shipTime', 'package');
    if (time) times.push(time);
  });
  return times.length > 0 ? times.sort()[0]! : null;
}

function mapBuyer(order: Rec): UnifiedOrderInput['buyer'] {
  const buyer = isRec(order.buyer) ? order.buyer : {};
  return { platformBuyerId: null, name: text(buyer.buyerName), email: text(buyer.buyerEmail) };
}

function mapAddress(order: Rec): UnifiedOrderInput['shippingAddress'] {
  const recipient = isRec(order.recipient) ? order.recipient : {};
  const address = recipient.deliveryAddress;
  if (!isRec(address)) return null;
  return {
    name: text(address.name),
    line1: text(address.addressLine1),
    line2: [text(address.addressLine2), text(address.addressLine3)].filter(Boolean).join(', ') || null,
    city: text(address.city),
    region: text(address.stateOrRegion),
    postalCode: text(address.postalCode),
    countryCode: text(address.countryCode),
    phone: text(address.phone),
  };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
