import {
  type ClassifyRule,
  classifyWithTable,
  type PlatformClassifier,
  type PlatformErrorInfo,
} from '../classify.js';
import { isRec } from '../payload.js';
import type { ErrorClassifier } from '../types.js';

/**
 * Shopify Admin REST failures. `errors` is a string, a list of strings, or a field -> messages
 * object. 401 is a bad or expired access token (refreshed once where tokens expire; a static
 * token failing again is configuration); 429 carries `Retry-After` in (fractional) seconds.
 */
export const SHOPIFY_ERROR_RULES: readonly ClassifyRule[] = [
  { status: 401, is: 'authExpired', why: 'invalid API key or access token' },
  {
    status: 402,
    is: 'authRejected',
    why: 'shop frozen (payment required)',
    hint: 'the shop must settle its Shopify bill before its API can be used',
  },
  {
    status: 403,
    is: 'authRejected',
    why: 'access denied',
    hint: 'grant the app the scopes read_orders (+read_all_orders), write_inventory, write_fulfillments',
  },
  { status: 423, is: 'authRejected', why: 'shop locked', hint: 'the shop is locked; contact the merchant' },
  { status: 429, is: 'throttled', why: 'call limit exceeded' },
  { status: [400, 406, 422], is: 'rejected', why: 'request rejected' },
  { status: 404, is: 'rejected', why: 'not found' },
  { status: (status) => status >= 500, is: 'unavailable', why: 'server error' },
];

export function readShopifyError(data: unknown): PlatformErrorInfo {
  const errors = isRec(data) ? (data.errors ?? data.error) : data;
  return { codes: [], text: flatten(errors).join('; ') };
}

function flatten(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value)) return value.flatMap(flatten);
  if (isRec(value)) {
    return Object.entries(value).flatMap(([field, messages]) =>
      flatten(messages).map((text) => `${field} ${text}`),
    );
  }
  return [];
}

const SHOPIFY: PlatformClassifier = {
  platform: 'shopify',
  rules: SHOPIFY_ERROR_RULES,
  read: readShopifyError,
};

export const classifyShopifyFailure: ErrorClassifier = (failure) => classifyWithTable(SHOPIFY, failure);
