/**
 * The sandbox's own order model, shared by every platform: what happened to an order (paid,
 * shipped in which parts, cancelled, refunded), independent of how a platform spells it. Each
 * platform renders it into its payload shape on every response.
 *
 * An order's history is a chain of immutable versions. `visible` is the version list queries
 * see; `pending` is a newer one that becomes visible at `visibleAt` (a late update: when it
 * shows up, its update time is already in the past).
 */
/** What can happen to an order next (see generator.ts for when each applies). */
export type Transition =
  | 'pay'
  | 'ship'
  | 'ship_partial'
  | 'request_cancel'
  | 'cancel'
  | 'refund_partial'
  | 'refund_full'
  | 'close'
  | 'edit';

export type PaymentState = 'pending' | 'paid' | 'partially_refunded' | 'refunded' | 'voided';

export interface LineSpec {
  /** Catalogue index of the product. */
  product: number;
  quantity: number;
  /** Unit price in minor units. */
  unitPrice: number;
  /** Tax on the whole line, in minor units. */
  tax: number;
}

export interface Shipment {
  id: number;
  at: number;
  carrier: string;
  tracking: string;
  /** Units shipped per line index. */
  units: number[];
  /** The client's own package reference (Amazon packageReferenceId), when it sent one. */
  reference?: string;
}

export interface Refund {
  id: number;
  at: number;
  amount: number;
}

export interface OrderVersion {
  version: number;
  /** The platform's "last updated" time of this version, ms (rounded to the platform's precision). */
  updatedAt: number;
  payment: PaymentState;
  paidAt: number | null;
  /** Units shipped per line index. */
  shipped: number[];
  shipments: Shipment[];
  refunds: Refund[];
  refunded: number;
  cancelRequestedAt: number | null;
  cancelledAt: number | null;
  /** Archived (Shopify closed_at); no further changes. */
  closedAt: number | null;
  /** Count of edits that change nothing a mapper reads (notes, tags). */
  edits: number;
}

export interface SimOrder {
  /** 1-based creation sequence within its account. */
  seq: number;
  /** The platform's order id as it appears in payloads (Shopify's as a decimal string). */
  id: string;
  createdAt: number;
  currency: string;
  /** Amazon pre-order: PENDING_AVAILABILITY until paid. */
  preorder: boolean;
  lines: LineSpec[];
  shipping: number;
  subtotal: number;
  tax: number;
  total: number;
  /** Seed of the buyer's details (catalogue.personFor). */
  buyer: number;
  visible: OrderVersion | null;
  pending: { version: OrderVersion; visibleAt: number } | null;
}

/** The newest version, visible or not: what ground truth reports. */
export function latestVersion(order: SimOrder): OrderVersion {
  return order.pending?.version ?? order.visible!;
}

export function unitsOrdered(order: SimOrder): number {
  return order.lines.reduce((sum, line) => sum + line.quantity, 0);
}

export function unitsShipped(version: OrderVersion): number {
  return version.shipped.reduce((sum, units) => sum + units, 0);
}

export function isFullyShipped(order: SimOrder, version: OrderVersion): boolean {
  return order.lines.every((line, index) => (version.shipped[index] ?? 0) >= line.quantity);
}

/** No transition applies any more. */
export function isTerminal(version: OrderVersion): boolean {
  return version.cancelledAt !== null || version.payment === 'refunded' || version.closedAt !== null;
}

/** Money still owed to the seller after refunds. */
export function netTotal(order: SimOrder, version: OrderVersion): number {
  return order.total - version.refunded;
}
