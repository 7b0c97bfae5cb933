import type { Sandbox, SandboxAccount, SandboxPlatform } from '../../src/sandbox/index.js';

/** A response read whole: status, headers and the parsed JSON body (or the text when not JSON). */
export interface Received {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read platform payloads freely
  body: any;
}

export async function call(url: string, init: RequestInit = {}): Promise<Received> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body };
}

export function accountOf(sandbox: Sandbox, platform: SandboxPlatform, index = 0): SandboxAccount {
  const account = sandbox.accounts.filter((entry) => entry.platform === platform)[index];
  if (!account) throw new Error(`sandbox has no ${platform} account #${index}`);
  return account;
}

/** The `rel="next"` URL of a Shopify Link header, or null. */
export function nextLink(link: string | null): string | null {
  return /<([^>]+)>;\s*rel="next"/.exec(link ?? '')?.[1] ?? null;
}

export async function amazonToken(account: SandboxAccount): Promise<string> {
  const response = await call(account.tokenUrl!, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: account.credentials.refreshToken!,
      client_id: account.credentials.clientId!,
      client_secret: account.credentials.clientSecret!,
    }).toString(),
  });
  if (response.status !== 200)
    throw new Error(`LWA answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.access_token;
}

export async function ebayToken(account: SandboxAccount): Promise<string> {
  const basic = Buffer.from(`${account.credentials.clientId}:${account.credentials.clientSecret}`).toString(
    'base64',
  );
  const response = await call(account.tokenUrl!, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: account.credentials.refreshToken!,
      scope: 'https://api.ebay.com/oauth/api_scope/sell.fulfillment',
    }).toString(),
  });
  if (response.status !== 200)
    throw new Error(`eBay identity answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.access_token;
}

export const ALL_AMAZON_DATA = 'BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES,CANCELLATION';
