import { describe, expect, it } from 'vitest';
import { classifyHttpFailure, parseRetryAfter } from '../../src/adapters/resilience/classify-http-failure.js';
import {
  normaliseHeaders,
  rateHeaderObserver,
  usedOfSizeObserver,
} from '../../src/adapters/resilience/usage-headers.js';
import type { HttpFailure } from '../../src/adapters/types.js';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

function response(status: number, headers: Record<string, string> = {}, data: unknown = {}): HttpFailure {
  return { type: 'response', status, headers, data };
}

function network(code: string | undefined, message: string, requestSent = true): HttpFailure {
  return { type: 'network', code, message, requestSent };
}

describe('classifyHttpFailure', () => {
  it.each([
    [response(200), null],
    [response(204), null],
    [response(429, { 'retry-after': '2.0' }), ['TRADECTL_PLATFORM_THROTTLED', 'transient', true]],
    [response(500), ['TRADECTL_PLATFORM_UNAVAILABLE', 'transient', true]],
    [response(503), ['TRADECTL_PLATFORM_UNAVAILABLE', 'transient', true]],
    [response(408), ['TRADECTL_PLATFORM_TIMEOUT', 'transient', true]],
    [response(401), ['TRADECTL_PLATFORM_AUTH', 'config', false]],
    [response(403), ['TRADECTL_PLATFORM_AUTH', 'config', false]],
    [response(400), ['TRADECTL_PLATFORM_REJECTED', 'data', false]],
    [response(404), ['TRADECTL_PLATFORM_REJECTED', 'data', false]],
    [response(422), ['TRADECTL_PLATFORM_REJECTED', 'data', false]],
    [response(302), ['TRADECTL_PLATFORM_REJECTED', 'data', false]],
    [network('ECONNRESET', 'socket hang up'), ['TRADECTL_PLATFORM_NETWORK', 'transient', true]],
    [network(undefined, 'socket hang up'), ['TRADECTL_PLATFORM_NETWORK', 'transient', true]],
    [
      network('ECONNREFUSED', 'connect ECONNREFUSED', false),
      ['TRADECTL_PLATFORM_NETWORK', 'transient', true],
    ],
    [network('ECONNABORTED', 'timeout of 5000ms exceeded'), ['TRADECTL_PLATFORM_TIMEOUT', 'transient', true]],
    [network('ETIMEDOUT', 'connect ETIMEDOUT'), ['TRADECTL_PLATFORM_TIMEOUT', 'transient', true]],
    [network('ERR_INVALID_URL', 'Invalid URL'), ['TRADECTL_PLATFORM_NETWORK', 'transient', false]],
    [
      network('ERR_BAD_RESPONSE', 'stream has been aborted'),
      ['TRADECTL_PLATFORM_NETWORK', 'transient', true],
    ],
    [network('ERR_BAD_RESPONSE', 'terminated'), ['TRADECTL_PLATFORM_NETWORK', 'transient', true]],
    [
      network('ERR_BAD_RESPONSE', 'maxContentLength size of 2000 exceeded'),
      ['TRADECTL_PLATFORM_NETWORK', 'transient', false],
    ],
  ] as const)('%j -> %j', (failure, expected) => {
    const classified = classifyHttpFailure(failure, { now: () => NOW });
    if (expected === null) {
      expect(classified).toBeNull();
      return;
    }
    expect([classified?.code, classified?.kind, classified?.retriable]).toEqual(expected);
  });

  it('marks a 429 as throttled with the wait the platform asked for', () => {
    const classified = classifyHttpFailure(
      response(429, { 'Retry-After': '2.0' }, { errors: 'Exceeded 2 calls' }),
    );
    expect(classified).toMatchObject({ throttled: true, retryAfterMs: 2000 });
    expect(classified?.details).toMatchObject({ status: 429, body: { errors: 'Exceeded 2 calls' } });
  });

  it('asks for a token refresh on 401 only, not on 403', () => {
    expect(classifyHttpFailure(response(401))?.authExpired).toBe(true);
    expect(classifyHttpFailure(response(403))?.authExpired).toBeUndefined();
  });

  it('keeps a huge error body out of the error, truncated', () => {
    const classified = classifyHttpFailure(response(502, {}, '<html>'.padEnd(10_000, 'x')));
    expect(String(classified?.details?.body).length).toBeLessThan(2100);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['2', 2000],
    ['2.0', 2000],
    ['0.25', 250],
    [' 120 ', 120_000],
    ['Sun, 01 Mar 2026 12:00:30 GMT', 30_000],
    ['Sun, 01 Mar 2026 11:59:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j -> %j ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe('usage observers', () => {
  it('reads used/size call-limit headers', () => {
    const observe = usedOfSizeObserver('X-Shopify-Shop-Api-Call-Limit');
    expect(observe({ 'x-shopify-shop-api-call-limit': '32/40' })).toEqual({ remaining: 8, burst: 40 });
    expect(observe({ 'x-shopify-shop-api-call-limit': '80/80' })).toEqual({ remaining: 0, burst: 80 });
    expect(observe({ 'x-shopify-shop-api-call-limit': 'n/a' })).toBeNull();
    expect(observe({})).toBeNull();
  });

  it('reads a rate header in requests per second', () => {
    const observe = rateHeaderObserver('x-amzn-RateLimit-Limit');
    expect(observe({ 'x-amzn-ratelimit-limit': '0.0167' })).toEqual({ ratePerSecond: 0.0167 });
    expect(observe({ 'x-amzn-ratelimit-limit': '0' })).toBeNull();
    expect(observe({ 'x-amzn-ratelimit-limit': 'abc' })).toBeNull();
  });

  it('lower-cases header names and joins repeated values', () => {
    expect(normaliseHeaders({ 'X-Shopify-Shop-Api-Call-Limit': '1/40', 'Set-Cookie': ['a', 'b'] })).toEqual({
      'x-shopify-shop-api-call-limit': '1/40',
      'set-cookie': 'a, b',
    });
  });
});
