import { describe, expect, it } from 'vitest';
import { classifyEbayFailure } from '../../../src/adapters/ebay/errors.js';
import type { HttpFailure } from '../../../src/adapters/types.js';

const ebayError = (
  status: number,
  errorId: number,
  message: string,
  headers: Record<string, string> = {},
): HttpFailure => ({
  type: 'response',
  status,
  headers,
  data: { errors: [{ errorId, domain: 'API_FULFILLMENT', category: 'REQUEST', message }] },
});

describe('eBay error classification', () => {
  it.each([
    [
      '401 errorId 1001: refresh once',
      ebayError(401, 1001, 'Invalid access token'),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', authExpired: true },
    ],
    [
      '403 errorId 1100 (Inventory expired token): refresh once',
      ebayError(403, 1100, 'Access denied'),
      { authExpired: true },
    ],
    [
      '403 other: missing scope, configuration',
      ebayError(403, 1002, 'Missing scope'),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', retriable: false },
    ],
    [
      '429 errorId 2001: throttled',
      ebayError(429, 2001, 'Too many requests'),
      { code: 'TRADECTL_PLATFORM_THROTTLED', throttled: true, retriable: true },
    ],
    [
      '400 errorId 30800: data',
      ebayError(400, 30800, 'Invalid filter value'),
      { code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data', retriable: false },
    ],
    [
      '409 conflict: data',
      ebayError(409, 32000, 'Conflict'),
      { code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data' },
    ],
    [
      '500 errorId 30500: transient',
      ebayError(500, 30500, 'System error'),
      { code: 'TRADECTL_PLATFORM_UNAVAILABLE', retriable: true },
    ],
  ])('%s', (_name, failure, expected) => {
    expect(classifyEbayFailure(failure)).toMatchObject(expected);
  });

  it('does not refresh on a plain 403', () => {
    expect(classifyEbayFailure(ebayError(403, 1002, 'Insufficient permissions'))?.authExpired).toBeFalsy();
  });

  it('keeps errorIds and messages, and honours Retry-After when sent', () => {
    const classified = classifyEbayFailure(
      ebayError(429, 2001, 'Too many requests', { 'retry-after': '60' }),
    );
    expect(classified?.details).toMatchObject({ platformCodes: ['2001'] });
    expect(classified?.message).toContain('Too many requests');
    expect(classified?.retryAfterMs).toBe(60_000);
  });

  it('leaves an unknown response unretried, with the raw body', () => {
    const classified = classifyEbayFailure({
      type: 'response',
      status: 412,
      headers: {},
      data: { odd: true },
    });
    expect(classified).toMatchObject({ retriable: false });
    expect(classified?.details?.body).toBe('{"odd":true}');
  });
});
