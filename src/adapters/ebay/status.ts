import type { OrderStatus, RefundState } from '../../core/order.js';

/**
 * eBay order status (payment, fulfilment, cancel state) -> unified status. Pure; every
 * documented value is listed, and a value outside the lists is flagged, never guessed.
 */

/** `orderPaymentStatus`, every value of OrderPaymentStatusEnum. */
export const EBAY_PAYMENT_STATUS: Readonly<
  Record<string, 'pending' | 'paid' | 'refunded' | 'partial_refund'>
> = {
  PENDING: 'pending',
  FAILED: 'pending', // payment failed: not paid, nothing to ship
  PAID: 'paid',
  PARTIALLY_REFUNDED: 'partial_refund', // keeps the fulfilment status, flags refundState
  FULLY_REFUNDED: 'refunded',
};

/** `orderFulfillmentStatus`, every value of OrderFulfillmentStatus. */
export const EBAY_FULFILLMENT_STATUS: Readonly<Record<string, OrderStatus | null>> = {
  NOT_STARTED: null, // status follows payment
  IN_PROGRESS: 'partially_shipped',
  FULFILLED: 'shipped',
};

/** `cancelStatus.cancelState`, every value of CancelStateEnum. */
export const EBAY_CANCEL_STATE: Readonly<Record<string, boolean>> = {
  NONE_REQUESTED: false,
  IN_PROGRESS: false, // a request under way is not a cancellation yet
  CANCELED: true,
};

export interface StatusResult {
  status: OrderStatus;
  refundState: RefundState;
  cancelled: boolean;
  unknown: boolean;
}

/**
 * Cancellation wins; then a full refund; then an unpaid order is pending; otherwise the
 * fulfilment progress decides. Any value outside the documented enums keeps the safe default
 * `pending` and is flagged, never guessed.
 */
export function ebayStatus(payment: string, fulfillment: string, cancelState: string): StatusResult {
  const paid = EBAY_PAYMENT_STATUS[payment];
  const shipped = EBAY_FULFILLMENT_STATUS[fulfillment];
  const cancelled = EBAY_CANCEL_STATE[cancelState];
  const refundState: RefundState =
    paid === 'refunded' ? 'full' : paid === 'partial_refund' ? 'partial' : 'none';
  if (cancelled === true) return { status: 'cancelled', refundState, cancelled: true, unknown: false };
  if (paid === undefined || shipped === undefined || cancelled === undefined) {
    return { status: 'pending', refundState, cancelled: false, unknown: true };
  }
  if (paid === 'refunded') return { status: 'refunded', refundState, cancelled: false, unknown: false };
  if (shipped !== null) return { status: shipped, refundState, cancelled: false, unknown: false };
  return { status: paid === 'pending' ? 'pending' : 'paid', refundState, cancelled: false, unknown: false };
}
