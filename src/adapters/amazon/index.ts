import type { AccountConfig } from '../../core/config.js';
import { ConfigError, type FieldIssue } from '../../core/errors.js';
import { credential, listOption, stringOption } from '../adapter-support.js';
import { OAuthRefreshAuth } from '../resilience/auth.js';
import { rateHeaderObserver } from '../resilience/usage-headers.js';
import type { AdapterDeps, AdapterManifest, MarketplaceAdapter } from '../types.js';
import { AmazonClient } from './client.js';
import { classifyAmazonFailure } from './errors.js';

/** SP-API hosts per region (see MARKETPLACES.md 2.1). */
export const AMAZON_REGION_HOSTS = {
  na: 'https://sellingpartnerapi-na.amazon.com',
  eu: 'https://sellingpartnerapi-eu.amazon.com',
  fe: 'https://sellingpartnerapi-fe.amazon.com',
} as const;

/** Login with Amazon token endpoint (refresh_token grant, client credentials in the body). */
export const AMAZON_LWA_TOKEN_URL = 'https://api.amazon.com/auth/o2/token';

const ORDERS_APIS = ['2026-01-01', 'v0'] as const;

/**
 * Amazon SP-API. Account fields:
 * - `credentials.clientId`, `credentials.clientSecret` (LWA app), `credentials.refreshToken`
 *   (the seller's authorisation);
 * - `options.marketplaceIds`: list (or comma-separated) of marketplace ids, required;
 * - `options.region`: na (default), eu or fe, unless `baseUrl` is set; `tokenUrl` overrides LWA;
 * - `options.sellerId` (for updateInventory), `options.productType` (default PRODUCT),
 *   `options.ordersApi`: 2026-01-01 (default) or the deprecated v0.
 */
export const amazonManifest: AdapterManifest = {
  platform: 'amazon',
  // The usage plans of the models in ../shared/reference/amazon (rate per second, burst).
  defaultLimits: {
    searchOrders: { ratePerSecond: 0.0056, burst: 20 },
    getOrder: { ratePerSecond: 0.5, burst: 30 },
    getOrders: { ratePerSecond: 0.0167, burst: 20 },
    getOrderItems: { ratePerSecond: 0.5, burst: 30 },
    confirmShipment: { ratePerSecond: 2, burst: 10 },
    patchListingsItem: { ratePerSecond: 5, burst: 5 },
  },
  validateOptions: validateAmazonAccount,
  create: createAmazonAdapter,
};

export function validateAmazonAccount(account: AccountConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const name of ['clientId', 'clientSecret', 'refreshToken']) {
    if (!credential(account, name)) issues.push({ path: `credentials.${name}`, message: 'is required' });
  }
  const marketplaces = listOption(account, 'marketplaceIds');
  if (!marketplaces || marketplaces.length === 0) {
    issues.push({
      path: 'options.marketplaceIds',
      message: 'is required: one or more marketplace ids (ATVPDKIKX0DER…)',
    });
  } else if (marketplaces.length > 50) {
    issues.push({ path: 'options.marketplaceIds', message: 'at most 50 marketplace ids' });
  }
  const region = account.options.region;
  if (region !== undefined && !(typeof region === 'string' && region in AMAZON_REGION_HOSTS)) {
    issues.push({ path: 'options.region', message: 'expected na, eu or fe' });
  }
  const api = account.options.ordersApi;
  if (api !== undefined && !(ORDERS_APIS as readonly unknown[]).includes(api)) {
    issues.push({ path: 'options.ordersApi', message: 'expected 2026-01-01 or v0' });
  }
  for (const name of ['sellerId', 'productType']) {
    const value = account.options[name];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      issues.push({ path: `options.${name}`, message: 'expected a non-empty string' });
    }
  }
  return issues;
}

export function createAmazonAdapter(deps: AdapterDeps, account: AccountConfig): MarketplaceAdapter {
  const issues = validateAmazonAccount(account);
  if (issues.length > 0) throw new ConfigError(issues, { source: `amazon account ${account.id}` });
  const region = (stringOption(account, 'region') ?? 'na') as keyof typeof AMAZON_REGION_HOSTS;
  const auth = new OAuthRefreshAuth({
    platform: 'amazon',
    account: account.id,
    tokenUrl: account.tokenUrl ?? AMAZON_LWA_TOKEN_URL,
    clientId: credential(account, 'clientId')!,
    clientSecret: credential(account, 'clientSecret')!,
    refreshToken: credential(account, 'refreshToken')!,
    clientAuth: 'body',
    header: 'x-amz-access-token',
    prefix: '',
    store: deps.tokenStore,
    now: deps.now,
    logger: deps.logger,
  });
  const http = deps.createHttp({
    baseUrl: account.baseUrl ?? AMAZON_REGION_HOSTS[region],
    auth,
    classify: classifyAmazonFailure,
    observeUsage: rateHeaderObserver('x-amzn-ratelimit-limit'),
  });
  return new AmazonClient({
    http,
    account: account.id,
    userId: account.userId,
    marketplaceIds: listOption(account, 'marketplaceIds')!,
    sellerId: stringOption(account, 'sellerId'),
    productType: stringOption(account, 'productType') ?? 'PRODUCT',
    ordersApi: stringOption(account, 'ordersApi') === 'v0' ? 'v0' : '2026-01-01',
    now: deps.now,
    logger: deps.logger.child({ platform: 'amazon', account: account.id }),
  });
}
