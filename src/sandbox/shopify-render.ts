import { formatMoney } from '../core/money.js';
import type { AccountProfile } from './accounts.js';
import { CATALOGUE, personFor } from './catalogue.js';
import { lineIdFor, shopifyOrderNumber, shopifyProductIds } from './ids.js';
import { isFullyShipped, type OrderVersion, type SimOrder, unitsShipped } from './model.js';
import type { Rng } from './rng.js';
import { zonedIso } from './zoned-time.js';

/**
 * Shopify REST Admin `Order` payloads (field names as in Shopify/shopify-api-js
 * rest/admin/2024-01/order.ts): ids are int64 JSON numbers, money is decimal strings plus
 * `*_set` {shop_money, presentment_money}, times carry the shop's UTC offset with whole seconds.
 */
type Json = Record<string, unknown>;

// Fulfillment orders are derived from their order: one per order, id = order id + this.
export const FULFILLMENT_ORDER_OFFSET = 4_000_000_000_000;

export function money(amount: number, currency: string): string {
  return formatMoney({ amount, currency });
}

function moneySet(amount: number, currency: string): Json {
  const value = { amount: money(amount, currency), currency_code: currency };
  return { shop_money: value, presentment_money: { ...value } };
}

export function financialStatus(version: OrderVersion): string {
  return version.payment;
}

export function fulfillmentStatus(order: SimOrder, version: OrderVersion): string | null {
  if (unitsShipped(version) === 0) return null;
  return isFullyShipped(order, version) ? 'fulfilled' : 'partial';
}

/** Status of the order's one fulfillment order. */
export function fulfillmentOrderStatus(order: SimOrder, version: OrderVersion): string {
  if (version.cancelledAt !== null) return 'cancelled';
  if (isFullyShipped(order, version)) return 'closed';
  return unitsShipped(version) > 0 ? 'in_progress' : 'open';
}

export function renderShopifyOrder(profile: AccountProfile, order: SimOrder, version: OrderVersion): Json {
  const zone = profile.timeZone!;
  const time = (ms: number | null) => (ms === null ? null : zonedIso(ms, zone));
  const { currency } = order;
  const cancelled = version.cancelledAt !== null;
  const voidedLines = cancelled || version.payment === 'refunded';
  const number = shopifyOrderNumber(order.seq);
  const person = personFor(order.buyer, profile.countryCode);
  const current = voidedLines ? 0 : order.total - version.refunded;
  const address = {
    first_name: person.firstName,
    last_name: person.lastName,
    name: person.name,
    company: null,
    address1: person.address1,
    address2: person.address2,
    city: person.city,
    province: person.region,
    province_code: person.regionCode,
    zip: person.postalCode,
    country: person.country,
    country_code: person.countryCode,
    phone: person.phone,
  };
  return {
    id: Number(order.id),
    admin_graphql_api_id: `gid://shopify/Order/${order.id}`,
    name: `#${number}`,
    order_number: number,
    number: order.seq,
    confirmation_number: `SBX${order.seq.toString(36).toUpperCase().padStart(6, '0')}`,
    email: person.email,
    contact_email: person.email,
    phone: null,
    created_at: time(order.createdAt),
    updated_at: time(version.updatedAt),
    processed_at: time(order.createdAt),
    cancelled_at: time(version.cancelledAt),
    cancel_reason: cancelled ? 'customer' : null,
    closed_at: time(version.closedAt ?? (cancelled ? version.cancelledAt : null)),
    currency,
    presentment_currency: currency,
    financial_status: financialStatus(version),
    fulfillment_status: fulfillmentStatus(order, version),
    confirmed: true,
    test: false,
    taxes_included: false,
    source_name: 'web',
    tags: version.edits > 0 ? `edited-${version.edits}` : '',
    note: null,
    total_line_items_price: money(order.subtotal, currency),
    subtotal_price: money(order.subtotal, currency),
    total_tax: money(order.tax, currency),
    total_discounts: money(0, currency),
    total_price: money(order.total, currency),
    total_outstanding: money(version.payment === 'pending' ? order.total : 0, currency),
    current_subtotal_price: money(voidedLines ? 0 : order.subtotal, currency),
    current_total_tax: money(voidedLines ? 0 : order.tax, currency),
    current_total_discounts: money(0, currency),
    current_total_price: money(current, currency),
    total_line_items_price_set: moneySet(order.subtotal, currency),
    subtotal_price_set: moneySet(order.subtotal, currency),
    total_tax_set: moneySet(order.tax, currency),
    total_discounts_set: moneySet(0, currency),
    total_shipping_price_set: moneySet(order.shipping, currency),
    total_price_set: moneySet(order.total, currency),
    current_total_price_set: moneySet(current, currency),
    total_weight: order.lines.reduce((sum, line) => sum + CATALOGUE[line.product]!.grams * line.quantity, 0),
    line_items: order.lines.map((line, index) => {
      const product = CATALOGUE[line.product]!;
      const ids = shopifyProductIds(profile, line.product);
      const shipped = version.shipped[index] ?? 0;
      const lineId = lineIdFor(profile, order.seq, index);
      return {
        id: Number(lineId),
        admin_graphql_api_id: `gid://shopify/LineItem/${lineId}`,
        variant_id: ids.variantId,
        product_id: ids.productId,
        sku: product.sku,
        title: product.title,
        name: product.title,
        variant_title: null,
        vendor: 'Sandbox Goods',
        quantity: line.quantity,
        current_quantity: voidedLines ? 0 : line.quantity,
        price: money(line.unitPrice, currency),
        price_set: moneySet(line.unitPrice, currency),
        total_discount: money(0, currency),
        fulfillable_quantity: voidedLines ? 0 : line.quantity - shipped,
        fulfillment_status: shipped === 0 ? null : shipped >= line.quantity ? 'fulfilled' : 'partial',
        fulfillment_service: 'manual',
        requires_shipping: true,
        taxable: true,
        gift_card: false,
        grams: product.grams,
        tax_lines:
          line.tax > 0
            ? [
                {
                  title: 'Sales Tax',
                  rate: 0.0825,
                  price: money(line.tax, currency),
                  price_set: moneySet(line.tax, currency),
                },
              ]
            : [],
        discount_allocations: [],
      };
    }),
    shipping_lines: [
      {
        id: Number(order.id) + 1,
        title: 'Standard Shipping',
        code: 'STANDARD',
        source: 'shopify',
        price: money(order.shipping, currency),
        price_set: moneySet(order.shipping, currency),
        discounted_price: money(order.shipping, currency),
      },
    ],
    customer: {
      id: 7_000_000_000_000 + (order.buyer % 1_000_000_000),
      admin_graphql_api_id: `gid://shopify/Customer/${7_000_000_000_000 + (order.buyer % 1_000_000_000)}`,
      email: person.email,
      first_name: person.firstName,
      last_name: person.lastName,
      phone: null,
      state: 'enabled',
      currency,
      created_at: time(order.createdAt),
      updated_at: time(order.createdAt),
    },
    billing_address: address,
    shipping_address: address,
    fulfillments: version.shipments.map((shipment) => renderFulfillment(profile, order, shipment, zone)),
    refunds: version.refunds.map((refund) => ({
      id: 9_500_000_000_000 + refund.id,
      admin_graphql_api_id: `gid://shopify/Refund/${9_500_000_000_000 + refund.id}`,
      order_id: Number(order.id),
      created_at: time(refund.at),
      processed_at: time(refund.at),
      note: null,
      restock: false,
      refund_line_items: [],
      order_adjustments: [],
      transactions: [
        {
          id: 9_600_000_000_000 + refund.id,
          order_id: Number(order.id),
          kind: 'refund',
          gateway: 'manual',
          status: 'success',
          amount: money(refund.amount, currency),
          currency,
          created_at: time(refund.at),
          processed_at: time(refund.at),
        },
      ],
    })),
  };
}

export function renderFulfillment(
  profile: AccountProfile,
  order: SimOrder,
  shipment: OrderVersion['shipments'][number],
  zone: string,
): Json {
  const id = 5_500_000_000_000 + shipment.id;
  return {
    id,
    admin_graphql_api_id: `gid://shopify/Fulfillment/${id}`,
    order_id: Number(order.id),
    name: `#${shopifyOrderNumber(order.seq)}.${shipment.id % 10}`,
    status: 'success',
    service: 'manual',
    shipment_status: null,
    location_id: profile.locationId,
    tracking_company: shipment.carrier,
    tracking_number: shipment.tracking,
    tracking_numbers: [shipment.tracking],
    tracking_url: `https://track.example.com/${shipment.tracking}`,
    tracking_urls: [`https://track.example.com/${shipment.tracking}`],
    created_at: zonedIso(shipment.at, zone),
    updated_at: zonedIso(shipment.at, zone),
    line_items: shipment.units.flatMap((units, index) =>
      units > 0
        ? [
            {
              id: Number(lineIdFor(profile, order.seq, index)),
              quantity: units,
              sku: CATALOGUE[order.lines[index]!.product]!.sku,
            },
          ]
        : [],
    ),
  };
}

/** The malformed fault: one field a mapper must reject, named by its path. */
export function breakShopifyRecord(record: Json, rng: Rng): string {
  const lines = record.line_items as Json[];
  switch (rng.int(0, 4)) {
    case 0:
      delete record.id;
      return 'id';
    case 1:
      record.currency = 'DOLLARS';
      return 'currency';
    case 2:
      record.updated_at = '2026-02-30T25:61:00-04:00';
      return 'updated_at';
    case 3:
      lines[0]!.price = '12,99';
      return 'line_items[0].price';
    default:
      record.total_price = 'NaN';
      return 'total_price';
  }
}
