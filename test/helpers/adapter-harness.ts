import { amazonManifest } from '../../src/adapters/amazon/index.js';
import { mapAmazonOrder } from '../../src/adapters/amazon/mapper.js';
import { ebayManifest } from '../../src/adapters/ebay/index.js';
import { mapEbayOrder } from '../../src/adapters/ebay/mapper.js';
import {
  type AccountResilience,
  type AccountResilienceOptions,
  createAccountResilience,
} from '../../src/adapters/resilience/account-resilience.js';
import { shopifyManifest } from '../../src/adapters/shopify/index.js';
import { mapShopifyOrder } from '../../src/adapters/shopify/mapper.js';
import type { AdapterManifest, MarketplaceAdapter, UpdateInventoryInput } from '../../src/adapters/types.js';
import { type AccountConfig, parseConfig } from '../../src/core/config.js';
import { type Logger, silentLogger } from '../../src/core/logger.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import type { Instant } from '../../src/core/time.js';
import type { Sandbox, SandboxAccount, SandboxPlatform } from '../../src/sandbox/index.js';

/**
 * What the adapter conformance suite, the fault-injected backfills and the budget bench need to
 * run one marketplace adapter against the sandbox: its manifest, how the ground truth maps, and
 * the few things that differ by platform (page size, token refresh, the sandbox's bucket).
 */
export interface PlatformCase {
  platform: SandboxPlatform;
  manifest: AdapterManifest;
  /** The largest page the platform serves. */
  maxPageSize: number;
  /** The sandbox bucket the order listing counts against. */
  listBucket: string;
  /** Access tokens expire and are refreshed (Amazon LWA, eBay OAuth); Shopify's offline token does not. */
  refreshesTokens: boolean;
  /** The platform's list payload (ground truth) mapped as the adapter maps it. */
  mapTruth(raw: unknown, account: SandboxAccount, path: string): UnifiedOrder;
  /** An inventory write the platform refuses as data: a listing it does not know. */
  unknownListing: UpdateInventoryInput;
}

const USER_ID = '7';

export const PLATFORM_CASES: readonly PlatformCase[] = [
  {
    platform: 'shopify',
    manifest: shopifyManifest,
    maxPageSize: 250,
    listBucket: 'rest',
    refreshesTokens: false,
    mapTruth: (raw, account, path) =>
      mapShopifyOrder(
        raw,
        { account: account.account, userId: USER_ID, shopDomain: account.shopDomain! },
        path,
      ),
    unknownListing: { sku: 'NO-SUCH-SKU', listingId: '999999999', quantity: 3, idempotencyKey: 'k1' },
  },
  {
    platform: 'amazon',
    manifest: amazonManifest,
    maxPageSize: 100,
    listBucket: 'searchOrders',
    refreshesTokens: true,
    mapTruth: (raw, account, path) =>
      mapAmazonOrder(raw, { account: account.account, userId: USER_ID }, path),
    unknownListing: { sku: 'NO-SUCH-SKU', quantity: 3, idempotencyKey: 'k1' },
  },
  {
    platform: 'ebay',
    manifest: ebayManifest,
    maxPageSize: 200,
    listBucket: 'fulfillment',
    refreshesTokens: true,
    mapTruth: (raw, account, path) => mapEbayOrder(raw, { account: account.account, userId: USER_ID }, path),
    unknownListing: { sku: 'NO-SUCH-SKU', quantity: 3, idempotencyKey: 'k1' },
  },
];

export function platformCase(platform: SandboxPlatform): PlatformCase {
  return PLATFORM_CASES.find((entry) => entry.platform === platform)!;
}

/** The account config a user would write for a sandbox account (baseUrl/tokenUrl overridden). */
export function sandboxAccountConfig(
  account: SandboxAccount,
  limits?: { ratePerSecond?: number; burst?: number },
): AccountConfig {
  const raw: Record<string, unknown> = {
    platform: account.platform,
    id: account.account,
    userId: USER_ID,
    baseUrl: account.baseUrl,
    credentials: account.credentials,
    options: {},
  };
  if (account.tokenUrl) raw.tokenUrl = account.tokenUrl;
  if (limits) raw.limits = limits;
  if (account.platform === 'shopify')
    raw.options = { shopDomain: account.shopDomain, locationId: account.locationId };
  if (account.platform === 'amazon')
    raw.options = { marketplaceIds: [account.marketplaceId], sellerId: account.sellerId };
  return parseConfig({ accounts: [raw] }).accounts[0]!;
}

export interface ConnectOptions
  extends Partial<
    Pick<AccountResilienceOptions, 'scale' | 'retry' | 'breaker' | 'timeoutMs' | 'redis' | 'keyPrefix'>
  > {
  limits?: { ratePerSecond?: number; burst?: number };
  logger?: Logger;
}

export interface Connected {
  adapter: MarketplaceAdapter;
  resilience: AccountResilience;
  account: SandboxAccount;
}

/** Quick retries for tests: the sandbox answers in milliseconds, so backoff need not be seconds. */
export const FAST_RETRY = { retries: 10, baseMs: 10, maxMs: 250 } as const;

/** Builds an adapter for a sandbox account the way the worker does: manifest + account resilience. */
export function connect(account: SandboxAccount, options: ConnectOptions = {}): Connected {
  const manifest = platformCase(account.platform).manifest;
  const config = sandboxAccountConfig(account, options.limits);
  const resilience = createAccountResilience({
    account: config,
    manifest,
    logger: options.logger ?? silentLogger(),
    scale: options.scale,
    retry: options.retry ?? FAST_RETRY,
    breaker: options.breaker,
    timeoutMs: options.timeoutMs ?? 10_000,
    redis: options.redis,
    keyPrefix: options.keyPrefix,
  });
  return { adapter: manifest.create(resilience.adapterDeps(), config), resilience, account };
}

export interface Window {
  from: Instant;
  to: Instant;
}

/**
 * Every initial sandbox order: the history reaches `historyDays` back and ends five minutes
 * before start; `to` stays behind Amazon's two-minute rule.
 */
export function backfillWindow(historyDays = 30, now = Date.now()): Window {
  return {
    from: new Date(now - (historyDays + 1) * 86_400_000).toISOString() as Instant,
    to: new Date(now - 180_000).toISOString() as Instant,
  };
}

export function sandboxAccount(sandbox: Sandbox, platform: SandboxPlatform, index = 0): SandboxAccount {
  const found = sandbox.accounts.filter((entry) => entry.platform === platform)[index];
  if (!found) throw new Error(`the sandbox has no ${platform} account #${index}`);
  return found;
}
