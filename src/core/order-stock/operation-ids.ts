import { createHash } from 'node:crypto';

/**
 * The Redis operation ids of the order stock outbox (docs/stock-orders.md). Pure; these strings
 * are what makes a deduction idempotent in Redis, so a form once written must never change:
 * a new form gets a new prefix.
 *
 * Each line of a marketplace order has one *operation key*, and its operations are
 * `<key>:d` (the deduct), `<key>:r` (its restore) and `<key>:ra` (the restore's fallback
 * adjustment). The key names the marketplace line - platform, account, platform order id, line
 * id - and not the order's internal id: an order deleted from its shard and stored again under
 * a new id (`reconcile orders --fix`) is the same sale, and Redis answers its deduct as a replay.
 */

export type OperationStep = 'd' | 'r' | 'ra';

export interface MarketplaceLine {
  platform: string;
  account: string;
  platformOrderId: string;
  lineId: string;
}

// Operation ids allow 1-128 of A-Z a-z 0-9 . _ : @ / - (stock-validation.ts ID_PATTERN). The
// readable form joins the parts with ':', so a part may not contain one (`a:b` + `c` and `a` +
// `b:c` would meet); and it must leave room for the longest step (`:ra`).
const SAFE_PART = /^[A-Za-z0-9._@/-]+$/;
const MAX_KEY = 128 - ':ra'.length;

/**
 * `ol:<platform>:<account>:<platform order id>:<line id>` when every part is safe and it fits,
 * else `olh:<sha1 of the four parts, NUL-separated>`: the two prefixes keep the forms apart.
 */
export function lineOperationKey(line: MarketplaceLine): string {
  const parts = [line.platform, line.account, line.platformOrderId, line.lineId];
  const readable = `ol:${parts.join(':')}`;
  if (readable.length <= MAX_KEY && parts.every((part) => SAFE_PART.test(part))) return readable;
  return `olh:${createHash('sha1').update(parts.join('\u0000'), 'utf8').digest('hex')}`;
}

// The form written before lines were keyed by their marketplace identity. Line ids outside the
// id pattern were hashed under another prefix.
const SAFE_LINE_ID = /^[A-Za-z0-9._:@/-]{1,64}$/;

/**
 * The operation id of one step of an intent. Intents written before operation keys existed
 * (`operationKey` NULL) keep the ids they were deducted under: `ord:<order id>:<line id>:<step>`,
 * or `orh:<order id>:<sha1 of the line id>:<step>`.
 */
export function intentOperationId(
  intent: { orderId: string; lineId: string; operationKey: string | null },
  step: OperationStep,
): string {
  if (intent.operationKey !== null) return `${intent.operationKey}:${step}`;
  const { orderId, lineId } = intent;
  if (SAFE_LINE_ID.test(lineId)) return `ord:${orderId}:${lineId}:${step}`;
  const digest = createHash('sha1').update(lineId, 'utf8').digest('hex');
  return `orh:${orderId}:${digest}:${step}`;
}
