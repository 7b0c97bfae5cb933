import type { Registry } from 'prom-client';
import type { MarketplaceAdapter } from '../../src/adapters/types.js';
import { type Logger, silentLogger } from '../../src/core/logger.js';
import { ListingMap } from '../../src/core/stock/listing-map.js';
import type { ListingMappingInput } from '../../src/core/stock/listing-mapping.js';
import { initListingTables } from '../../src/core/stock/listing-schema.js';
import { inventoryPushSchema } from '../../src/core/stock/push-config.js';
import type { StockService } from '../../src/core/stock/stock-service.js';
import {
  type Sandbox,
  type SandboxAccount,
  type SandboxPlatform,
  startSandbox,
} from '../../src/sandbox/index.js';
import { createInventoryPusher, type InventoryPusher } from '../../src/workers/inventory-push.js';
import { type Connected, connect, FAST_RETRY } from './adapter-harness.js';
import { call } from './sandbox-client.js';
import { createStockFixture, type StockFixture } from './stock-fixture.js';

/**
 * The inventory push against real Redis and MariaDB and the sandbox: a stock fixture with the
 * listings table, a sandbox with two accounts per platform, an adapter per account built the
 * way the worker builds them (resilience: limiter, fast retries, a breaker that probes again
 * quickly), and pushers with short timings.
 */
export interface PushFixture {
  stock: StockFixture;
  service: StockService;
  listings: ListingMap;
  sandbox: Sandbox;
  accounts: Connected[];
  adapterFor(platform: string, account: string): MarketplaceAdapter | undefined;
  account(platform: SandboxPlatform, index: number): SandboxAccount;
  /** Maps an internal SKU to a catalogue product's listing on a sandbox account (how each platform needs it). */
  mapListing(
    internalSku: string,
    platform: SandboxPlatform,
    index: number,
    catalogueSku: string,
  ): Promise<void>;
  /** The quantity the sandbox account last received for a catalogue SKU. */
  shown(platform: SandboxPlatform, index: number, catalogueSku: string): number | undefined;
  /** Stops every pusher this fixture made (a failed test must not leave one holding the tenant). */
  stopPushers(): Promise<void>;
  pusher(options?: {
    settings?: Record<string, unknown>;
    metrics?: Registry;
    consumer?: string;
    logger?: Logger;
  }): InventoryPusher;
  close(): Promise<void>;
}

export async function createPushFixture(): Promise<PushFixture> {
  const stock = await createStockFixture();
  await initListingTables({ pool: stock.pools.meta(), router: stock.router });
  const sandbox = await startSandbox({ port: 0, ordersPerAccount: 5, seed: 11 });
  const accounts = sandbox.accounts.map((account) =>
    connect(account, { retry: FAST_RETRY, breaker: { resetTimeout: 300 }, timeoutMs: 5000 }),
  );
  const service = stock.service();
  const listings = new ListingMap({ pool: stock.pools.meta(), router: stock.router, cacheTtlMs: 0 });
  const pushers: InventoryPusher[] = [];
  const account = (platform: SandboxPlatform, index: number) => {
    const found = sandbox.accounts.filter((entry) => entry.platform === platform)[index];
    if (!found) throw new Error(`the sandbox has no ${platform} account #${index}`);
    return found;
  };
  return {
    stock,
    service,
    listings,
    sandbox,
    accounts,
    account,
    adapterFor: (platform, id) =>
      accounts.find((entry) => entry.account.platform === platform && entry.account.account === id)?.adapter,
    async mapListing(internalSku, platform, index, catalogueSku) {
      const target = account(platform, index);
      const base = { platform, account: target.account, sku: internalSku } as const;
      const mappings: ListingMappingInput[] = [{ ...base, kind: 'sku', channelKey: catalogueSku }];
      if (platform === 'shopify') {
        const item = await shopifyInventoryItem(target, catalogueSku);
        mappings.push({ ...base, kind: 'listing', channelKey: `gid://shopify/InventoryItem/${item}` });
      }
      await listings.importMappings(mappings);
    },
    shown: (platform, index, catalogueSku) =>
      sandbox.inventory(platform, account(platform, index).account)[catalogueSku],
    pusher(options = {}) {
      const pusher = createInventoryPusher({
        redis: stock.redis,
        keyPrefix: stock.keyPrefix,
        listings,
        stock: service,
        adapterFor: (platform, id) =>
          accounts.find((entry) => entry.account.platform === platform && entry.account.account === id)
            ?.adapter,
        settings: inventoryPushSchema.parse({
          debounceMs: 50,
          maxDelayMs: 300,
          pollIntervalMs: 20,
          retryBaseMs: 100,
          retryMaxMs: 1000,
          ...options.settings,
        }),
        logger: options.logger ?? silentLogger(),
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...(options.consumer ? { consumer: options.consumer } : {}),
        stopTimeoutMs: 2000,
      });
      pushers.push(pusher);
      return pusher;
    },
    async stopPushers() {
      await Promise.all(pushers.splice(0).map((pusher) => pusher.stop()));
    },
    async close() {
      await Promise.all(pushers.map((pusher) => pusher.stop()));
      await Promise.all(accounts.map((entry) => entry.resilience.stop()));
      await sandbox.close();
      await stock.close();
    },
  };
}

/** A Shopify variant's inventory item id, read from products.json as a seller's tool would. */
async function shopifyInventoryItem(account: SandboxAccount, sku: string): Promise<number> {
  const response = await call(`${account.baseUrl}/admin/api/2025-07/products.json`, {
    headers: { 'X-Shopify-Access-Token': account.credentials.accessToken! },
  });
  for (const product of response.body.products) {
    for (const variant of product.variants) if (variant.sku === sku) return variant.inventory_item_id;
  }
  throw new Error(`the sandbox shop has no variant ${sku}`);
}
