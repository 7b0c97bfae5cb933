import { formatMoney } from '../core/money.js';
import type { AccountProfile } from './accounts.js';
import { CATALOGUE, personFor } from './catalogue.js';
import { asinFor, lineIdFor } from './ids.js';
import { isFullyShipped, type OrderVersion, type SimOrder, unitsShipped } from './model.js';
import type { Rng } from './rng.js';

/**
 * SP-API Orders 2026-01-01 `Order` payloads (definitions in
 * ../shared/reference/amazon/orders_2026-01-01.json): camelCase, money `{amount, currencyCode}`
 * with a decimal-string amount, times ISO-8601 UTC with whole seconds. Datasets beyond the core
 * fields appear only when asked for through `includedData` — order status itself lives in
 * `fulfillment`, so a client that wants it must ask for FULFILLMENT.
 */
type Json = Record<string, unknown>;

export const INCLUDED_DATA = [
  'BUYER',
  'RECIPIENT',
  'PROCEEDS',
  'EXPENSE',
  'PROMOTION',
  'CANCELLATION',
  'FULFILLMENT',
  'PACKAGES',
  'TAX',
  'PAYMENT',
  'FULFILLMENT_ORDERS',
] as const;

export const FULFILLMENT_STATUSES = [
  'PENDING_AVAILABILITY',
  'PENDING',
  'UNSHIPPED',
  'PARTIALLY_SHIPPED',
  'SHIPPED',
  'CANCELLED',
  'UNFULFILLABLE',
] as const;

export function amazonTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function amazonStatus(order: SimOrder, version: OrderVersion): string {
  if (version.cancelledAt !== null) return 'CANCELLED';
  if (version.payment === 'pending') return order.preorder ? 'PENDING_AVAILABILITY' : 'PENDING';
  if (unitsShipped(version) === 0) return 'UNSHIPPED';
  return isFullyShipped(order, version) ? 'SHIPPED' : 'PARTIALLY_SHIPPED';
}

function money(amount: number, currency: string): Json {
  return { amount: formatMoney({ amount, currency }), currencyCode: currency };
}

export function renderAmazonOrder(
  profile: AccountProfile,
  order: SimOrder,
  version: OrderVersion,
  included: ReadonlySet<string>,
): Json {
  const status = amazonStatus(order, version);
  // Like Orders v0 documents: no pricing while an order is pending.
  const priced = status !== 'PENDING' && status !== 'PENDING_AVAILABILITY';
  const { currency } = order;
  const person = personFor(order.buyer, profile.countryCode);
  const record: Json = {
    orderId: order.id,
    orderAliases: [{ aliasId: `SBX-${profile.index}-${order.seq}`, aliasType: 'SELLER_ORDER_ID' }],
    createdTime: amazonTime(order.createdAt),
    lastUpdatedTime: amazonTime(version.updatedAt),
    programs: order.buyer % 3 === 0 ? ['PRIME'] : [],
    salesChannel: {
      channelName: 'AMAZON',
      marketplaceId: profile.marketplaceId,
      marketplaceName: profile.marketplaceName,
    },
  };
  if (included.has('BUYER')) {
    record.buyer = { buyerName: person.name, buyerEmail: `${person.username}@marketplace.amazon.com` };
  }
  if (included.has('RECIPIENT') && ['UNSHIPPED', 'PARTIALLY_SHIPPED', 'SHIPPED'].includes(status)) {
    record.recipient = {
      deliveryAddress: {
        name: person.name,
        addressLine1: person.address1,
        ...(person.address2 ? { addressLine2: person.address2 } : {}),
        city: person.city,
        stateOrRegion: person.regionCode,
        postalCode: person.postalCode,
        countryCode: person.countryCode,
        phone: person.phone,
        addressType: 'RESIDENTIAL',
      },
    };
  }
  if (included.has('PROCEEDS') && priced) {
    record.proceeds = {
      grandTotal: money(order.total, currency),
      breakdowns: [
        { type: 'ITEM', subtotal: money(order.subtotal, currency) },
        { type: 'SHIPPING', subtotal: money(order.shipping, currency) },
        { type: 'TAX', subtotal: money(order.tax, currency) },
      ],
    };
  }
  if (included.has('FULFILLMENT')) {
    record.fulfillment = {
      fulfillmentStatus: status,
      fulfilledBy: 'MERCHANT',
      fulfillmentServiceLevel: 'STANDARD',
      shipByWindow: {
        earliestDateTime: amazonTime(order.createdAt),
        latestDateTime: amazonTime(order.createdAt + 2 * 86_400_000),
      },
    };
  }
  record.orderItems = order.lines.map((line, index) => {
    const product = CATALOGUE[line.product]!;
    const item: Json = {
      orderItemId: lineIdFor(profile, order.seq, index),
      quantityOrdered: line.quantity,
      programs: [],
      product: {
        asin: asinFor(line.product),
        title: product.title,
        sellerSku: product.sku,
        condition: { conditionType: 'NEW', conditionSubtype: 'NEW' },
        ...(priced ? { price: { unitPrice: money(line.unitPrice, currency) } } : {}),
      },
    };
    if (included.has('PROCEEDS') && priced) {
      const shipping = index === 0 ? order.shipping : 0;
      const itemTotal = line.unitPrice * line.quantity;
      item.proceeds = {
        proceedsTotal: money(itemTotal + line.tax + shipping, currency),
        breakdowns: [
          { type: 'ITEM', subtotal: money(itemTotal, currency) },
          ...(shipping > 0 ? [{ type: 'SHIPPING', subtotal: money(shipping, currency) }] : []),
          ...(line.tax > 0 ? [{ type: 'TAX', subtotal: money(line.tax, currency) }] : []),
        ],
      };
    }
    if (included.has('FULFILLMENT')) {
      const shipped = version.shipped[index] ?? 0;
      item.fulfillment = {
        quantityFulfilled: shipped,
        quantityUnfulfilled: version.cancelledAt === null ? line.quantity - shipped : 0,
      };
    }
    if (included.has('CANCELLATION') && version.cancelledAt !== null) {
      item.cancellation = {
        cancellationRequest: { requester: 'BUYER', cancelReason: 'Changed mind about purchase' },
        cancellationExecution: { cancelledBy: 'MERCHANT', cancelReason: 'Buyer requested cancellation' },
      };
    }
    return item;
  });
  if (included.has('PACKAGES') && version.shipments.length > 0) {
    record.packages = version.shipments.map((shipment) => ({
      packageReferenceId: shipment.reference ?? `PKG-${shipment.id}`,
      createdTime: amazonTime(shipment.at),
      packageStatus: { status: 'SHIPPED', detailedStatus: 'SHIPPED' },
      carrier: shipment.carrier,
      shipTime: amazonTime(shipment.at),
      shippingService: `${shipment.carrier} Ground`,
      trackingNumber: shipment.tracking,
      packageItems: shipment.units.flatMap((quantity, index) =>
        quantity > 0 ? [{ orderItemId: lineIdFor(profile, order.seq, index), quantity }] : [],
      ),
    }));
  }
  return record;
}

/** The malformed fault: one field a mapper must reject, named by its path. */
export function breakAmazonRecord(record: Json, rng: Rng): string {
  const items = record.orderItems as Json[];
  const product = items[0]!.product as Json;
  const price = product.price as Json | undefined;
  switch (rng.int(0, 3)) {
    case 0:
      delete record.orderId;
      return 'orderId';
    case 1:
      record.lastUpdatedTime = '2026-13-45T99:00:00Z';
      return 'lastUpdatedTime';
    case 2:
      if (price) {
        delete (price.unitPrice as Json).currencyCode;
        return 'orderItems[0].product.price.unitPrice.currencyCode';
      }
      record.createdTime = 'yesterday';
      return 'createdTime';
    default:
      items[0]!.quantityOrdered = 'two';
      return 'orderItems[0].quantityOrdered';
  }
}
