import { z } from 'zod';
import { type FieldIssue, ValidationError } from '../core/errors.js';
import { TENANT_PATTERN } from '../core/stock/keys.js';
import {
  ID_PATTERN,
  MAX_HOLD_MS,
  MAX_LINES,
  MAX_STOCK,
  SKU_PATTERN,
} from '../core/stock/stock-validation.js';
import { formatPath } from '../core/validation.js';

/**
 * The request shapes of the stock HTTP API (docs/stock-http.md). Pure: routes parse with these
 * before anything reaches the StockService, so a bad request is a 400 naming the HTTP field
 * (`lines[1].quantity`, `Idempotency-Key`) and changes nothing. Unknown body fields are refused
 * too: a misspelt `quantitiy` must not be silently ignored on a call that sells stock.
 */

const typeError = (expected: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? 'required' : `expected ${expected}, got ${describe(issue.input)}`;

const pattern = (regex: RegExp, text: string) =>
  z.string({ error: typeError('a string') }).regex(regex, `expected ${text}`);

const sku = pattern(SKU_PATTERN, 'a SKU of 1-128 letters, digits or . _ : / # + - (no spaces)');
const id = pattern(ID_PATTERN, '1-128 letters, digits or . _ : @ / -');
const tenant = pattern(TENANT_PATTERN, 'a tenant of 1-64 letters, digits, - or _').optional();
const integer = z.number({ error: typeError('a number') }).int('expected a whole number');
const quantity = integer.min(1, 'must be at least 1').max(MAX_STOCK, `must be at most ${MAX_STOCK}`);
const count = integer.min(0, 'must not be negative').max(MAX_STOCK, `must be at most ${MAX_STOCK}`);
const version = integer.min(0, 'must not be negative');
const delta = integer
  .refine((value) => value !== 0, 'must not be zero')
  .refine((value) => Math.abs(value) <= MAX_STOCK, `must be within ±${MAX_STOCK}`);

const lines = z
  .array(z.strictObject({ sku, quantity }), { error: typeError('an array of { sku, quantity }') })
  .min(1, 'expected at least one line')
  .max(MAX_LINES, `expected at most ${MAX_LINES} lines`);

export const skuParams = z.object({ sku });
export const tenantQuery = z.object({ tenant });

export const deductBody = z.strictObject({ operationId: id.optional(), tenant, lines });
export const deductOnceBody = z.strictObject({
  operationId: id.optional(),
  tenant,
  userId: id,
  sku,
  quantity: quantity.optional(),
});
export const reserveBody = z.strictObject({
  reservationId: id.optional(),
  tenant,
  lines,
  ttlMs: integer
    .min(1, 'must be at least 1 ms')
    .max(MAX_HOLD_MS, `must be at most ${MAX_HOLD_MS} ms (7 days)`),
});
export const settleBody = z.strictObject({ reservationId: id.optional(), tenant });
export const restoreBody = z.strictObject({ operationId: id.optional(), tenant, restores: id });
export const setBody = z.strictObject({
  operationId: id.optional(),
  tenant,
  expectedVersion: version,
  available: count,
});
export const adjustBody = z.strictObject({
  operationId: id.optional(),
  tenant,
  expectedVersion: version,
  delta,
});

/**
 * Parses one part of a request (`body`, `params`, `query`); a failure is a ValidationError whose
 * issues name each field, and each unknown field, by its path.
 */
export function parseRequestPart<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  // A POST without a body arrives as undefined: say so as the body, not as an internal error.
  const result = schema.safeParse(value ?? (what === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issues: FieldIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        issues.push({ path: formatPath('', [...issue.path, key]), message: 'unknown field' });
    } else if (issue.path.length === 0) {
      issues.push({
        path: what,
        message:
          value === undefined ? 'required (a JSON object)' : `expected a JSON object, got ${describe(value)}`,
      });
    } else issues.push({ path: formatPath('', issue.path), message: issue.message });
  }
  throw new ValidationError(`invalid request ${what}`, issues);
}

/** The HTTP header that carries a mutating call's operation id. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * The operation id of a mutating call: the `Idempotency-Key` header, or the body field
 * (`operationId`, or `reservationId` for reservations). Both may be sent if they agree; a call
 * with neither, or with two different ones, is refused: guessing would let a retry sell twice.
 */
export function operationIdOf(
  header: string | string[] | undefined,
  bodyId: string | undefined,
  field: string,
): string {
  const issues: FieldIssue[] = [];
  if (Array.isArray(header)) {
    issues.push({ path: 'Idempotency-Key', message: 'sent more than once' });
  } else if (header !== undefined && !ID_PATTERN.test(header)) {
    issues.push({
      path: 'Idempotency-Key',
      message: `expected 1-128 letters, digits or . _ : @ / -, got ${describe(header)}`,
    });
  } else if (header !== undefined && bodyId !== undefined && header !== bodyId) {
    issues.push({
      path: 'Idempotency-Key',
      message: `does not match the body's ${field} ${describe(bodyId)}`,
    });
  } else if (header === undefined && bodyId === undefined) {
    issues.push({
      path: 'Idempotency-Key',
      message: `required: send an Idempotency-Key header or the body field ${field}`,
    });
  }
  if (issues.length > 0) throw new ValidationError('invalid request', issues);
  return (header as string | undefined) ?? (bodyId as string);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
