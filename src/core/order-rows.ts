import type { UnifiedOrder } from './order.js';
import { fromSqlDateTime, type Instant, toSqlDateTime } from './time.js';

/**
 * Row <-> domain mapping of the sharded order tables, as pure functions (no I/O), so the
 * mapping is table-tested (test/unit/order-rows.test.ts). The statements that carry these rows
 * are built in order-store-sql.ts.
 */

/** An order as stored: the unified order plus the store's id and the time this version was stored. */
export type StoredOrder = UnifiedOrder & { id: string; storedAt: Instant };

export const ORDER_COLUMNS = [
  'id',
  'user_id',
  'platform',
  'account',
  'platform_order_id',
  'status',
  'raw_status',
  'status_unknown',
  'refund_state',
  'currency',
  'total_amount',
  'line_count',
  'created_at',
  'updated_at',
  'stored_at',
] as const;

export const DETAIL_COLUMNS = [
  'order_id',
  'updated_at',
  'marketplace',
  'buyer_id',
  'buyer_name',
  'buyer_email',
  'ship_name',
  'ship_line1',
  'ship_line2',
  'ship_city',
  'ship_region',
  'ship_postal_code',
  'ship_country',
  'ship_phone',
  'subtotal_amount',
  'shipping_amount',
  'tax_amount',
  'discount_amount',
  'refunded_amount',
  'paid_at',
  'shipped_at',
  'cancelled_at',
] as const;

export const LINE_COLUMNS = [
  'order_id',
  'line_id',
  'updated_at',
  'line_no',
  'sku',
  'listing_id',
  'title',
  'quantity',
  'quantity_shipped',
  'unit_price_amount',
  'total_amount',
  'tax_amount',
  'cancelled',
] as const;

/** The unique key of an order row; `id` is never overwritten either: an order keeps its first id. */
export const ORDER_KEY_COLUMNS = ['id', 'platform', 'account', 'platform_order_id'] as const;

const sqlTime = (instant: Instant | null): string | null =>
  instant === null ? null : toSqlDateTime(instant);

export function orderRow(order: UnifiedOrder, id: string, storedAt: Instant): unknown[] {
  return [
    id,
    order.userId,
    order.platform,
    order.account,
    order.platformOrderId,
    order.status,
    order.rawStatus,
    order.statusUnknown ? 1 : 0,
    order.refundState,
    order.currency,
    order.totals.total,
    order.lines.length,
    sqlTime(order.createdAt),
    sqlTime(order.updatedAt),
    sqlTime(storedAt),
  ];
}

/**
 * A missing shipping address is stored as all-NULL `ship_*` columns, so an address whose every
 * field is null reads back as no address (the two carry the same information).
 */
export function detailRow(order: UnifiedOrder, id: string): unknown[] {
  const address = order.shippingAddress;
  return [
    id,
    sqlTime(order.updatedAt),
    order.marketplace,
    order.buyer.platformBuyerId,
    order.buyer.name,
    order.buyer.email,
    address?.name ?? null,
    address?.line1 ?? null,
    address?.line2 ?? null,
    address?.city ?? null,
    address?.region ?? null,
    address?.postalCode ?? null,
    address?.countryCode ?? null,
    address?.phone ?? null,
    order.totals.subtotal,
    order.totals.shipping,
    order.totals.tax,
    order.totals.discount,
    order.totals.refunded,
    sqlTime(order.paidAt),
    sqlTime(order.shippedAt),
    sqlTime(order.cancelledAt),
  ];
}

/** One row per line; each carries the order's version, so stale lines can be found by it. */
export function lineRows(order: UnifiedOrder, id: string): unknown[][] {
  const version = sqlTime(order.updatedAt);
  return order.lines.map((line, index) => [
    id,
    line.lineId,
    version,
    index,
    line.sku,
    line.listingId,
    line.title,
    line.quantity,
    line.quantityShipped,
    line.unitPrice,
    line.total,
    line.tax,
    line.cancelled ? 1 : 0,
  ]);
}

type Row = Record<string, unknown>;

const str = (value: unknown): string => String(value);
const optStr = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
// BIGINT columns arrive as strings (the pools use bigNumberStrings); amounts are safe integers.
const num = (value: unknown): number => Number(value);
const time = (value: unknown): Instant => fromSqlDateTime(String(value));
const optTime = (value: unknown): Instant | null =>
  value === null || value === undefined ? null : fromSqlDateTime(String(value));

/** Maps the rows of selectOrderSql and selectLinesSql back to the stored order. */
export function orderFromRows(row: Row, lines: readonly Row[]): StoredOrder {
  const address = {
    name: optStr(row.d_ship_name),
    line1: optStr(row.d_ship_line1),
    line2: optStr(row.d_ship_line2),
    city: optStr(row.d_ship_city),
    region: optStr(row.d_ship_region),
    postalCode: optStr(row.d_ship_postal_code),
    countryCode: optStr(row.d_ship_country),
    phone: optStr(row.d_ship_phone),
  };
  return {
    id: str(row.id),
    platform: str(row.platform) as UnifiedOrder['platform'],
    account: str(row.account),
    platformOrderId: str(row.platform_order_id),
    userId: str(row.user_id),
    status: str(row.status) as UnifiedOrder['status'],
    rawStatus: str(row.raw_status),
    statusUnknown: num(row.status_unknown) === 1,
    refundState: str(row.refund_state) as UnifiedOrder['refundState'],
    currency: str(row.currency),
    totals: {
      subtotal: num(row.d_subtotal_amount),
      shipping: num(row.d_shipping_amount),
      tax: num(row.d_tax_amount),
      discount: num(row.d_discount_amount),
      total: num(row.total_amount),
      refunded: num(row.d_refunded_amount),
    },
    createdAt: time(row.created_at),
    updatedAt: time(row.updated_at),
    paidAt: optTime(row.d_paid_at),
    shippedAt: optTime(row.d_shipped_at),
    cancelledAt: optTime(row.d_cancelled_at),
    marketplace: optStr(row.d_marketplace),
    buyer: {
      platformBuyerId: optStr(row.d_buyer_id),
      name: optStr(row.d_buyer_name),
      email: optStr(row.d_buyer_email),
    },
    shippingAddress: Object.values(address).every((value) => value === null) ? null : address,
    lines: lines.map((line) => ({
      lineId: str(line.line_id),
      sku: optStr(line.sku),
      listingId: optStr(line.listing_id),
      title: str(line.title),
      quantity: num(line.quantity),
      quantityShipped: num(line.quantity_shipped),
      unitPrice: num(line.unit_price_amount),
      total: num(line.total_amount),
      tax: num(line.tax_amount),
      cancelled: num(line.cancelled) === 1,
    })),
    storedAt: time(row.stored_at),
  };
}
