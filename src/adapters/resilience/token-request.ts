import type { AxiosInstance, AxiosResponse } from 'axios';
import { Secret } from '../../core/secret.js';
import { classifyHttpFailure } from './classify-http-failure.js';
import { PLATFORM_ERROR_CODES as CODES, PlatformError, reauthoriseHint } from './platform-error.js';
import { normaliseHeaders } from './usage-headers.js';

/** The client side of an OAuth2 `refresh_token` grant, as each platform wants it sent. */
export interface TokenClient {
  platform: string;
  account: string;
  tokenUrl: string;
  clientId: Secret | string;
  clientSecret: Secret;
  /**
   * `body`: client_id and client_secret as form fields (Amazon LWA); `basic`:
   * `Authorization: Basic base64(id:secret)` (eBay). Default `body`.
   */
  clientAuth?: 'body' | 'basic';
  /** Scopes asked for (eBay requires them), space-separated when a list. */
  scope?: string | readonly string[];
  /** When the response has no `expires_in`, seconds. Default 3600. */
  defaultExpiresInS?: number;
  /** Default 10,000 ms. */
  timeoutMs?: number;
}

export interface TokenGrant {
  accessToken: Secret;
  expiresInS: number;
  /** Present when the platform rotated the refresh token: the old one no longer works. */
  rotatedRefreshToken?: Secret;
}

/**
 * POSTs the form-encoded refresh_token grant and reads the answer. Failures are PlatformErrors
 * of operation `token`:
 * - `invalid_grant` (revoked or expired grant): config, TRADECTL_PLATFORM_AUTH, `permanent: true`
 *   in details and a hint telling how to re-authorise; `invalid_client`/`unauthorized_client`
 *   likewise, hinting at the client credentials;
 * - any other 4xx (but 408/429): config, TRADECTL_PLATFORM_AUTH (credentials, scopes, tokenUrl);
 * - 408, 429, 5xx, network errors: transient as classifyHttpFailure says, retried by the caller.
 * Only the OAuth `error` fields reach error details: a token response is no place to copy from.
 */
export async function requestToken(
  http: AxiosInstance,
  client: TokenClient,
  refreshToken: Secret,
  now: () => number,
): Promise<TokenGrant> {
  const context = { platform: client.platform, account: client.account, operation: 'token' };
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken.reveal() });
  const scope = typeof client.scope === 'string' ? client.scope : client.scope?.join(' ');
  if (scope) form.set('scope', scope);
  const clientId = typeof client.clientId === 'string' ? client.clientId : client.clientId.reveal();
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  if (client.clientAuth === 'basic') {
    const pair = `${clientId}:${client.clientSecret.reveal()}`;
    headers.Authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else {
    form.set('client_id', clientId);
    form.set('client_secret', client.clientSecret.reveal());
  }
  let response: AxiosResponse;
  try {
    response = await http.post(client.tokenUrl, form.toString(), {
      headers,
      timeout: client.timeoutMs ?? 10_000,
      validateStatus: () => true,
    });
  } catch (error) {
    const failure = error as { code?: string; message: string };
    const classified = classifyHttpFailure({
      type: 'network',
      code: failure.code,
      message: failure.message,
      requestSent: true,
    })!;
    // No `cause`: an axios error carries the request config, form body (tokens) included.
    throw PlatformError.fromClassified(classified, context);
  }
  const body = (response.data && typeof response.data === 'object' ? response.data : {}) as Record<
    string,
    unknown
  >;
  const status = response.status;
  if (status >= 200 && status < 300) {
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new PlatformError(CODES.unavailable, 'token endpoint answered without an access_token', {
        ...context,
        kind: 'transient',
        status,
      });
    }
    const expiresInS = Number(body.expires_in ?? client.defaultExpiresInS ?? 3600);
    const next = body.refresh_token;
    const rotated = typeof next === 'string' && next !== '' && next !== refreshToken.reveal();
    return {
      accessToken: new Secret(body.access_token),
      expiresInS: Number.isFinite(expiresInS) && expiresInS > 0 ? expiresInS : 3600,
      ...(rotated ? { rotatedRefreshToken: new Secret(next) } : {}),
    };
  }
  const oauthError = typeof body.error === 'string' ? body.error : undefined;
  const details = { status, oauthError, description: body.error_description };
  const revoked = oauthError === 'invalid_grant';
  if (revoked || oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
    throw new PlatformError(
      CODES.auth,
      revoked
        ? 'refresh token revoked or expired (invalid_grant)'
        : `client credentials rejected (${oauthError})`,
      {
        ...context,
        kind: 'config',
        status,
        // `permanent`: the same request fails until the operator acts; callers stop asking.
        details: { ...details, permanent: true },
        hint: revoked
          ? reauthoriseHint(client.platform, client.account)
          : 'check the clientId and clientSecret in the account credentials',
      },
    );
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    throw new PlatformError(CODES.auth, `token request rejected (${oauthError ?? status})`, {
      ...context,
      kind: 'config',
      status,
      details,
      hint: 'check the account credentials, scopes and tokenUrl',
    });
  }
  const classified = classifyHttpFailure(
    { type: 'response', status, headers: normaliseHeaders(response.headers), data: details },
    { now },
  )!;
  throw PlatformError.fromClassified({ ...classified, details }, { ...context, status });
}
