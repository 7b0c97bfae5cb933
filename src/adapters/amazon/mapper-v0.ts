import { type OrderStatus, parseOrder, type UnifiedOrder, type UnifiedOrderInput } from '../../core/order.js';
import { isRec, type MapContext, PayloadReader, type Rec, sum } from '../payload.js';
import { AMAZON_MARKETPLACE_CURRENCY, amazonCurrencyOf, amazonMoney } from './money.js';

/**
 * Amazon SP-API Orders v0 (`getOrders` + `getOrderItems`) -> unified order. Pure.
 *
 * v0 is deprecated in favour of 2026-01-01 (see mapper.ts) and kept for accounts that still
 * need it (`options.ordersApi: v0`). Its shapes differ: PascalCase fields, money as
 * `{Amount, CurrencyCode}`, and `ItemPrice` is the LINE total (unit price x quantity), where
 * 2026-01-01 gives a unit price.
 */

/** `OrderStatus` -> unified, every value of the v0 model's enum. */
export const AMAZON_V0_STATUS: Readonly<Record<string, OrderStatus>> = {
  PendingAvailability: 'pending',
  Pending: 'pending',
  Unshipped: 'paid',
  PartiallyShipped: 'partially_shipped',
  Shipped: 'shipped',
  // Shipped; only the invoice confirmation to the buyer is outstanding.
  InvoiceUnconfirmed: 'shipped',
  Canceled: 'cancelled',
  Unfulfillable: 'cancelled',
};

const PRICELESS = new Set(['Pending', 'PendingAvailability', 'Canceled', 'Unfulfillable']);

/** One v0 order with the items getOrderItems returned for it. */
export interface AmazonV0Record {
  order: unknown;
  items: readonly unknown[];
}

export function mapAmazonV0Order(
  record: AmazonV0Record,
  ctx: MapContext,
  path = 'amazon.v0.order',
): UnifiedOrder {
  const r = new PayloadReader();
  if (!isRec(record.order)) {
    r.fail(path, 'expected an order object');
    r.throwIfAny('invalid Amazon order');
  }
  const order = record.order as Rec;
  const rawStatus = r.str(order, 'OrderStatus', path);
  const mapped = AMAZON_V0_STATUS[rawStatus];
  const priceless = PRICELESS.has(rawStatus);
  const cancelled = mapped === 'cancelled';
  const marketplace = r.optStr(order, 'MarketplaceId', path);
  const currency = v0Currency(r, order, record.items, marketplace, path);

  const lines: UnifiedOrderInput['lines'] = [];
  const charges = {
    items: [] as number[],
    shipping: [] as number[],
    tax: [] as number[],
    discount: [] as number[],
  };
  record.items.forEach((raw, index) => {
    const base = `${path}.orderItems[${index}]`;
    if (!isRec(raw)) {
      r.fail(base, 'expected an order item object');
      return;
    }
    const quantity = r.int(raw, 'QuantityOrdered', base, { min: 0 });
    if (quantity === 0) {
      // (A value that was not a number at all is already reported.)
      if (!cancelled && raw.QuantityOrdered === 0) r.fail(`${base}.QuantityOrdered`, 'must be at least 1');
      return;
    }
    const money = (key: string) => amazonMoney(r, raw, key, base, currency);
    const itemPrice = money('ItemPrice');
    if (itemPrice === null && !priceless) r.fail(`${base}.ItemPrice`, 'is missing');
    const lineTotal = itemPrice ?? 0;
    const promotion = Math.abs(money('PromotionDiscount') ?? 0);
    const itemTax = money('ItemTax') ?? 0;
    charges.items.push(lineTotal);
    charges.shipping.push((money('ShippingPrice') ?? 0) - Math.abs(money('ShippingDiscount') ?? 0));
    charges.tax.push(itemTax + (money('ShippingTax') ?? 0));
    charges.discount.push(promotion);
    lines.push({
      lineId: r.id(raw, 'OrderItemId', base),
      sku: r.optStr(raw, 'SellerSKU', base),
      listingId: r.optStr(raw, 'ASIN', base),
      title: r.optStr(raw, 'Title', base) ?? '',
      quantity,
      quantityShipped: r.int(raw, 'QuantityShipped', base, { min: 0, default: 0 }),
      // The unit price is derived; the line total is what Amazon states exactly.
      unitPrice: Math.trunc(lineTotal / quantity),
      total: lineTotal - promotion,
      tax: itemTax,
      cancelled,
    });
  });

  const orderTotal = amazonMoney(r, order, 'OrderTotal', path, currency);
  if (orderTotal === null && !priceless) r.fail(`${path}.OrderTotal`, 'is missing');
  const createdAt = r.instant(order, 'PurchaseDate', path);
  const updatedAt = r.instant(order, 'LastUpdateDate', path);
  const platformOrderId = r.str(order, 'AmazonOrderId', path);
  r.throwIfAny('invalid Amazon order');

  const buyer = isRec(order.BuyerInfo) ? order.BuyerInfo : {};
  const address = isRec(order.ShippingAddress) ? order.ShippingAddress : null;
  const input: UnifiedOrderInput = {
    platform: 'amazon',
    account: ctx.account,
    platformOrderId,
    userId: ctx.userId,
    status: mapped ?? 'pending',
    rawStatus,
    statusUnknown: mapped === undefined,
    refundState: 'none',
    currency,
    totals: {
      subtotal: sum(charges.items),
      shipping: sum(charges.shipping),
      tax: sum(charges.tax),
      discount: sum(charges.discount),
      total: orderTotal ?? 0,
    },
    createdAt,
    updatedAt,
    marketplace,
    buyer: { platformBuyerId: null, name: text(buyer.BuyerName), email: text(buyer.BuyerEmail) },
    shippingAddress: address && {
      name: text(address.Name),
      line1: text(address.AddressLine1),
      line2: [text(address.AddressLine2), text(address.AddressLine3)].filter(Boolean).join(', ') || null,
      city: text(address.City),
      region: text(address.StateOrRegion),
      postalCode: text(address.PostalCode),
      countryCode: text(address.CountryCode),
      phone: text(address.Phone),
    },
    lines,
  };
  return parseOrder(input, `${path}(unified)`);
}

function v0Currency(
  r: PayloadReader,
  order: Rec,
  items: readonly unknown[],
  marketplace: string | null,
  path: string,
): string {
  const fromTotal = amazonCurrencyOf(order.OrderTotal);
  if (fromTotal) return r.currency(fromTotal, `${path}.OrderTotal.CurrencyCode`);
  for (const [index, item] of items.entries()) {
    const code = isRec(item) ? amazonCurrencyOf(item.ItemPrice) : null;
    if (code) return r.currency(code, `${path}.orderItems[${index}].ItemPrice.CurrencyCode`);
  }
  const byMarketplace = marketplace ? AMAZON_MARKETPLACE_CURRENCY[marketplace] : undefined;
  if (byMarketplace) return byMarketplace;
  r.fail(`${path}.OrderTotal.CurrencyCode`, 'is missing and the marketplace has no known currency');
  return 'USD';
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
