import {
  type ClassifyRule,
  classifyWithTable,
  type PlatformClassifier,
  type PlatformErrorInfo,
} from '../classify.js';
import { isRec } from '../payload.js';
import type { ErrorClassifier } from '../types.js';

/**
 * Amazon SP-API failures. The envelope is `{"errors":[{"code","message","details"}]}`.
 * An expired access token is a 403 (not 401) whose `details` say so; clients key the refresh
 * on that text. Throttling is 429 `QuotaExceeded`, usually without Retry-After.
 */
export const AMAZON_ERROR_RULES: readonly ClassifyRule[] = [
  {
    status: 403,
    text: /access token you provided has expired/i,
    is: 'authExpired',
    why: 'access token expired',
  },
  {
    status: 403,
    text: /access token you provided is revoked, malformed or invalid/i,
    is: 'authExpired',
    why: 'access token rejected',
  },
  {
    status: 403,
    code: 'MissingAuthenticationToken',
    is: 'authRejected',
    why: 'no access token sent',
    hint: 'check the account credentials (clientId, clientSecret, refreshToken)',
  },
  {
    status: 403,
    is: 'authRejected',
    why: 'access denied',
    hint: 'check the application roles and that the seller authorised this application',
  },
  // Older operations (v0 confirmShipment) document 401 for bad credentials.
  { status: 401, is: 'authExpired', why: 'unauthorized' },
  { status: 429, is: 'throttled', why: 'quota exceeded' },
  { status: 400, code: 'InvalidInput', is: 'rejected', why: 'invalid input' },
  { status: [400, 413, 415], is: 'rejected', why: 'request rejected' },
  { status: 404, is: 'rejected', why: 'not found' },
  { status: (status) => status >= 500, is: 'unavailable', why: 'server error' },
];

export function readAmazonError(data: unknown): PlatformErrorInfo {
  const errors = isRec(data) && Array.isArray(data.errors) ? data.errors : [];
  const codes: string[] = [];
  const texts: string[] = [];
  for (const error of errors) {
    if (!isRec(error)) continue;
    if (typeof error.code === 'string') codes.push(error.code);
    for (const key of ['message', 'details'] as const) {
      const value = error[key];
      if (typeof value === 'string' && value !== '') texts.push(value);
    }
  }
  return { codes, text: texts.join(' ') };
}

const AMAZON: PlatformClassifier = { platform: 'amazon', rules: AMAZON_ERROR_RULES, read: readAmazonError };

export const classifyAmazonFailure: ErrorClassifier = (failure) => classifyWithTable(AMAZON, failure);
