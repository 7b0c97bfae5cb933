import { z } from 'zod';
import { ValidationError } from './errors.js';
import { isCurrencyCode } from './money.js';
import { PLATFORMS } from './platforms.js';
import { isInstant } from './time.js';
import { zodIssues } from './validation.js';

/**
 * The unified order every adapter produces and every store consumes.
 *
 * Money fields are integer minor units in the order's `currency`; times are canonical UTC
 * instants (see time.ts). `updatedAt` is the platform's own last-modified time: it is the
 * version the store compares, so a mapper must take it from the platform, never from the clock.
 */
export const ORDER_STATUSES = [
  'pending',
  'paid',
  'partially_shipped',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const REFUND_STATES = ['none', 'partial', 'full'] as const;
export type RefundState = (typeof REFUND_STATES)[number];

const instant = z
  .string()
  .refine(isInstant, { message: 'expected a UTC instant like 2026-01-31T23:59:59.123Z' });
// zod's int() also enforces the safe-integer range: one issue per field, saying which check failed.
const minor = z.number().int({
  error: (issue) => (issue.code === 'invalid_type' ? 'expected integer minor units' : 'out of range'),
});
const text = (max: number) => z.string().max(max, `longer than ${max} characters`);
const optionalText = (max: number) => text(max).nullable().default(null);

export const addressSchema = z.object({
  name: optionalText(255),
  line1: optionalText(255),
  line2: optionalText(255),
  city: optionalText(128),
  region: optionalText(128),
  postalCode: optionalText(32),
  countryCode: z
    .string()
    .regex(/^[A-Z]{2}$/, 'expected an ISO-3166 alpha-2 country code')
    .nullable()
    .default(null),
  phone: optionalText(64),
});
export type Address = z.infer<typeof addressSchema>;

export const orderLineSchema = z.object({
  /** The platform's own line id (Amazon OrderItemId, eBay lineItemId, Shopify line_items[].id). */
  lineId: text(64).min(1, 'must not be empty'),
  /** The seller's SKU on that channel, when the platform reports one. */
  sku: optionalText(128),
  /** The channel's listing id (ASIN, eBay legacyItemId, Shopify variant id). */
  listingId: optionalText(128),
  title: text(512).default(''),
  quantity: z.number().int('expected an integer').positive('must be at least 1'),
  /** Units of this line already shipped; drives partially_shipped. */
  quantityShipped: z.number().int('expected an integer').nonnegative().default(0),
  unitPrice: minor,
  /** Line total after line discounts, before order-level shipping and tax. */
  total: minor,
  tax: minor.default(0),
  cancelled: z.boolean().default(false),
});
export type OrderLine = z.infer<typeof orderLineSchema>;

export const totalsSchema = z.object({
  subtotal: minor,
  shipping: minor.default(0),
  tax: minor.default(0),
  discount: minor.default(0),
  total: minor,
  refunded: minor.default(0),
});
export type OrderTotals = z.infer<typeof totalsSchema>;

export const unifiedOrderSchema = z.object({
  platform: z.enum(PLATFORMS),
  /** Account id from config; with platform and platformOrderId it identifies the order. */
  account: text(64).min(1, 'must not be empty'),
  platformOrderId: text(64).min(1, 'must not be empty'),
  /** Owning user id (decimal string): decides the shard. */
  userId: z.string().regex(/^\d{1,19}$/, 'expected a non-negative integer as a decimal string'),
  status: z.enum(ORDER_STATUSES),
  /** The platform's status text exactly as received, for audit and unknown statuses. */
  rawStatus: text(64),
  /** True when rawStatus was not in the platform's map: status is the safe default, flagged. */
  statusUnknown: z.boolean().default(false),
  refundState: z.enum(REFUND_STATES).default('none'),
  currency: z.string().refine(isCurrencyCode, 'expected an ISO-4217 currency code'),
  totals: totalsSchema,
  createdAt: instant,
  updatedAt: instant,
  paidAt: instant.nullable().default(null),
  shippedAt: instant.nullable().default(null),
  cancelledAt: instant.nullable().default(null),
  /** Amazon marketplace id, eBay site, Shopify shop domain… */
  marketplace: optionalText(64),
  buyer: z.object({
    platformBuyerId: optionalText(128),
    name: optionalText(255),
    email: optionalText(255),
  }),
  shippingAddress: addressSchema.nullable().default(null),
  lines: z.array(orderLineSchema).max(1000, 'more than 1000 lines'),
});

export type UnifiedOrder = z.infer<typeof unifiedOrderSchema>;
/** What a mapper may leave out: the schema fills the defaults. */
export type UnifiedOrderInput = z.input<typeof unifiedOrderSchema>;

/**
 * Validates an order (from a mapper, a Kafka message, a test) and returns it with defaults
 * filled in. Throws a ValidationError naming every bad field (`order.lines[0].quantity`).
 */
export function parseOrder(input: unknown, prefix = 'order'): UnifiedOrder {
  const result = unifiedOrderSchema.safeParse(input);
  if (!result.success) throw new ValidationError('invalid order', zodIssues(result.error, prefix));
  const order = result.data;
  const issues = crossFieldIssues(order, prefix);
  if (issues.length > 0) throw new ValidationError('invalid order', issues);
  return order;
}

function crossFieldIssues(order: UnifiedOrder, prefix: string) {
  const issues: { path: string; message: string }[] = [];
  if (order.updatedAt < order.createdAt) {
    issues.push({ path: `${prefix}.updatedAt`, message: 'is before createdAt' });
  }
  const seen = new Set<string>();
  order.lines.forEach((line, index) => {
    if (seen.has(line.lineId))
      issues.push({ path: `${prefix}.lines[${index}].lineId`, message: 'duplicate line id' });
    seen.add(line.lineId);
    if (line.quantityShipped > line.quantity) {
      issues.push({ path: `${prefix}.lines[${index}].quantityShipped`, message: 'exceeds quantity' });
    }
  });
  return issues;
}

/** The idempotency key of an order, also its Kafka message key. */
export function orderKey(order: Pick<UnifiedOrder, 'platform' | 'account' | 'platformOrderId'>): string {
  return `${order.platform}:${order.account}:${order.platformOrderId}`;
}

/**
 * Derives an order's status from its lines where the platform reports status per line
 * (Walmart, AliExpress, TikTok): all cancelled → cancelled; all shipped → shipped;
 * some shipped → partially_shipped; otherwise the fallback (paid or pending).
 */
export function statusFromLines(
  lines: readonly Pick<OrderLine, 'quantity' | 'quantityShipped' | 'cancelled'>[],
  fallback: OrderStatus,
): OrderStatus {
  const live = lines.filter((line) => !line.cancelled);
  if (lines.length > 0 && live.length === 0) return 'cancelled';
  if (live.length === 0) return fallback;
  const shipped = live.filter((line) => line.quantityShipped >= line.quantity).length;
  if (shipped === live.length) return 'shipped';
  if (shipped > 0 || live.some((line) => line.quantityShipped > 0)) return 'partially_shipped';
  return fallback;
}
