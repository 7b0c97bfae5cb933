import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { orderKey, parseOrder, type UnifiedOrder, unifiedOrderSchema } from '../order.js';
import { PLATFORMS, type Platform } from '../platforms.js';
import { type Instant, isInstant } from '../time.js';
import { zodIssues } from '../validation.js';

/**
 * The wire format of an order on the bus: a versioned JSON envelope.
 *
 *   { "v": 1, "platform": "shopify", "account": "us-store", "fetchedAt": "…Z", "order": { … } }
 *
 * `v` changes only when an old consumer could misread a new message; adding an optional field
 * does not need a new version. A consumer meeting a version it does not know quarantines the
 * message (DLQ, reason "unsupported envelope version N") instead of guessing.
 *
 * The message key is `orderKey(order)` (`platform:account:platformOrderId`), so every version of
 * one order lands in one partition and is consumed in the order it was published.
 */
export const ENVELOPE_VERSION = 1;

const envelopeHeaderSchema = z.object({
  v: z.literal(ENVELOPE_VERSION),
  platform: z.enum(PLATFORMS),
  account: z.string().min(1, 'must not be empty').max(64, 'longer than 64 characters'),
  /** When the sync runner fetched the order from the platform (not the platform's update time). */
  fetchedAt: z
    .string()
    .refine(isInstant, { message: 'expected a UTC instant like 2026-01-31T23:59:59.123Z' }),
});

/** The full envelope schema (for documentation and typing; `decodeEnvelope` is the checked path). */
export const orderEnvelopeSchema = envelopeHeaderSchema.extend({ order: unifiedOrderSchema });

export interface OrderEnvelope {
  v: typeof ENVELOPE_VERSION;
  platform: Platform;
  account: string;
  fetchedAt: Instant;
  order: UnifiedOrder;
}

export type DecodeResult = { ok: true; envelope: OrderEnvelope } | { ok: false; reason: string };

/** Reasons longer than this are cut: a DLQ reason is for people, the original bytes are kept anyway. */
const MAX_REASON_LENGTH = 1000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Wraps an order fetched at `fetchedAt`; platform and account come from the order itself. */
export function createEnvelope(order: UnifiedOrder, fetchedAt: Instant): OrderEnvelope {
  return { v: ENVELOPE_VERSION, platform: order.platform, account: order.account, fetchedAt, order };
}

/** The message key of an envelope: its order's idempotency key. */
export function envelopeKey(envelope: Pick<OrderEnvelope, 'order'>): string {
  return orderKey(envelope.order);
}

/** The bytes on the wire. Does not validate: a bad order is quarantined by the consumer, with its reason. */
export function encodeEnvelope(envelope: OrderEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/**
 * Reads a message value. Never throws: a message that can never be stored gives
 * `{ ok: false, reason }`, the reason naming the field (`order.currency: expected an ISO-4217
 * currency code`), so the caller can quarantine it and keep the partition moving.
 */
export function decodeEnvelope(bytes: Uint8Array | null | undefined): DecodeResult {
  if (bytes === null || bytes === undefined || bytes.length === 0) return fail('empty message');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('not UTF-8 text');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('envelope: expected a JSON object');
  }
  const version = (value as { v?: unknown }).v;
  if (version === undefined) return fail('v: missing envelope version');
  if (version !== ENVELOPE_VERSION) {
    return fail(`unsupported envelope version ${JSON.stringify(version)}`);
  }
  const header = envelopeHeaderSchema.safeParse(value);
  const issues = header.success ? [] : zodIssues(header.error);
  const rawOrder = (value as { order?: unknown }).order;
  if (rawOrder === undefined) return fail(joinIssues([...issues, { path: 'order', message: 'missing' }]));
  let order: UnifiedOrder;
  try {
    order = parseOrder(rawOrder, 'order');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return fail(joinIssues([...issues, ...error.issues]));
  }
  if (!header.success) return fail(joinIssues(issues));
  // A header that disagrees with its order means the envelope was assembled wrongly: storing it
  // under either identity could overwrite another account's order.
  if (header.data.platform !== order.platform) {
    return fail(
      `order.platform: "${order.platform}" does not match the envelope's "${header.data.platform}"`,
    );
  }
  if (header.data.account !== order.account) {
    return fail(`order.account: "${order.account}" does not match the envelope's "${header.data.account}"`);
  }
  return { ok: true, envelope: { ...header.data, order } };
}

function joinIssues(issues: readonly { path: string; message: string }[]): string {
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
}

function fail(reason: string): { ok: false; reason: string } {
  return {
    ok: false,
    reason: reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason,
  };
}
