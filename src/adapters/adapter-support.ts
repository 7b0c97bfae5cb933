import type { AxiosResponse } from 'axios';
import type { AccountConfig } from '../core/config.js';
import { ConfigError, type FieldIssue, ValidationError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { isRec, type Rec } from './payload.js';
import { isPlatformError, PLATFORM_ERROR_CODES, PlatformError } from './resilience/platform-error.js';
import type { WriteOutcome } from './types.js';

/**
 * Small pieces every adapter client shares: reading response bodies defensively, turning an
 * unanswered write into `indeterminate`, and reading account options by field name.
 */

/** True when the platform answered 404: the thing asked for does not exist (getOrder -> null). */
export function isNotFound(error: unknown): boolean {
  return isPlatformError(error) && error.status === 404;
}

/**
 * Runs a write. A write the choke point reports as indeterminate (sent, no answer, not
 * repeatable) becomes an `indeterminate` outcome to record and check later; anything else
 * propagates.
 */
export async function writeOutcome(write: () => Promise<string | undefined>): Promise<WriteOutcome> {
  try {
    const platformRequestId = await write();
    return platformRequestId === undefined ? { status: 'applied' } : { status: 'applied', platformRequestId };
  } catch (error) {
    if (
      isPlatformError(error) &&
      (error.indeterminate || error.code === PLATFORM_ERROR_CODES.indeterminate)
    ) {
      return { status: 'indeterminate', reason: error.message };
    }
    throw error;
  }
}

/**
 * The JSON object a successful response must carry. A 2xx with anything else (an HTML page
 * from a proxy, a truncated body) is a transient platform fault, not data to map.
 */
export function bodyObject(
  response: AxiosResponse,
  context: { platform: string; account: string; operation: string },
): Rec {
  if (isRec(response.data)) return response.data;
  const preview = typeof response.data === 'string' ? response.data.slice(0, 200) : typeof response.data;
  throw new PlatformError(PLATFORM_ERROR_CODES.unavailable, 'response body is not a JSON object', {
    ...context,
    kind: 'transient',
    retriable: true,
    status: response.status,
    details: { body: preview },
  });
}

/** The array at `body[key]`, or a transient error when the platform sent something else. */
export function bodyArray(
  body: Rec,
  key: string,
  context: { platform: string; account: string; operation: string },
  options: { optional?: boolean } = {},
): unknown[] {
  const value = body[key];
  if (Array.isArray(value)) return value;
  if (value == null && options.optional) return [];
  throw new PlatformError(PLATFORM_ERROR_CODES.unavailable, `response has no "${key}" array`, {
    ...context,
    kind: 'transient',
    retriable: true,
  });
}

/** A secret credential of the account, named by field when it is missing. */
export function credential(account: AccountConfig, name: string): Secret | undefined {
  const value = account.credentials[name];
  return value && value.reveal() !== '' ? value : undefined;
}

export function requireCredential(account: AccountConfig, name: string): Secret {
  const value = credential(account, name);
  if (!value) throw new ConfigError([{ path: `credentials.${name}`, message: 'is required' }]);
  return value;
}

/** A string option (`options.shopDomain`), or undefined. */
export function stringOption(account: AccountConfig, name: string): string | undefined {
  const value = account.options[name];
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A list option given as an array of strings or one comma-separated string. */
export function listOption(account: AccountConfig, name: string): string[] | undefined {
  const value = account.options[name];
  if (typeof value === 'string')
    return value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return value.map((item) => item.trim()).filter(Boolean);
  }
  return undefined;
}

/** A write needs an option the account does not have: configuration, named by field. */
export function missingOption(name: string, why: string): ConfigError {
  return new ConfigError([{ path: `options.${name}`, message: `is required ${why}` }]);
}

/** Bad input to an adapter operation (a caller's argument), named by field. */
export function invalidInput(issues: FieldIssue[]): ValidationError {
  return new ValidationError('invalid adapter input', issues);
}

/**
 * A small stable number from a string (FNV-1a, 32 bits), for platforms that accept only a
 * numeric reference where we want to derive it from an idempotency key.
 */
export function numericKey(text: string): string {
  let hash = 0x811c9dc5;
  for (const char of text) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // Positive and non-zero: Amazon's packageReferenceId takes only positive numbers.
  return String((hash % 2_000_000_000) + 1);
}

/** A response header by case-insensitive name, from axios' header object. */
export function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== wanted || value == null) continue;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }
  return undefined;
}
