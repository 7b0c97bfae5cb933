import { type FieldIssue, ValidationError } from '../errors.js';
import { currencyExponent, formatMoney, parseMoney } from '../money.js';
import type { OrderStatus, UnifiedOrder } from '../order.js';
import type { Platform } from '../platforms.js';
import { addMs, fromSqlDateTime, type Instant } from '../time.js';

/**
 * The legacy single `orders` table of the seed (id, user_id, product_id, quantity, amount,
 * status, created_at, optionally updated_at) as unified orders, and back. Pure functions: the
 * backfill, the dual write's mirror and verify all map through here, so they agree.
 *
 * Legacy row -> unified order:
 *   id                -> the order id, kept (the locator resolves it; ids never change)
 *   id                -> platformOrderId (decimal text); platform and account are configured
 *                        (default `legacy` / `legacy`), so (platform, account, id) is the key
 *   user_id           -> userId (decides the shard)
 *   status            -> status through STATUS_MAP (case-insensitive); anything else is kept raw,
 *                        stored as `pending` and flagged statusUnknown
 *   amount DECIMAL    -> totals.total = totals.subtotal, exact minor units of the configured
 *                        currency (more decimals than the currency has is an error, not rounding)
 *   product_id, quantity -> one line: lineId "1", sku = product_id, unitPrice = total / quantity
 *                        rounded toward zero (the table keeps only the line total)
 *   created_at        -> createdAt; updated_at -> updatedAt (created_at when the table has none);
 *                        DATETIME read as UTC shifted by the configured offset (default +00:00)
 */
export interface LegacySource {
  schema: string;
  table: string;
  platform: string;
  account: string;
  currency: string;
  /** Minutes the legacy DATETIME values are ahead of UTC (+480 for Asia/Shanghai wall time). */
  utcOffsetMinutes: number;
  hasUpdatedAt: boolean;
  /** Fractional digits the legacy time columns keep, capped at 3 (milliseconds). */
  timePrecision: number;
  /** Decimal places of the legacy amount column. */
  amountScale: number;
  /** The largest legacy id when the migration started: the history the backfill copies. */
  highKey: string | null;
}

/** A row of the legacy table as the pools return it (BIGINT and DECIMAL as strings). */
export interface LegacyRow {
  id: string | number;
  user_id: string | number;
  product_id: string | number | null;
  quantity: string | number;
  amount: string | number;
  status: string;
  created_at: string;
  updated_at?: string | null;
}

export interface IdentifiedOrder {
  order: UnifiedOrder;
  id: string;
}

export const LEGACY_COLUMNS = [
  'id',
  'user_id',
  'product_id',
  'quantity',
  'amount',
  'status',
  'created_at',
] as const;

/** Legacy status words (lower-cased) and the unified status each means. */
export const STATUS_MAP: Readonly<Record<string, OrderStatus>> = {
  pending: 'pending',
  created: 'pending',
  new: 'pending',
  unpaid: 'pending',
  paid: 'paid',
  partially_shipped: 'partially_shipped',
  shipped: 'shipped',
  delivered: 'delivered',
  completed: 'delivered',
  finished: 'delivered',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  refunded: 'refunded',
};

const DECIMAL_ID = /^\d{1,20}$/;
const MAX_ID = 18_446_744_073_709_551_615n;

/** Maps one legacy row; a ValidationError names the row and every bad field. */
export function legacyRowToOrder(row: LegacyRow, source: LegacySource): IdentifiedOrder {
  const id = String(row.id);
  const path = `${source.schema}.${source.table}[id=${id}]`;
  const issues: FieldIssue[] = [];
  const problem = (field: string, message: string) => issues.push({ path: `${path}.${field}`, message });
  if (!DECIMAL_ID.test(id) || BigInt(id) > MAX_ID) problem('id', 'expected a non-negative 64-bit integer');
  const userId = String(row.user_id);
  if (!/^\d{1,19}$/.test(userId)) problem('user_id', 'expected a non-negative integer');
  const quantity = Number(row.quantity);
  if (!Number.isSafeInteger(quantity) || quantity < 1)
    problem('quantity', 'expected an integer of at least 1');
  let total = 0;
  try {
    total = parseMoney(String(row.amount), source.currency, 'amount').amount;
  } catch (error) {
    problem(
      'amount',
      error instanceof ValidationError ? (error.issues[0]?.message ?? error.message) : String(error),
    );
  }
  const rawStatus = String(row.status ?? '');
  if (rawStatus.length > 64) problem('status', 'longer than 64 characters');
  const sku = row.product_id === null ? null : String(row.product_id);
  if (sku !== null && sku.length > 128) problem('product_id', 'longer than 128 characters');
  const createdAt = legacyTime(row.created_at, source, problem, 'created_at');
  const updatedAt =
    source.hasUpdatedAt && row.updated_at !== null && row.updated_at !== undefined
      ? legacyTime(row.updated_at, source, problem, 'updated_at')
      : createdAt;
  if (createdAt && updatedAt && updatedAt < createdAt) problem('updated_at', 'is before created_at');
  if (issues.length > 0 || !createdAt || !updatedAt)
    throw new ValidationError('invalid legacy order', issues);

  const status = STATUS_MAP[rawStatus.trim().toLowerCase()];
  const unitPrice = Number(BigInt(total) / BigInt(quantity));
  return {
    id,
    order: {
      // Stored as-is in the platform column; `legacy` is not an adapter platform.
      platform: source.platform as Platform,
      account: source.account,
      platformOrderId: id,
      userId,
      status: status ?? 'pending',
      rawStatus,
      statusUnknown: status === undefined,
      refundState: status === 'refunded' ? 'full' : 'none',
      currency: source.currency,
      totals: { subtotal: total, shipping: 0, tax: 0, discount: 0, total, refunded: 0 },
      createdAt,
      updatedAt,
      paidAt: null,
      shippedAt: null,
      cancelledAt: null,
      marketplace: null,
      buyer: { platformBuyerId: null, name: null, email: null },
      shippingAddress: null,
      lines: [
        {
          lineId: '1',
          sku,
          listingId: null,
          title: '',
          quantity,
          quantityShipped: status === 'shipped' || status === 'delivered' ? quantity : 0,
          unitPrice,
          total,
          tax: 0,
          cancelled: status === 'cancelled',
        },
      ],
    },
  };
}

function legacyTime(
  value: string,
  source: LegacySource,
  problem: (field: string, message: string) => void,
  field: string,
): Instant | null {
  try {
    return addMs(fromSqlDateTime(String(value)), -source.utcOffsetMinutes * 60_000);
  } catch {
    problem(field, `"${String(value)}" is not a valid date-time`);
    return null;
  }
}

/** The legacy table's DATETIME text of an instant, at the table's precision (cut, never rounded). */
export function toLegacyTime(
  instant: Instant,
  source: Pick<LegacySource, 'utcOffsetMinutes' | 'timePrecision'>,
): string {
  const local = addMs(instant, source.utcOffsetMinutes * 60_000);
  return timeText(local, source.timePrecision);
}

/** `YYYY-MM-DD HH:MM:SS[.f…]` with `precision` (0-3) fractional digits of a UTC instant. */
export function timeText(instant: Instant, precision: number): string {
  const seconds = `${instant.slice(0, 10)} ${instant.slice(11, 19)}`;
  return precision > 0 ? `${seconds}.${instant.slice(20, 20 + precision)}` : seconds;
}

/**
 * The legacy row the dual write mirrors an order into (LEGACY_COLUMNS order, plus updated_at
 * when the table has it). The table holds one product per order, so this is lossy: product_id is
 * the first line's SKU when numeric (else 0), quantity the sum of the lines, amount the total in
 * the order's own currency, cut to the column's decimal places.
 */
export function orderToLegacyRow(item: IdentifiedOrder, source: LegacySource): unknown[] {
  const { order, id } = item;
  const sku = order.lines[0]?.sku ?? null;
  const productId = sku !== null && /^\d{1,19}$/.test(sku) ? sku : '0';
  const quantity = order.lines.reduce((sum, line) => sum + line.quantity, 0);
  const row: unknown[] = [
    id,
    order.userId,
    productId,
    quantity,
    legacyAmount(order.totals.total, order.currency, source.amountScale),
    order.status,
    toLegacyTime(order.createdAt, source),
  ];
  if (source.hasUpdatedAt) row.push(toLegacyTime(order.updatedAt, source));
  return row;
}

function legacyAmount(total: number, currency: string, scale: number): string {
  const text = formatMoney({ amount: total, currency });
  const exponent = currencyExponent(currency);
  if (exponent <= scale) return text;
  const cut = exponent - scale;
  return scale === 0 ? text.slice(0, -(cut + 1)) : text.slice(0, -cut);
}

/** MySQL's QUOTE() of a value, so a checksum computed here matches one computed by the server. */
export function sqlQuote(value: string | number | null): string {
  if (value === null) return 'NULL';
  const escaped = String(value)
    .replaceAll('\\', '\\\\')
    .replaceAll("'", "\\'")
    .replaceAll('\u0000', '\\0')
    .replaceAll('\u001a', '\\Z');
  return `'${escaped}'`;
}

/**
 * What verify compares for a legacy source, per order: the columns that survive the round trip
 * through the legacy table (the key space, platform and account, is fixed and filtered on).
 * Must list the same values, in the same order and format, as legacyTargetTupleSql.
 */
export function legacyTuple(item: IdentifiedOrder, precision: number): string {
  const { order } = item;
  return [
    item.id,
    order.userId,
    order.platformOrderId,
    order.status,
    order.currency,
    order.totals.total,
    timeText(order.createdAt, precision),
    timeText(order.updatedAt, precision),
  ]
    .map(sqlQuote)
    .join(',');
}
