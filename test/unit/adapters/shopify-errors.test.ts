import { describe, expect, it } from 'vitest';
import { classifyShopifyFailure } from '../../../src/adapters/shopify/errors.js';
import type { HttpFailure } from '../../../src/adapters/types.js';

const shopify = (status: number, errors: unknown, headers: Record<string, string> = {}): HttpFailure => ({
  type: 'response',
  status,
  headers: { 'x-shopify-shop-api-call-limit': '40/40', ...headers },
  data: { errors },
});

describe('Shopify error classification', () => {
  it.each([
    [
      '401 invalid token: refresh once (a static token then surfaces as auth)',
      shopify(401, '[API] Invalid API key or access token (unrecognized login or wrong password)'),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', authExpired: true },
    ],
    [
      '402 shop frozen: configuration',
      shopify(402, 'Unavailable Shop'),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config' },
    ],
    [
      '403 missing scope: configuration',
      shopify(403, 'This action requires merchant approval for read_all_orders scope.'),
      { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', retriable: false },
    ],
    ['404: data', shopify(404, 'Not Found'), { code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data' }],
    [
      '422 validation: data',
      shopify(422, { available: ['must be an integer'] }),
      { code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data', retriable: false },
    ],
    [
      '400 filters with page_info: data',
      shopify(400, { status: 'status cannot be passed when page_info is present.' }),
      { code: 'TRADECTL_PLATFORM_REJECTED' },
    ],
    [
      '502: transient',
      shopify(502, 'Bad Gateway'),
      { code: 'TRADECTL_PLATFORM_UNAVAILABLE', retriable: true },
    ],
  ])('%s', (_name, failure, expected) => {
    expect(classifyShopifyFailure(failure)).toMatchObject(expected);
  });

  it('waits the fractional Retry-After of a 429', () => {
    const classified = classifyShopifyFailure(
      shopify(
        429,
        'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
        {
          'Retry-After': '2.0',
        },
      ),
    );
    expect(classified).toMatchObject({
      code: 'TRADECTL_PLATFORM_THROTTLED',
      throttled: true,
      retriable: true,
      retryAfterMs: 2000,
    });
    expect(classified?.message).toContain('Exceeded 2 calls per second');
  });

  it('flattens field errors into the message', () => {
    const classified = classifyShopifyFailure(
      shopify(422, { line_items: ['is invalid'], base: ['not open'] }),
    );
    expect(classified?.message).toContain('line_items is invalid; base not open');
  });
});
