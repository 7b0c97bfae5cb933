import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OAuthRefreshAuth, StaticTokenAuth } from '../../src/adapters/resilience/auth.js';
import { PlatformError } from '../../src/adapters/resilience/platform-error.js';
import {
  MemoryTokenStore,
  type TokenRecord,
  type TokenStoreAccount,
} from '../../src/adapters/resilience/token-store.js';
import type { PlatformRequest } from '../../src/adapters/types.js';
import { Secret } from '../../src/core/secret.js';

const LWA = 'https://api.amazon.test';
const request: PlatformRequest = { operation: 'getOrders', method: 'GET', url: '/orders/2026-01-01/orders' };

/** The token endpoint: answers each token request with the next response, recording the forms. */
function tokenEndpoint(base: string, path: string, ...responses: [number, Record<string, unknown>][]) {
  const forms: URLSearchParams[] = [];
  const headers: Record<string, string | string[] | undefined>[] = [];
  const scope = nock(base);
  for (const [status, body] of responses) {
    scope
      .post(path)
      .delay(20)
      .reply(function (_uri, raw) {
        forms.push(new URLSearchParams(String(raw)));
        headers.push({ ...this.req.headers });
        return [status, body];
      });
  }
  return { scope, forms, headers };
}

function amazonAuth(overrides: Partial<ConstructorParameters<typeof OAuthRefreshAuth>[0]> = {}) {
  return new OAuthRefreshAuth({
    platform: 'amazon',
    account: 'eu1',
    tokenUrl: `${LWA}/auth/o2/token`,
    clientId: 'amzn1.application-oa2-client.x',
    clientSecret: new Secret('client-secret'),
    refreshToken: new Secret('Atzr|configured'),
    header: 'x-amz-access-token',
    prefix: '',
    ...overrides,
  });
}

describe('auth', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('StaticTokenAuth sends the Shopify access token header', async () => {
    const auth = new StaticTokenAuth({ token: new Secret('shpat_abc') });
    const authorized = await auth.authorize({
      operation: 'orders.json',
      headers: { Accept: 'application/json' },
    });
    expect(authorized.headers).toEqual({ Accept: 'application/json', 'X-Shopify-Access-Token': 'shpat_abc' });
  });

  it('refreshes with client credentials in the form body (Amazon LWA) and caches the token', async () => {
    const endpoint = tokenEndpoint(LWA, '/auth/o2/token', [
      200,
      { access_token: 'Atza|one', token_type: 'bearer', expires_in: 3600, refresh_token: 'Atzr|configured' },
    ]);
    const auth = amazonAuth();
    const first = await auth.authorize(request);
    const second = await auth.authorize(request);
    expect(first.headers).toMatchObject({ 'x-amz-access-token': 'Atza|one' });
    expect(second.headers).toMatchObject({ 'x-amz-access-token': 'Atza|one' });
    expect(endpoint.forms.length).toBe(1);
    expect(Object.fromEntries(endpoint.forms[0]!)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'Atzr|configured',
      client_id: 'amzn1.application-oa2-client.x',
      client_secret: 'client-secret',
    });
    expect(endpoint.headers[0]!['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('sends client credentials as Basic auth with the scopes (eBay)', async () => {
    const endpoint = tokenEndpoint('https://api.ebay.test', '/identity/v1/oauth2/token', [
      200,
      { access_token: 'v^1.1#ebay', expires_in: 7200, token_type: 'User Access Token' },
    ]);
    const auth = new OAuthRefreshAuth({
      platform: 'ebay',
      account: 'us1',
      tokenUrl: 'https://api.ebay.test/identity/v1/oauth2/token',
      clientId: 'app-id',
      clientSecret: new Secret('cert-id'),
      refreshToken: new Secret('v^1.1#refresh'),
      clientAuth: 'basic',
      scope: [
        'https://api.ebay.com/oauth/api_scope/sell.fulfillment',
        'https://api.ebay.com/oauth/api_scope/sell.inventory',
      ],
    });
    const authorized = await auth.authorize(request);
    expect(authorized.headers).toMatchObject({ Authorization: 'Bearer v^1.1#ebay' });
    expect(endpoint.headers[0]!.authorization).toBe(
      `Basic ${Buffer.from('app-id:cert-id').toString('base64')}`,
    );
    expect(endpoint.forms[0]!.get('client_secret')).toBeNull();
    expect(endpoint.forms[0]!.get('scope')).toBe(
      'https://api.ebay.com/oauth/api_scope/sell.fulfillment https://api.ebay.com/oauth/api_scope/sell.inventory',
    );
  });

  it('refreshes again once the token is within the margin of its expiry', async () => {
    let now = Date.UTC(2026, 0, 1);
    const endpoint = tokenEndpoint(
      LWA,
      '/auth/o2/token',
      [200, { access_token: 'Atza|one', expires_in: 3600 }],
      [200, { access_token: 'Atza|two', expires_in: 3600 }],
    );
    const auth = amazonAuth({ now: () => now, refreshMarginMs: 60_000 });
    await auth.authorize(request);
    now += 3600_000 - 61_000;
    expect((await auth.authorize(request)).headers).toMatchObject({ 'x-amz-access-token': 'Atza|one' });
    now += 2_000;
    expect((await auth.authorize(request)).headers).toMatchObject({ 'x-amz-access-token': 'Atza|two' });
    expect(endpoint.forms.length).toBe(2);
  });

  it('makes exactly one token request for many concurrent authorize calls', async () => {
    const endpoint = tokenEndpoint(LWA, '/auth/o2/token', [
      200,
      { access_token: 'Atza|one', expires_in: 3600 },
    ]);
    const auth = amazonAuth();
    const results = await Promise.all(Array.from({ length: 10 }, () => auth.authorize(request)));
    expect(new Set(results.map((r) => (r.headers as Record<string, string>)['x-amz-access-token']))).toEqual(
      new Set(['Atza|one']),
    );
    expect(endpoint.forms.length).toBe(1);
    expect(endpoint.scope.isDone()).toBe(true);
  });

  it('drops the rejected token once: a late 401 for a token already replaced refreshes nothing', async () => {
    const endpoint = tokenEndpoint(
      LWA,
      '/auth/o2/token',
      [200, { access_token: 'Atza|one', expires_in: 3600 }],
      [200, { access_token: 'Atza|two', expires_in: 3600 }],
    );
    const auth = amazonAuth();
    const [a, b] = await Promise.all([auth.authorize(request), auth.authorize(request)]);
    await auth.invalidate(a);
    const c = await auth.authorize(request);
    await auth.invalidate(b);
    const d = await auth.authorize(request);
    expect(c.headers).toMatchObject({ 'x-amz-access-token': 'Atza|two' });
    expect(d.headers).toMatchObject({ 'x-amz-access-token': 'Atza|two' });
    expect(endpoint.forms.length).toBe(2);
  });

  it('turns a revoked grant into a config error telling how to re-authorise, and stops asking', async () => {
    const endpoint = tokenEndpoint(LWA, '/auth/o2/token', [
      400,
      {
        error: 'invalid_grant',
        error_description: 'The request has an invalid grant parameter : refresh_token',
      },
    ]);
    const auth = amazonAuth();
    const error = (await auth.authorize(request).catch((caught: unknown) => caught)) as PlatformError;
    expect(error).toBeInstanceOf(PlatformError);
    expect(error.code).toBe('TRADECTL_PLATFORM_AUTH');
    expect(error.kind).toBe('config');
    expect(error.retriable).toBe(false);
    expect(error.authExpired).toBe(false);
    expect(error.hint).toMatch(/^re-authorise the account: .*amazon.*"eu1"/);
    expect(error.details).toMatchObject({ platform: 'amazon', account: 'eu1', oauthError: 'invalid_grant' });
    expect(JSON.stringify(error.details)).not.toContain('Atzr|configured');
    await expect(auth.authorize(request)).rejects.toBe(error);
    expect(endpoint.forms.length).toBe(1);
  });

  it('treats a failing token endpoint as transient', async () => {
    tokenEndpoint(LWA, '/auth/o2/token', [503, { message: 'unavailable' }]);
    const error = (await amazonAuth()
      .authorize(request)
      .catch((caught: unknown) => caught)) as PlatformError;
    expect([error.code, error.kind, error.retriable]).toEqual([
      'TRADECTL_PLATFORM_UNAVAILABLE',
      'transient',
      true,
    ]);
  });

  it('stores a rotated refresh token before handing out the new access token, and refreshes with it', async () => {
    const events: string[] = [];
    class RecordingStore extends MemoryTokenStore {
      override async write(account: TokenStoreAccount, record: TokenRecord): Promise<void> {
        events.push(`stored ${record.refreshToken?.reveal()}`);
        await super.write(account, record);
      }
    }
    let now = Date.UTC(2026, 0, 1);
    const endpoint = tokenEndpoint(
      'https://openapi.etsy.test',
      '/v3/public/oauth/token',
      [200, { access_token: 'etsy-a1', expires_in: 3600, refresh_token: 'etsy-r1' }],
      [200, { access_token: 'etsy-a2', expires_in: 3600, refresh_token: 'etsy-r2' }],
    );
    const auth = new OAuthRefreshAuth({
      platform: 'etsy',
      account: 'shop9',
      tokenUrl: 'https://openapi.etsy.test/v3/public/oauth/token',
      clientId: 'keystring',
      clientSecret: new Secret('shared-secret'),
      refreshToken: new Secret('etsy-r0'),
      store: new RecordingStore(),
      now: () => now,
    });
    const first = await auth.authorize(request);
    events.push(`used ${(first.headers as Record<string, string>).Authorization}`);
    now += 3600_000;
    const second = await auth.authorize(request);
    events.push(`used ${(second.headers as Record<string, string>).Authorization}`);
    expect(events).toEqual([
      'stored etsy-r1',
      'used Bearer etsy-a1',
      'stored etsy-r2',
      'used Bearer etsy-a2',
    ]);
    expect(endpoint.forms.map((form) => form.get('refresh_token'))).toEqual(['etsy-r0', 'etsy-r1']);
  });

  it('keeps a rotated token it could not store, and stores it before using it on the next call', async () => {
    let failWrites = 1;
    class FlakyStore extends MemoryTokenStore {
      override async write(account: TokenStoreAccount, record: TokenRecord): Promise<void> {
        if (failWrites-- > 0) throw new Error('redis down');
        await super.write(account, record);
      }
    }
    const store = new FlakyStore();
    const endpoint = tokenEndpoint('https://openapi.etsy.test', '/token', [
      200,
      { access_token: 'etsy-a1', expires_in: 3600, refresh_token: 'etsy-r1' },
    ]);
    const auth = new OAuthRefreshAuth({
      platform: 'etsy',
      account: 'shop9',
      tokenUrl: 'https://openapi.etsy.test/token',
      clientId: 'keystring',
      clientSecret: new Secret('shared-secret'),
      refreshToken: new Secret('etsy-r0'),
      store,
    });
    await expect(auth.authorize(request)).rejects.toThrow('redis down');
    const authorized = await auth.authorize(request);
    expect(authorized.headers).toMatchObject({ Authorization: 'Bearer etsy-a1' });
    expect((await store.read({ platform: 'etsy', account: 'shop9' }))?.refreshToken?.reveal()).toBe(
      'etsy-r1',
    );
    expect(endpoint.forms.length).toBe(1);
  });

  it('ignores stored tokens descending from an older configured refresh token (re-authorised)', async () => {
    const store = new MemoryTokenStore();
    await store.write(
      { platform: 'amazon', account: 'eu1' },
      { accessToken: new Secret('Atza|stale'), expiresAt: Date.now() + 3600_000, seed: 'older-grant' },
    );
    tokenEndpoint(LWA, '/auth/o2/token', [200, { access_token: 'Atza|fresh', expires_in: 3600 }]);
    const authorized = await amazonAuth({ store }).authorize(request);
    expect(authorized.headers).toMatchObject({ 'x-amz-access-token': 'Atza|fresh' });
  });

  it('prints stored tokens redacted', async () => {
    const store = new MemoryTokenStore();
    tokenEndpoint(LWA, '/auth/o2/token', [200, { access_token: 'Atza|secret', expires_in: 3600 }]);
    await amazonAuth({ store }).authorize(request);
    const record = await store.read({ platform: 'amazon', account: 'eu1' });
    expect(JSON.stringify(record)).not.toContain('Atza|secret');
    expect(record?.refreshToken).toBeUndefined();
  });
});
