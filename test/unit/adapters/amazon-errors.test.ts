import { describe, expect, it } from 'vitest';
import { classifyAmazonFailure } from '../../../src/adapters/amazon/errors.js';
import type { HttpFailure } from '../../../src/adapters/types.js';

const response = (status: number, errors: unknown[], headers: Record<string, string> = {}): HttpFailure => ({
  type: 'response',
  status,
  headers: { 'x-amzn-requestid': 'req-1', ...headers },
  data: { errors },
});

describe('Amazon error classification', () => {
  it.each([
    [
      '403 expired token: refresh once',
      response(403, [
        {
          code: 'Unauthorized',
          message: 'Access to requested resource is denied.',
          details: 'The access token you provided has expired.',
        },
      ]),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', retriable: false, authExpired: true },
    ],
    [
      '403 revoked or malformed token: refresh once',
      response(403, [
        {
          code: 'Unauthorized',
          message: 'Access to requested resource is denied.',
          details: 'The access token you provided is revoked, malformed or invalid.',
        },
      ]),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', authExpired: true },
    ],
    [
      '403 missing token: configuration',
      response(403, [
        { code: 'MissingAuthenticationToken', message: 'Access to requested resource is denied.' },
      ]),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', retriable: false, authExpired: undefined },
    ],
    [
      '403 access denied without token details: missing role',
      response(403, [{ code: 'Unauthorized', message: 'Access to requested resource is denied.' }]),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', authExpired: undefined },
    ],
    [
      '429 QuotaExceeded: throttled, not a breaker failure',
      response(429, [
        { code: 'QuotaExceeded', message: 'You exceeded your quota for the requested resource.' },
      ]),
      { code: 'TRADECTL_PLATFORM_THROTTLED', kind: 'transient', retriable: true, throttled: true },
    ],
    [
      '400 InvalidInput: data, not retried',
      response(400, [{ code: 'InvalidInput', message: 'We could not decode your NextToken.' }]),
      { code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data', retriable: false },
    ],
    [
      '404: data',
      response(404, [{ code: 'NotFound', message: 'Order not found' }]),
      { code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data' },
    ],
    [
      '500: transient',
      response(500, [{ code: 'InternalFailure', message: 'We encountered an internal error.' }]),
      { code: 'TRADECTL_PLATFORM_UNAVAILABLE', kind: 'transient', retriable: true },
    ],
    ['503: transient', response(503, []), { code: 'TRADECTL_PLATFORM_UNAVAILABLE', retriable: true }],
  ])('%s', (_name, failure, expected) => {
    const classified = classifyAmazonFailure(failure);
    expect(classified).toMatchObject(
      Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)),
    );
    for (const [key, value] of Object.entries(expected)) {
      if (value === undefined) expect(classified?.[key as keyof typeof classified]).toBeFalsy();
    }
  });

  it('keeps the platform codes and the platform message', () => {
    const classified = classifyAmazonFailure(
      response(
        429,
        [{ code: 'QuotaExceeded', message: 'You exceeded your quota for the requested resource.' }],
        {
          'Retry-After': '3',
        },
      ),
    );
    expect(classified?.message).toContain('You exceeded your quota');
    expect(classified?.details).toMatchObject({ status: 429, platformCodes: ['QuotaExceeded'] });
    expect(classified?.retryAfterMs).toBe(3000);
  });

  it('returns null for a success', () => {
    expect(classifyAmazonFailure({ type: 'response', status: 204, headers: {}, data: '' })).toBeNull();
  });

  it('leaves an unknown status unretried, with the raw body', () => {
    const classified = classifyAmazonFailure({
      type: 'response',
      status: 418,
      headers: {},
      data: '<html>teapot</html>',
    });
    expect(classified).toMatchObject({ retriable: false, kind: 'data' });
    expect(classified?.details?.body).toBe('<html>teapot</html>');
  });

  it('classifies network failures as transient', () => {
    const classified = classifyAmazonFailure({
      type: 'network',
      code: 'ECONNRESET',
      message: 'socket hang up',
      requestSent: true,
    });
    expect(classified).toMatchObject({ kind: 'transient', retriable: true });
  });
});
