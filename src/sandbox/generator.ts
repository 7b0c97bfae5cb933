import type { AccountProfile } from './accounts.js';
import { CATALOGUE, priceIn, shippingIn, taxBasisPoints } from './catalogue.js';
import { orderIdFor, trackingNumber } from './ids.js';
import {
  isFullyShipped,
  isTerminal,
  type LineSpec,
  type OrderVersion,
  type SimOrder,
  type Transition,
  unitsOrdered,
  unitsShipped,
} from './model.js';
import { type Rng, weights } from './rng.js';

/**
 * Seeded order generation and the update state machine. Everything random comes from the
 * account's Rng, so a seed reproduces the same orders and the same sequence of updates.
 */
export type { Transition } from './model.js';

/** Update-time precision per platform: Shopify and Amazon print whole seconds, eBay ms. */
export function timeResolutionMs(profile: AccountProfile): number {
  return profile.platform === 'ebay' ? 1 : 1000;
}

export function roundTime(profile: AccountProfile, ms: number): number {
  const step = timeResolutionMs(profile);
  return Math.floor(ms / step) * step;
}

// Share of new orders that start unpaid: Amazon orders start Pending and turn Unshipped later;
// eBay's Fulfillment API mostly sees orders after checkout; Shopify captures most at once.
const START_PENDING: Record<AccountProfile['platform'], number> = { amazon: 0.6, ebay: 0.1, shopify: 0.2 };
const CARRIERS = ['UPS', 'USPS', 'FedEx', 'DHL'];
const LINE_COUNT = weights([
  [1, 60],
  [2, 28],
  [3, 12],
] as const);
const QUANTITY = weights([
  [1, 70],
  [2, 20],
  [3, 10],
] as const);
const T = (entries: readonly (readonly [Transition, number])[]) => weights(entries);
const WHEN_PENDING = T([
  ['pay', 80],
  ['cancel', 12],
  ['edit', 8],
]);
const WHEN_CANCEL_REQUESTED = T([
  ['cancel', 85],
  ['edit', 15],
]);
const WHEN_PAID = T([
  ['ship', 55],
  ['ship_partial', 20],
  ['request_cancel', 6],
  ['cancel', 4],
  ['edit', 15],
]);
const WHEN_PAID_SINGLE_UNIT = T([
  ['ship', 55],
  ['request_cancel', 6],
  ['cancel', 4],
  ['edit', 15],
]);
const WHEN_PARTLY_SHIPPED = T([
  ['ship', 80],
  ['edit', 20],
]);
const WHEN_SHIPPED_PART_REFUNDED = T([
  ['close', 50],
  ['refund_full', 10],
  ['edit', 40],
]);
const WHEN_SHIPPED = T([
  ['close', 35],
  ['refund_partial', 10],
  ['refund_full', 5],
  ['edit', 50],
]);

/** A new order as created at `createdAt` (already rounded), with its first version. */
export function createOrder(
  profile: AccountProfile,
  rng: Rng,
  seq: number,
  createdAt: number,
): { order: SimOrder; first: OrderVersion } {
  const lineCount = rng.weighted(LINE_COUNT);
  const products: number[] = [];
  while (products.length < lineCount) {
    const product = rng.int(0, CATALOGUE.length - 1);
    if (!products.includes(product)) products.push(product);
  }
  const taxRate = taxBasisPoints(profile.countryCode);
  const lines: LineSpec[] = products.map((product) => {
    const quantity = rng.weighted(QUANTITY);
    const unitPrice = priceIn(CATALOGUE[product]!, profile.currency);
    return {
      product,
      quantity: quantity,
      unitPrice,
      tax: Math.round((unitPrice * quantity * taxRate) / 10_000),
    };
  });
  const subtotal = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  const tax = lines.reduce((sum, line) => sum + line.tax, 0);
  const shipping = shippingIn(profile.currency, rng.int(0, 2));
  const pending = rng.chance(START_PENDING[profile.platform]);
  const order: SimOrder = {
    seq,
    id: orderIdFor(profile, seq),
    createdAt,
    currency: profile.currency,
    preorder: profile.platform === 'amazon' && pending && rng.chance(0.05),
    lines,
    shipping,
    subtotal,
    tax,
    total: subtotal + tax + shipping,
    buyer: rng.int(1, 2 ** 30),
    visible: null,
    pending: null,
  };
  const first: OrderVersion = {
    version: 1,
    updatedAt: createdAt,
    payment: pending ? 'pending' : 'paid',
    paidAt: pending ? null : createdAt,
    shipped: order.lines.map(() => 0),
    shipments: [],
    refunds: [],
    refunded: 0,
    cancelRequestedAt: null,
    cancelledAt: null,
    closedAt: null,
    edits: 0,
  };
  return { order, first };
}

/** The next thing that happens to an order, or null when it is final. */
export function chooseTransition(order: SimOrder, version: OrderVersion, rng: Rng): Transition | null {
  if (isTerminal(version)) return null;
  if (version.payment === 'pending') return rng.weighted(WHEN_PENDING);
  if (version.cancelRequestedAt !== null) return rng.weighted(WHEN_CANCEL_REQUESTED);
  if (unitsShipped(version) === 0)
    return rng.weighted(unitsOrdered(order) > 1 ? WHEN_PAID : WHEN_PAID_SINGLE_UNIT);
  if (!isFullyShipped(order, version)) return rng.weighted(WHEN_PARTLY_SHIPPED);
  return rng.weighted(version.payment === 'partially_refunded' ? WHEN_SHIPPED_PART_REFUNDED : WHEN_SHIPPED);
}

/** Applies a transition at `at` (rounded by the caller), returning the new version. */
export function applyTransition(
  order: SimOrder,
  previous: OrderVersion,
  transition: Transition,
  at: number,
  rng: Rng,
): OrderVersion {
  const next: OrderVersion = {
    ...previous,
    version: previous.version + 1,
    updatedAt: at,
    shipped: [...previous.shipped],
  };
  switch (transition) {
    case 'pay':
      next.payment = 'paid';
      next.paidAt = at;
      break;
    case 'ship':
    case 'ship_partial': {
      const units = order.lines.map((line, index) => line.quantity - (next.shipped[index] ?? 0));
      if (transition === 'ship_partial') splitShipment(units);
      const seed = order.seq * 10 + previous.shipments.length + rng.int(0, 9);
      return withShipment(
        order,
        previous,
        { units, carrier: rng.pick(CARRIERS), tracking: trackingNumber(seed), at },
        at,
      );
    }
    case 'request_cancel':
      next.cancelRequestedAt = at;
      break;
    case 'cancel':
      next.cancelRequestedAt ??= at;
      next.cancelledAt = at;
      if (previous.payment === 'pending') next.payment = 'voided';
      else refund(order, next, order.total - previous.refunded, at);
      break;
    case 'refund_partial':
      refund(order, next, Math.min(order.lines[0]!.unitPrice, order.total - previous.refunded), at);
      break;
    case 'refund_full':
      refund(order, next, order.total - previous.refunded, at);
      break;
    case 'close':
      next.closedAt = at;
      break;
    case 'edit':
      next.edits = previous.edits + 1;
      break;
  }
  return next;
}

/**
 * The version after a shipment of `units` (per line), whether the state machine or an API client
 * (Shopify fulfillments, Amazon confirmShipment, eBay shipping_fulfillment) made it.
 */
export function withShipment(
  order: SimOrder,
  previous: OrderVersion,
  shipment: { units: number[]; carrier: string; tracking: string; at: number; reference?: string },
  updatedAt: number,
): OrderVersion {
  return {
    ...previous,
    version: previous.version + 1,
    updatedAt: Math.max(updatedAt, previous.updatedAt),
    shipped: previous.shipped.map((shipped, index) => shipped + (shipment.units[index] ?? 0)),
    shipments: [...previous.shipments, { id: order.seq * 10 + previous.shipments.length + 1, ...shipment }],
  };
}

function refund(order: SimOrder, next: OrderVersion, amount: number, at: number): void {
  next.refunds = [...next.refunds, { id: order.seq * 10 + next.refunds.length + 1, at, amount }];
  next.refunded += amount;
  next.payment = next.refunded >= order.total ? 'refunded' : 'partially_refunded';
}

// Ships the first line that has units left; if that is everything, only half of it.
function splitShipment(units: number[]): void {
  const first = units.findIndex((count) => count > 0);
  const others = units.some((count, index) => index !== first && count > 0);
  for (let index = 0; index < units.length; index++) {
    if (index !== first) units[index] = 0;
  }
  if (!others) units[first] = Math.max(1, Math.floor(units[first]! / 2));
}
