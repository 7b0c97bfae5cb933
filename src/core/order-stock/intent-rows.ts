import type { UnifiedOrder } from '../order.js';
import { fromSqlDateTime, type Instant, toSqlDateTime } from '../time.js';
import { lineOperationKey } from './operation-ids.js';

/**
 * Stock intents as rows, and the rules that decide which intents an order version creates.
 * Pure (table-tested in test/unit/order-stock-intents.test.ts).
 *
 * The rules (docs/stock-orders.md):
 * - a line is an *active sale* when its order is not cancelled and the line is not cancelled.
 *   Every other status (pending, paid, shipped, delivered, refunded, unknown-flagged) is a sale:
 *   the platform sold the item; goods coming back from a refund are a returns step, not this.
 * - each applied order version (new, or moved forward) gets a `deduct` intent for each active
 *   line: INSERT IGNORE, so a line deducts at most once however many versions mention it, and
 *   whatever id its order has: intents are unique per marketplace line (platform, account,
 *   platform order id, line id) and kind, so an order deleted and stored again under a new id
 *   finds its earlier intents;
 * - each version that moved forward gets a `release` intent for each line that has a `deduct`
 *   intent but is no longer an active sale (the order was cancelled, the line was cancelled or
 *   removed): also at most once per line.
 */

export type IntentKind = 'deduct' | 'release';

/**
 * `pending`: waits for the drainer. Final: `applied` (Redis answered; applied_quantity says what
 * moved, possibly 0), `unmapped` (no listing mapping: nothing deducted), `unknown_sku` (mapped to
 * a SKU Redis does not know, after every retry: nothing deducted).
 */
export type IntentStatus = 'pending' | 'applied' | 'unmapped' | 'unknown_sku';

export interface IntentRow {
  /** The order's id when the intent was first written (a re-stored order keeps the old one here). */
  orderId: string;
  lineId: string;
  kind: IntentKind;
  platform: string;
  account: string;
  platformOrderId: string;
  channelSku: string | null;
  listingId: string | null;
  quantity: number;
  status: IntentStatus;
  tenant: string | null;
  sku: string | null;
  appliedQuantity: number | null;
  shortfall: number | null;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Instant;
  createdAt: Instant;
  updatedAt: Instant;
  /**
   * Base of the line's Redis operation ids (operation-ids.ts); null on intents written before
   * it existed, whose ids derive from the order id.
   */
  operationKey: string | null;
}

export const INTENT_COLUMNS = [
  'order_id',
  'line_id',
  'kind',
  'platform',
  'account',
  'platform_order_id',
  'channel_sku',
  'listing_id',
  'quantity',
  'status',
  'tenant',
  'sku',
  'applied_quantity',
  'shortfall',
  'attempts',
  'last_error',
  'next_attempt_at',
  'created_at',
  'updated_at',
  'operation_key',
] as const;

export function intentValues(row: IntentRow): unknown[] {
  return [
    row.orderId,
    row.lineId,
    row.kind,
    row.platform,
    row.account,
    row.platformOrderId,
    row.channelSku,
    row.listingId,
    row.quantity,
    row.status,
    row.tenant,
    row.sku,
    row.appliedQuantity,
    row.shortfall,
    row.attempts,
    row.lastError,
    toSqlDateTime(row.nextAttemptAt),
    toSqlDateTime(row.createdAt),
    toSqlDateTime(row.updatedAt),
    row.operationKey,
  ];
}

const optStr = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
const optNum = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

export function intentFromRow(row: Record<string, unknown>): IntentRow {
  return {
    orderId: String(row.order_id),
    lineId: String(row.line_id),
    kind: String(row.kind) as IntentKind,
    platform: String(row.platform),
    account: String(row.account),
    platformOrderId: String(row.platform_order_id),
    channelSku: optStr(row.channel_sku),
    listingId: optStr(row.listing_id),
    quantity: Number(row.quantity),
    status: String(row.status) as IntentStatus,
    tenant: optStr(row.tenant),
    sku: optStr(row.sku),
    appliedQuantity: optNum(row.applied_quantity),
    shortfall: optNum(row.shortfall),
    attempts: Number(row.attempts),
    lastError: optStr(row.last_error),
    nextAttemptAt: fromSqlDateTime(String(row.next_attempt_at)),
    createdAt: fromSqlDateTime(String(row.created_at)),
    updatedAt: fromSqlDateTime(String(row.updated_at)),
    operationKey: optStr(row.operation_key),
  };
}

/** Whether the order's lines are sales that hold stock. */
export function isActiveOrder(order: Pick<UnifiedOrder, 'status'>): boolean {
  return order.status !== 'cancelled';
}

/** The lines of an applied version that are active sales (none when the order is cancelled). */
export function activeLines(order: Pick<UnifiedOrder, 'status' | 'lines'>): UnifiedOrder['lines'] {
  return isActiveOrder(order) ? order.lines.filter((line) => !line.cancelled) : [];
}

/** The deduct intent rows of an applied version: one per active line. */
export function deductIntents(
  order: UnifiedOrder,
  orderId: string,
  times: { now: Instant; dueAt: Instant },
): IntentRow[] {
  return activeLines(order).map((line) => ({
    orderId,
    lineId: line.lineId,
    kind: 'deduct',
    platform: order.platform,
    account: order.account,
    platformOrderId: order.platformOrderId,
    channelSku: line.sku,
    listingId: line.listingId,
    quantity: line.quantity,
    status: 'pending',
    tenant: null,
    sku: null,
    appliedQuantity: null,
    shortfall: null,
    attempts: 0,
    lastError: null,
    nextAttemptAt: times.dueAt,
    createdAt: times.now,
    updatedAt: times.now,
    operationKey: lineOperationKey({
      platform: order.platform,
      account: order.account,
      platformOrderId: order.platformOrderId,
      lineId: line.lineId,
    }),
  }));
}

/**
 * For a version that moved forward: the lines whose deduct intents must be released are all of
 * the order's deducted lines except `keep` (the lines still active). Empty `keep`: release all.
 * Selected by the marketplace order, not by id: the deductions may be an earlier id's.
 */
export interface ReleaseSelection {
  platform: string;
  account: string;
  platformOrderId: string;
  keep: string[];
}

export function releaseSelection(order: UnifiedOrder): ReleaseSelection {
  const { platform, account, platformOrderId } = order;
  return { platform, account, platformOrderId, keep: activeLines(order).map((line) => line.lineId) };
}
