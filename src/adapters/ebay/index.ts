import type { AccountConfig } from '../../core/config.js';
import { ConfigError, type FieldIssue } from '../../core/errors.js';
import { credential, listOption } from '../adapter-support.js';
import { OAuthRefreshAuth } from '../resilience/auth.js';
import type { AdapterDeps, AdapterManifest, MarketplaceAdapter } from '../types.js';
import { EbayClient } from './client.js';
import { classifyEbayFailure } from './errors.js';

export const EBAY_API_URL = 'https://api.ebay.com';
/** eBay identity endpoint (refresh_token grant, client credentials as Basic auth). */
export const EBAY_TOKEN_URL = 'https://api.ebay.com/identity/v1/oauth2/token';

/** Scopes asked for on refresh; they must be a subset of those the seller granted. */
export const EBAY_DEFAULT_SCOPES = [
  'https://api.ebay.com/oauth/api_scope/sell.fulfillment',
  'https://api.ebay.com/oauth/api_scope/sell.inventory',
] as const;

const DAY_SECONDS = 86_400;

/**
 * eBay Sell APIs. Account fields:
 * - `credentials.clientId`, `credentials.clientSecret` (the app keyset),
 *   `credentials.refreshToken` (the seller's grant, bound to that keyset);
 * - `options.scopes`: list of OAuth scopes (default sell.fulfillment + sell.inventory);
 * - `baseUrl` (default https://api.ebay.com; the sandbox is api.sandbox.ebay.com) and
 *   `tokenUrl` (default the identity endpoint of api.ebay.com).
 */
export const ebayManifest: AdapterManifest = {
  platform: 'ebay',
  // eBay publishes daily quotas, not rates: Fulfillment 100,000 calls/day, Inventory 2,000,000
  // calls/day, spread evenly over the day.
  defaultLimits: {
    default: { ratePerSecond: 100_000 / DAY_SECONDS, burst: 20 },
    bulkUpdatePriceQuantity: { ratePerSecond: 2_000_000 / DAY_SECONDS, burst: 25 },
  },
  validateOptions: validateEbayAccount,
  create: createEbayAdapter,
};

export function validateEbayAccount(account: AccountConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const name of ['clientId', 'clientSecret', 'refreshToken']) {
    if (!credential(account, name)) issues.push({ path: `credentials.${name}`, message: 'is required' });
  }
  if (account.options.scopes !== undefined) {
    const scopes = listOption(account, 'scopes');
    if (!scopes || scopes.length === 0 || scopes.some((scope) => !/^https:\/\/\S+$/.test(scope))) {
      issues.push({ path: 'options.scopes', message: 'expected a list of OAuth scope URLs' });
    }
  }
  return issues;
}

export function createEbayAdapter(deps: AdapterDeps, account: AccountConfig): MarketplaceAdapter {
  const issues = validateEbayAccount(account);
  if (issues.length > 0) throw new ConfigError(issues, { source: `ebay account ${account.id}` });
  const auth = new OAuthRefreshAuth({
    platform: 'ebay',
    account: account.id,
    tokenUrl: account.tokenUrl ?? EBAY_TOKEN_URL,
    clientId: credential(account, 'clientId')!,
    clientSecret: credential(account, 'clientSecret')!,
    refreshToken: credential(account, 'refreshToken')!,
    clientAuth: 'basic',
    scope: listOption(account, 'scopes') ?? EBAY_DEFAULT_SCOPES,
    defaultExpiresInS: 7200,
    store: deps.tokenStore,
    now: deps.now,
    logger: deps.logger,
  });
  const http = deps.createHttp({
    baseUrl: account.baseUrl ?? EBAY_API_URL,
    auth,
    classify: classifyEbayFailure,
  });
  return new EbayClient({
    http,
    account: account.id,
    userId: account.userId,
    logger: deps.logger.child({ platform: 'ebay', account: account.id }),
  });
}
