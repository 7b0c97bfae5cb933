import type { OrderStatus, RefundState } from '../../core/order.js';

/**
 * Shopify REST order status -> unified status. Pure; every documented value is listed, and a
 * value outside the lists is kept raw and flagged, never guessed.
 */

/** `financial_status` -> what it says about payment, every documented value. */
export const SHOPIFY_FINANCIAL_STATUS: Readonly<
  Record<string, 'pending' | 'paid' | 'refunded' | 'partial_refund'>
> = {
  pending: 'pending',
  authorized: 'pending', // validated, not captured yet
  partially_paid: 'pending',
  paid: 'paid',
  partially_refunded: 'partial_refund', // keeps the fulfilment status, flags refundState
  refunded: 'refunded',
  voided: 'pending', // authorisation voided: usually comes with a cancellation, which wins
  expired: 'pending', // authorisation expired before capture
};

/** `fulfillment_status` -> unified, every documented value (null = nothing fulfilled). */
export const SHOPIFY_FULFILLMENT_STATUS: Readonly<Record<string, OrderStatus | null>> = {
  unfulfilled: null,
  partial: 'partially_shipped',
  fulfilled: 'shipped',
  // "Every line item in the order has been restocked and the order canceled."
  restocked: 'cancelled',
};

export interface StatusResult {
  status: OrderStatus;
  refundState: RefundState;
  unknown: boolean;
}

/**
 * Cancellation wins (cancelled_at, or every line restocked); then a full refund; then the
 * fulfilment progress; then payment. Undocumented values keep `pending` and are flagged.
 */
export function shopifyStatus(financial: string, fulfillment: string, cancelled: boolean): StatusResult {
  const paid = SHOPIFY_FINANCIAL_STATUS[financial];
  const shipped = SHOPIFY_FULFILLMENT_STATUS[fulfillment];
  const refundState: RefundState =
    paid === 'refunded' ? 'full' : paid === 'partial_refund' ? 'partial' : 'none';
  if (cancelled || shipped === 'cancelled') return { status: 'cancelled', refundState, unknown: false };
  if (paid === undefined || shipped === undefined) return { status: 'pending', refundState, unknown: true };
  if (paid === 'refunded') return { status: 'refunded', refundState, unknown: false };
  if (shipped !== null) return { status: shipped, refundState, unknown: false };
  return { status: paid === 'pending' ? 'pending' : 'paid', refundState, unknown: false };
}
