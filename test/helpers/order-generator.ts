import { ORDER_STATUSES, parseOrder, type UnifiedOrder } from '../../src/core/order.js';
import { PLATFORMS } from '../../src/core/platforms.js';
import { addMs } from '../../src/core/time.js';

/**
 * Deterministic orders for store tests and benchmarks: the same seed gives the same orders.
 * Users are random (so orders spread over every shard), each order has 1-3 lines, and the
 * statuses cycle through all of them.
 */
export interface GenerateOrdersOptions {
  seed: number;
  count: number;
  /** Distinct owning users to draw from. Default 50,000. */
  users?: number;
  /** createdAt of the first order; later ones follow by a few seconds. */
  start?: string;
  /** Prefix of platformOrderId, so two generated sets can be kept apart. Default 'PO'. */
  idPrefix?: string;
}

const CURRENCIES = ['USD', 'EUR', 'JPY', 'GBP', 'KWD'] as const;

/** mulberry32: small, fast, good enough to spread test data. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateOrders(options: GenerateOrdersOptions): UnifiedOrder[] {
  const random = prng(options.seed);
  const int = (max: number) => Math.floor(random() * max);
  const users = options.users ?? 50_000;
  // User ids are sparse and some exceed 2^53, so routing must work on decimal strings.
  const userIds = Array.from({ length: users }, (_, index) =>
    index % 97 === 0 ? String(9_007_199_254_740_993n + BigInt(index)) : String(1000 + index * 7 + int(7)),
  );
  const start = options.start ?? '2026-01-01T00:00:00.000Z';
  const prefix = options.idPrefix ?? 'PO';
  const orders: UnifiedOrder[] = [];
  for (let index = 0; index < options.count; index++) {
    const platform = PLATFORMS[index % PLATFORMS.length]!;
    const status = ORDER_STATUSES[index % ORDER_STATUSES.length]!;
    const currency = CURRENCIES[int(CURRENCIES.length)]!;
    const createdAt = addMs(start, index * 3000 + int(1000));
    const updatedAt = addMs(createdAt, 60_000 + int(3_600_000));
    const lines = Array.from({ length: 1 + int(3) }, (_, lineIndex) => {
      const quantity = 1 + int(4);
      const unitPrice = 100 + int(100_000);
      return {
        lineId: `L${index}-${lineIndex}`,
        sku: `SKU-${int(5000)}`,
        listingId: lineIndex === 2 ? null : `LST${int(1_000_000)}`,
        title: `Item ${int(100_000)} "quoted" 'and' ünïcødé`,
        quantity,
        quantityShipped: status === 'shipped' || status === 'delivered' ? quantity : 0,
        unitPrice,
        total: unitPrice * quantity,
        tax: int(500),
        cancelled: status === 'cancelled',
      };
    });
    const subtotal = lines.reduce((sum, line) => sum + line.total, 0);
    const shipping = int(2000);
    const tax = lines.reduce((sum, line) => sum + line.tax, 0);
    orders.push(
      parseOrder({
        platform,
        account: `acct-${index % 13}`,
        platformOrderId: `${prefix}-${index}`,
        userId: userIds[int(users)]!,
        status,
        rawStatus: status.toUpperCase(),
        statusUnknown: index % 50 === 0,
        refundState: status === 'refunded' ? 'full' : 'none',
        currency,
        totals: {
          subtotal,
          shipping,
          tax,
          discount: 0,
          total: subtotal + shipping + tax,
          refunded: status === 'refunded' ? subtotal : 0,
        },
        createdAt,
        updatedAt,
        paidAt: status === 'pending' ? null : createdAt,
        shippedAt: status === 'shipped' || status === 'delivered' ? updatedAt : null,
        cancelledAt: status === 'cancelled' ? updatedAt : null,
        marketplace: index % 3 === 0 ? null : `MKT-${platform}`,
        buyer: {
          platformBuyerId: `B${int(1_000_000)}`,
          name: index % 5 === 0 ? null : `Buyer ${index}`,
          email: index % 4 === 0 ? null : `buyer${index}@example.com`,
        },
        shippingAddress:
          index % 11 === 0
            ? null
            : {
                name: `Buyer ${index}`,
                line1: `${int(999)} Main St`,
                line2: index % 2 === 0 ? null : `Apt ${int(99)}`,
                city: 'Springfield',
                region: 'IL',
                postalCode: String(10000 + int(89999)),
                countryCode: 'US',
                phone: null,
              },
        lines,
      }),
    );
  }
  return orders;
}

/** A counter-based id source for tests (the store only needs unique decimal strings). */
export function counterIds(start = 1_000_000_000_000n): () => string {
  let next = start;
  return () => {
    next += 1n;
    return String(next);
  };
}
