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
import { shopifyStatus } from './status.js';

/**
 * Shopify Admin REST `Order` (orders.json, orders/{id}.json) -> unified order. Pure.
 *
 * Money is a decimal string in the shop currency (`"199.00"`), sometimes a JSON number
 * (refund line subtotals); line `price` is the UNIT price. Times carry the shop's UTC offset
 * (`2008-01-10T11:00:00-05:00`) and are converted to UTC instants.
 */

export interface ShopifyMapContext extends MapContext {
  /** The shop's myshopify domain, reported as the order's marketplace. */
  shopDomain?: string | null;
}

// Fulfillment records that did not (or no longer) ship anything.
const DEAD_FULFILLMENTS = new Set(['cancelled', 'error', 'failure']);

export function mapShopifyOrder(raw: unknown, ctx: ShopifyMapContext, path = 'shopify.order'): UnifiedOrder {
  const r = new PayloadReader();
  if (!isRec(raw)) {
    r.fail(path, 'expected an order object');
    r.throwIfAny('invalid Shopify order');
  }
  const order = raw as Rec;
  const platformOrderId = r.id(order, 'id', path);
  const createdAt = r.instant(order, 'created_at', path);
  const updatedAt = r.instant(order, 'updated_at', path);
  const cancelledAt = r.optInstant(order, 'cancelled_at', path);
  // Orders without any transaction can come with no financial status: flagged, not rejected.
  const financial = r.optStr(order, 'financial_status', path) ?? 'null';
  const fulfillmentRaw = r.optStr(order, 'fulfillment_status', path) ?? 'unfulfilled';
  const status = shopifyStatus(financial, fulfillmentRaw, cancelledAt !== null);
  const currency = r.currency(order.currency, `${path}.currency`);
  const dec = (parent: Rec, key: string, base: string) => r.decimal(parent[key], currency, `${base}.${key}`);

  const fulfilled = fulfilledQuantities(r, order, path);
  const lines = r
    .array(order, 'line_items', path, true)
    .flatMap((item, index) =>
      mapLine(
        r,
        item,
        `${path}.line_items[${index}]`,
        currency,
        fulfilled.byLine,
        status.status === 'cancelled',
      ),
    );
  const totals = {
    subtotal:
      order.total_line_items_price == null
        ? sum(lines.map((line) => line.unitPrice * line.quantity))
        : dec(order, 'total_line_items_price', path),
    shipping: shippingTotal(r, order, path, currency),
    tax: order.total_tax == null ? 0 : dec(order, 'total_tax', path),
    discount: order.total_discounts == null ? 0 : Math.abs(dec(order, 'total_discounts', path)),
    total: dec(order, 'total_price', path),
    refunded: refunded(r, order, path, currency),
  };
  r.throwIfAny('invalid Shopify order');

  const customer = isRec(order.customer) ? order.customer : {};
  const address = isRec(order.shipping_address) ? order.shipping_address : null;
  const input: UnifiedOrderInput = {
    platform: 'shopify',
    account: ctx.account,
    platformOrderId,
    userId: ctx.userId,
    status: status.status,
    rawStatus: `${financial}/${fulfillmentRaw}${cancelledAt ? '/cancelled' : ''}`,
    statusUnknown: status.unknown,
    refundState: status.refundState,
    currency,
    totals,
    createdAt,
    updatedAt,
    shippedAt: fulfilled.firstAt,
    cancelledAt,
    marketplace: ctx.shopDomain ?? null,
    buyer: {
      platformBuyerId: customer.id == null ? null : String(customer.id),
      name: fullName(customer.first_name, customer.last_name),
      email: text(order.email) ?? text(customer.email),
    },
    shippingAddress: address && {
      name: text(address.name) ?? fullName(address.first_name, address.last_name),
      line1: text(address.address1),
      line2: text(address.address2),
      city: text(address.city),
      region: text(address.province_code) ?? text(address.province),
      postalCode: text(address.zip),
      countryCode: text(address.country_code),
      phone: text(address.phone),
    },
    lines,
  };
  return parseOrder(input, `${path}(unified)`);
}

export function mapShopifyPage(
  records: readonly unknown[],
  ctx: ShopifyMapContext,
  base = 'shopify.orders',
): MappedPage {
  return mapRecords(
    records,
    (raw, path) => mapShopifyOrder(raw, ctx, path),
    (index) => `${base}[${index}]`,
    (raw) => rawId(raw, 'id'),
  );
}

function mapLine(
  r: PayloadReader,
  raw: unknown,
  path: string,
  currency: string,
  shippedByLine: ReadonlyMap<string, number>,
  orderCancelled: boolean,
): UnifiedOrderInput['lines'] {
  if (!isRec(raw)) {
    r.fail(path, 'expected a line item object');
    return [];
  }
  const lineId = r.id(raw, 'id', path);
  const quantity = r.int(raw, 'quantity', path, { min: 1 });
  // `price` is the unit price; the line total is derived from it and the discounts.
  const unitPrice = r.decimal(raw.price, currency, `${path}.price`);
  const allocations = r.array(raw, 'discount_allocations', path);
  const discount =
    allocations.length > 0
      ? sum(
          allocations.map((entry, index) =>
            isRec(entry)
              ? r.decimal(entry.amount, currency, `${path}.discount_allocations[${index}].amount`)
              : 0,
          ),
        )
      : raw.total_discount == null
        ? 0
        : r.decimal(raw.total_discount, currency, `${path}.total_discount`);
  const tax = sum(
    r
      .array(raw, 'tax_lines', path)
      .map((entry, index) =>
        isRec(entry) ? r.decimal(entry.price, currency, `${path}.tax_lines[${index}].price`) : 0,
      ),
  );
  const fromFulfillments = shippedByLine.get(lineId);
  const lineStatus = r.optStr(raw, 'fulfillment_status', path);
  const shipped = Math.min(quantity, fromFulfillments ?? (lineStatus === 'fulfilled' ? quantity : 0));
  // Removed by an edit or refunded before it shipped: the line will never ship.
  const removed = raw.current_quantity === 0 && shipped === 0;
  return [
    {
      lineId,
      sku: r.optStr(raw, 'sku', path),
      listingId: r.optId(raw, 'variant_id', path),
      title: r.optStr(raw, 'title', path) ?? r.optStr(raw, 'name', path) ?? '',
      quantity,
      quantityShipped: shipped,
      unitPrice,
      total: unitPrice * quantity - Math.abs(discount),
      tax,
      cancelled: orderCancelled || removed,
    },
  ];
}

/** Units shipped per line id from the order's live fulfillments, and the first ship time. */
function fulfilledQuantities(
  r: PayloadReader,
  order: Rec,
  path: string,
): { byLine: Map<string, number>; firstAt: Instant | null } {
  const byLine = new Map<string, number>();
  const times: Instant[] = [];
  r.array(order, 'fulfillments', path).forEach((entry, index) => {
    const base = `${path}.fulfillments[${index}]`;
    if (!isRec(entry)) {
      r.fail(base, 'expected a fulfillment object');
      return;
    }
    if (typeof entry.status === 'string' && DEAD_FULFILLMENTS.has(entry.status)) return;
    const at = r.optInstant(entry, 'created_at', base);
    if (at) times.push(at);
    r.array(entry, 'line_items', base).forEach((line, lineIndex) => {
      if (!isRec(line)) return;
      const lineBase = `${base}.line_items[${lineIndex}]`;
      const id = r.id(line, 'id', lineBase);
      byLine.set(id, (byLine.get(id) ?? 0) + r.int(line, 'quantity', lineBase, { min: 0 }));
    });
  });
  return { byLine, firstAt: times.length > 0 ? times.sort()[0]! : null };
}

function shippingTotal(r: PayloadReader, order: Rec, path: string, currency: string): number {
  const set = isRec(order.total_shipping_price_set) ? order.total_shipping_price_set : null;
  if (set && isRec(set.shop_money)) {
    return shopMoney(r, set.shop_money, `${path}.total_shipping_price_set.shop_money`, currency);
  }
  return sum(
    r
      .array(order, 'shipping_lines', path)
      .map((line, index) =>
        isRec(line) ? r.decimal(line.price, currency, `${path}.shipping_lines[${index}].price`) : 0,
      ),
  );
}

// Successful refund transactions, in the shop currency. A transaction in another currency with
// no shop-money amount cannot be summed honestly, so it is reported rather than converted.
function refunded(r: PayloadReader, order: Rec, path: string, currency: string): number {
  const amounts: number[] = [];
  r.array(order, 'refunds', path).forEach((refund, index) => {
    const base = `${path}.refunds[${index}]`;
    if (!isRec(refund)) {
      r.fail(base, 'expected a refund object');
      return;
    }
    r.array(refund, 'transactions', base).forEach((transaction, txIndex) => {
      const txBase = `${base}.transactions[${txIndex}]`;
      if (!isRec(transaction) || transaction.kind !== 'refund' || transaction.status !== 'success') return;
      const set = isRec(transaction.amount_set) ? transaction.amount_set : null;
      if (set && isRec(set.shop_money)) {
        amounts.push(shopMoney(r, set.shop_money, `${txBase}.amount_set.shop_money`, currency));
        return;
      }
      if (transaction.currency != null && transaction.currency !== currency) {
        r.fail(
          `${txBase}.currency`,
          `"${String(transaction.currency)}" differs from the shop currency ${currency}`,
        );
        return;
      }
      amounts.push(r.decimal(transaction.amount, currency, `${txBase}.amount`));
    });
  });
  return sum(amounts);
}

function shopMoney(r: PayloadReader, money: Rec, path: string, currency: string): number {
  if (money.currency_code !== currency) {
    r.fail(
      `${path}.currency_code`,
      `"${String(money.currency_code)}" differs from the shop currency ${currency}`,
    );
    return 0;
  }
  return r.decimal(money.amount, currency, `${path}.amount`);
}

function fullName(first: unknown, last: unknown): string | null {
  return [text(first), text(last)].filter(Boolean).join(' ') || null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
