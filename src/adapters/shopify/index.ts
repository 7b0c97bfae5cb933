import type { AccountConfig } from '../../core/config.js';
import { ConfigError, type FieldIssue } from '../../core/errors.js';
import { credential, stringOption } from '../adapter-support.js';
import { OAuthRefreshAuth, StaticTokenAuth } from '../resilience/auth.js';
import { usedOfSizeObserver } from '../resilience/usage-headers.js';
import type { AdapterDeps, AdapterManifest, AuthStrategy, MarketplaceAdapter } from '../types.js';
import { ShopifyClient } from './client.js';
import { classifyShopifyFailure } from './errors.js';

/** Admin API version used unless `options.apiVersion` names another. */
export const SHOPIFY_DEFAULT_API_VERSION = '2025-07';

const SHOP_NAME = /^[a-z0-9][a-z0-9-]*$/i;
const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/i;

/**
 * Shopify Admin REST. Account fields:
 * - `credentials.accessToken`: the offline access token; or, for expiring offline tokens,
 *   `credentials.refreshToken` + `clientId` + `clientSecret` (refreshed at
 *   `tokenUrl`, default `https://{shop}/admin/oauth/access_token`, rotating refresh tokens kept
 *   in the token store);
 * - `options.shopDomain`: `jsmith` or `jsmith.myshopify.com` (not needed when `baseUrl` is set);
 * - `options.apiVersion` (default 2025-07), `options.locationId` (for updateInventory).
 */
export const shopifyManifest: AdapterManifest = {
  platform: 'shopify',
  // One leaky bucket per app and store for every REST call: 40 requests, leaking 2 per second.
  defaultLimits: { default: { ratePerSecond: 2, burst: 40 } },
  validateOptions: validateShopifyAccount,
  create: createShopifyAdapter,
};

export function validateShopifyAccount(account: AccountConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const expiring = ['refreshToken', 'clientId', 'clientSecret'].filter((name) => credential(account, name));
  if (!credential(account, 'accessToken')) {
    if (expiring.length === 0) {
      issues.push({
        path: 'credentials.accessToken',
        message: 'is required (or refreshToken, clientId and clientSecret for expiring tokens)',
      });
    } else {
      for (const name of ['refreshToken', 'clientId', 'clientSecret']) {
        if (!credential(account, name)) {
          issues.push({
            path: `credentials.${name}`,
            message: 'is required with the other expiring-token credentials',
          });
        }
      }
    }
  }
  const domain = account.options.shopDomain;
  if (domain === undefined) {
    if (!account.baseUrl) {
      issues.push({
        path: 'options.shopDomain',
        message: 'is required (the shop’s myshopify.com domain) unless baseUrl is set',
      });
    }
  } else if (typeof domain !== 'string' || !(SHOP_NAME.test(domain) || SHOP_DOMAIN.test(domain))) {
    issues.push({ path: 'options.shopDomain', message: 'expected a shop name or its myshopify.com domain' });
  }
  const version = account.options.apiVersion;
  if (version !== undefined && (typeof version !== 'string' || !/^(\d{4}-\d{2}|unstable)$/.test(version))) {
    issues.push({ path: 'options.apiVersion', message: 'expected an API version like 2025-07' });
  }
  const location = account.options.locationId;
  if (location !== undefined && !/^\d+$/.test(String(location))) {
    issues.push({ path: 'options.locationId', message: 'expected a numeric location id' });
  }
  return issues;
}

export function createShopifyAdapter(deps: AdapterDeps, account: AccountConfig): MarketplaceAdapter {
  const issues = validateShopifyAccount(account);
  if (issues.length > 0) throw new ConfigError(issues, { source: `shopify account ${account.id}` });
  const shopDomain = shopDomainOf(account);
  const baseUrl = account.baseUrl ?? `https://${shopDomain}`;
  const http = deps.createHttp({
    baseUrl,
    auth: shopifyAuth(deps, account, baseUrl),
    classify: classifyShopifyFailure,
    observeUsage: usedOfSizeObserver('x-shopify-shop-api-call-limit'),
  });
  return new ShopifyClient({
    http,
    account: account.id,
    userId: account.userId,
    shopDomain,
    apiVersion: stringOption(account, 'apiVersion') ?? SHOPIFY_DEFAULT_API_VERSION,
    locationId: stringOption(account, 'locationId'),
    logger: deps.logger.child({ platform: 'shopify', account: account.id }),
  });
}

function shopDomainOf(account: AccountConfig): string | null {
  const domain = stringOption(account, 'shopDomain');
  if (!domain) return account.baseUrl ? new URL(account.baseUrl).host : null;
  return SHOP_DOMAIN.test(domain) ? domain.toLowerCase() : `${domain.toLowerCase()}.myshopify.com`;
}

function shopifyAuth(deps: AdapterDeps, account: AccountConfig, baseUrl: string): AuthStrategy {
  const accessToken = credential(account, 'accessToken');
  if (accessToken)
    return new StaticTokenAuth({
      token: accessToken,
      header: 'X-Shopify-Access-Token',
      prefix: '',
      hint:
        `the shop rejected the access token (revoked, or the app uninstalled): install the app again and put ` +
        `its new Admin API access token in credentials.accessToken of account "${account.id}", then restart the account`,
    });
  return new OAuthRefreshAuth({
    platform: 'shopify',
    account: account.id,
    tokenUrl: account.tokenUrl ?? `${baseUrl.replace(/\/+$/, '')}/admin/oauth/access_token`,
    clientId: credential(account, 'clientId')!,
    clientSecret: credential(account, 'clientSecret')!,
    refreshToken: credential(account, 'refreshToken')!,
    header: 'X-Shopify-Access-Token',
    prefix: '',
    store: deps.tokenStore,
    now: deps.now,
    logger: deps.logger,
  });
}
