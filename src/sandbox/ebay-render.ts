import { formatMoney } from '../core/money.js';
import type { AccountProfile } from './accounts.js';
import { CATALOGUE, personFor } from './catalogue.js';
import { ebayLegacyItemId, lineIdFor } from './ids.js';
import { isFullyShipped, type OrderVersion, type SimOrder, unitsShipped } from './model.js';
import type { Rng } from './rng.js';

/**
 * eBay Sell Fulfillment v1 `Order` payloads (components in
 * ../shared/reference/ebay/sell_fulfillment_v1_oas3.json): money `{value, currency}` with a
 * decimal-string value, times `YYYY-MM-DDThh:mm:ss.sssZ`. getOrders leaves
 * `cancelStatus.cancelRequests` empty; getOrder fills it.
 */
type Json = Record<string, unknown>;

export function ebayTime(ms: number): string {
  return new Date(ms).toISOString();
}

function amount(value: number, currency: string): Json {
  return { value: formatMoney({ amount: value, currency }), currency };
}

export function paymentStatus(version: OrderVersion): string {
  switch (version.payment) {
    case 'paid':
      return 'PAID';
    case 'partially_refunded':
      return 'PARTIALLY_REFUNDED';
    case 'refunded':
      return 'FULLY_REFUNDED';
    default:
      return 'PENDING';
  }
}

export function fulfillmentStatus(order: SimOrder, version: OrderVersion): string {
  if (unitsShipped(version) === 0) return 'NOT_STARTED';
  return isFullyShipped(order, version) ? 'FULFILLED' : 'IN_PROGRESS';
}

export function cancelState(version: OrderVersion): string {
  if (version.cancelledAt !== null) return 'CANCELED';
  return version.cancelRequestedAt !== null ? 'IN_PROGRESS' : 'NONE_REQUESTED';
}

export function fulfillmentId(shipmentId: number): string {
  return `94055${String(shipmentId).padStart(17, '0')}`;
}

export function renderEbayOrder(
  profile: AccountProfile,
  order: SimOrder,
  version: OrderVersion,
  options: { detail: boolean; origin: string },
): Json {
  const { currency } = order;
  const person = personFor(order.buyer, profile.countryCode);
  const marketplace = profile.marketplaceId!;
  const cancelRequests =
    options.detail && version.cancelRequestedAt !== null
      ? [
          {
            cancelRequestId: `5${String(order.seq).padStart(9, '0')}`,
            cancelInitiator: 'Buyer',
            cancelReason: 'Order placed by mistake',
            cancelRequestedDate: ebayTime(version.cancelRequestedAt),
            cancelRequestState: version.cancelledAt !== null ? 'COMPLETED' : 'REQUESTED',
            ...(version.cancelledAt !== null ? { cancelCompletedDate: ebayTime(version.cancelledAt) } : {}),
          },
        ]
      : [];
  const shipBy = order.createdAt + 3 * 86_400_000;
  return {
    orderId: order.id,
    creationDate: ebayTime(order.createdAt),
    lastModifiedDate: ebayTime(version.updatedAt),
    orderFulfillmentStatus: fulfillmentStatus(order, version),
    orderPaymentStatus: paymentStatus(version),
    sellerId: `sandbox_${profile.account.replace(/-/g, '_')}`,
    buyer: {
      username: person.username,
      taxAddress: {
        stateOrProvince: person.regionCode,
        postalCode: person.postalCode,
        countryCode: person.countryCode,
      },
    },
    pricingSummary: {
      priceSubtotal: amount(order.subtotal, currency),
      deliveryCost: amount(order.shipping, currency),
      ...(order.tax > 0 ? { tax: amount(order.tax, currency) } : {}),
      total: amount(order.total, currency),
    },
    cancelStatus: {
      cancelState: cancelState(version),
      cancelRequests,
      ...(version.cancelledAt !== null ? { cancelledDate: ebayTime(version.cancelledAt) } : {}),
    },
    paymentSummary: {
      payments: [
        {
          paymentMethod: 'EBAY',
          paymentReferenceId: `PAY${order.id.replace(/-/g, '')}`,
          ...(version.paidAt !== null ? { paymentDate: ebayTime(version.paidAt) } : {}),
          amount: amount(order.total, currency),
          paymentStatus: version.payment === 'pending' || version.payment === 'voided' ? 'PENDING' : 'PAID',
        },
      ],
      refunds: version.refunds.map((refund) => ({
        refundId: `R${refund.id}`,
        refundStatus: 'REFUNDED',
        amount: amount(refund.amount, currency),
        refundDate: ebayTime(refund.at),
        refundReferenceId: `RR${refund.id}`,
      })),
      totalDueSeller: amount(order.total - version.refunded, currency),
    },
    fulfillmentStartInstructions: [
      {
        fulfillmentInstructionsType: 'SHIP_TO',
        minEstimatedDeliveryDate: ebayTime(shipBy + 86_400_000),
        maxEstimatedDeliveryDate: ebayTime(shipBy + 5 * 86_400_000),
        ebaySupportedFulfillment: false,
        shippingStep: {
          shippingCarrierCode: 'USPS',
          shippingServiceCode: 'USPSPriority',
          shipTo: {
            fullName: person.name,
            contactAddress: {
              addressLine1: person.address1,
              ...(person.address2 ? { addressLine2: person.address2 } : {}),
              city: person.city,
              stateOrProvince: person.regionCode,
              postalCode: person.postalCode,
              countryCode: person.countryCode,
            },
            primaryPhone: { phoneNumber: person.phone },
            email: person.email,
          },
        },
      },
    ],
    fulfillmentHrefs: version.shipments.map(
      (shipment) =>
        `${options.origin}/sell/fulfillment/v1/order/${order.id}/shipping_fulfillment/${fulfillmentId(shipment.id)}`,
    ),
    lineItems: order.lines.map((line, index) => {
      const product = CATALOGUE[line.product]!;
      const cost = line.unitPrice * line.quantity;
      const shipping = index === 0 ? order.shipping : 0;
      const shipped = version.shipped[index] ?? 0;
      return {
        lineItemId: lineIdFor(profile, order.seq, index),
        legacyItemId: ebayLegacyItemId(profile, line.product),
        sku: product.sku,
        title: product.title,
        lineItemCost: amount(cost, currency),
        quantity: line.quantity,
        soldFormat: 'FIXED_PRICE',
        listingMarketplaceId: marketplace,
        purchaseMarketplaceId: marketplace,
        lineItemFulfillmentStatus:
          shipped === 0 ? 'NOT_STARTED' : shipped >= line.quantity ? 'FULFILLED' : 'IN_PROGRESS',
        total: amount(cost + shipping + line.tax, currency),
        deliveryCost: { shippingCost: amount(shipping, currency) },
        appliedPromotions: [],
        taxes: line.tax > 0 ? [{ amount: amount(line.tax, currency) }] : [],
        properties: { buyerProtection: true },
        lineItemFulfillmentInstructions: {
          guaranteedDelivery: false,
          shipByDate: ebayTime(shipBy),
          minEstimatedDeliveryDate: ebayTime(shipBy + 86_400_000),
          maxEstimatedDeliveryDate: ebayTime(shipBy + 5 * 86_400_000),
        },
        refunds: [],
        itemLocation: {
          location: 'Sandbox Warehouse',
          countryCode: profile.countryCode,
          postalCode: '00000',
        },
      };
    }),
    salesRecordReference: String(order.seq),
    totalFeeBasisAmount: amount(order.total, currency),
    totalMarketplaceFee: amount(Math.round(order.total * 0.13), currency),
  };
}

/** The malformed fault: one field a mapper must reject, named by its path. */
export function breakEbayRecord(record: Json, rng: Rng): string {
  const pricing = record.pricingSummary as Json;
  const items = record.lineItems as Json[];
  switch (rng.int(0, 3)) {
    case 0:
      delete record.orderId;
      return 'orderId';
    case 1:
      record.lastModifiedDate = '2026-02-30T25:00:00.000Z';
      return 'lastModifiedDate';
    case 2:
      delete (pricing.total as Json).currency;
      return 'pricingSummary.total.currency';
    default:
      (items[0]!.lineItemCost as Json).value = 'twelve';
      return 'lineItems[0].lineItemCost.value';
  }
}
