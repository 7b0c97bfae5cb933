import {
  type ClassifyRule,
  classifyWithTable,
  type PlatformClassifier,
  type PlatformErrorInfo,
} from '../classify.js';
import { isRec } from '../payload.js';
import type { ErrorClassifier } from '../types.js';

/**
 * eBay REST failures. The envelope is `{"errors":[{"errorId", domain, category, message,
 * longMessage, parameters}]}`; rules match on errorId (as text). An invalid or expired token is
 * 401 errorId 1001; some Inventory endpoints answer an expired token with 403 errorId 1100,
 * so that one refreshes once too. 429 errorId 2001 is the call quota.
 */
export const EBAY_ERROR_RULES: readonly ClassifyRule[] = [
  { status: 401, code: '1001', is: 'authExpired', why: 'invalid access token' },
  { status: 401, is: 'authExpired', why: 'unauthorized' },
  { status: 403, code: '1100', is: 'authExpired', why: 'access denied (refreshing once)' },
  {
    status: 403,
    is: 'authRejected',
    why: 'access denied',
    hint: 'check the OAuth scopes granted to the refresh token (sell.fulfillment, sell.inventory)',
  },
  { status: 429, code: '2001', is: 'throttled', why: 'too many requests (call limit)' },
  { status: 429, is: 'throttled', why: 'too many requests' },
  { status: 400, is: 'rejected', why: 'request rejected' },
  { status: 404, is: 'rejected', why: 'not found' },
  { status: 409, is: 'rejected', why: 'conflict' },
  { status: (status) => status >= 500, is: 'unavailable', why: 'server error' },
];

export function readEbayError(data: unknown): PlatformErrorInfo {
  const errors = isRec(data) && Array.isArray(data.errors) ? data.errors : [];
  const codes: string[] = [];
  const texts: string[] = [];
  for (const error of errors) {
    if (!isRec(error)) continue;
    if (typeof error.errorId === 'number' || typeof error.errorId === 'string')
      codes.push(String(error.errorId));
    const text = error.longMessage ?? error.message;
    if (typeof text === 'string' && text !== '') texts.push(text);
  }
  // The identity endpoint answers OAuth-style: {"error":"invalid_grant","error_description":…}.
  if (isRec(data) && typeof data.error === 'string') {
    codes.push(data.error);
    if (typeof data.error_description === 'string') texts.push(data.error_description);
  }
  return { codes, text: texts.join(' ') };
}

const EBAY: PlatformClassifier = { platform: 'ebay', rules: EBAY_ERROR_RULES, read: readEbayError };

export const classifyEbayFailure: ErrorClassifier = (failure) => classifyWithTable(EBAY, failure);
