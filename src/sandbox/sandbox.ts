import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Accounting } from './accounting.js';
import {
  type AccountProfile,
  buildProfiles,
  DEFAULT_ACCOUNT_COUNTS,
  parseAccountCounts,
} from './accounts.js';
import { createAmazonApi } from './amazon.js';
import { INCLUDED_DATA, renderAmazonOrder } from './amazon-render.js';
import { TokenStore } from './auth.js';
import { systemClock } from './clock.js';
import { controlReply } from './control.js';
import { createEbayApi } from './ebay.js';
import { renderEbayOrder } from './ebay-render.js';
import { Faults } from './faults.js';
import { latestVersion } from './model.js';
import { createRequestHandler } from './server.js';
import { createShopifyApi } from './shopify.js';
import { renderShopifyOrder } from './shopify-render.js';
import { SandboxState } from './state.js';
import { Throttle } from './throttle.js';
import { Timeline } from './timeline.js';
import {
  SANDBOX_PLATFORMS,
  type Sandbox,
  type SandboxAccount,
  type SandboxOptions,
  type SandboxPlatform,
} from './types.js';

const DEFAULT_LAG: Record<SandboxPlatform, number> = { amazon: 120_000, ebay: 60_000, shopify: 30_000 };

/** Starts a sandbox. Resolves once it listens; `port: 0` picks a free port. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const clock = options.clock ?? systemClock;
  const seed = options.seed ?? 1;
  const counts =
    typeof options.accounts === 'string'
      ? parseAccountCounts(options.accounts)
      : (options.accounts ?? DEFAULT_ACCOUNT_COUNTS);
  const profiles = buildProfiles(counts);
  const state = new SandboxState({
    seed,
    ordersPerAccount: options.ordersPerAccount ?? 1000,
    historyMs: (options.historyDays ?? 30) * 86_400_000,
    profiles,
    now: clock.now(),
    lateFraction: options.lateFraction ?? 0.1,
    visibilityLagMs: { ...DEFAULT_LAG, ...options.visibilityLagMs },
  });
  const scale = options.rateScale ?? 1;
  const throttle = new Throttle({
    limits: options.limits,
    toleranceMs: options.throttleToleranceMs ?? 0,
    scale: Object.fromEntries(
      SANDBOX_PLATFORMS.map((platform) => [
        platform,
        typeof scale === 'number' ? scale : (scale[platform] ?? 1),
      ]),
    ) as Record<SandboxPlatform, number>,
  });
  const faults = new Faults(seed, options.faults);
  const tokens = new TokenStore(seed);
  const accounting = new Accounting();
  const timeline = new Timeline(clock, options.updatesPerSecond ?? 0, (count, now) =>
    state.applyUpdates(count, now),
  );
  const apis = [
    createShopifyApi({ state, tokens }),
    createAmazonApi({
      state,
      tokens,
      faults,
      beforeLagMs: options.amazonBeforeLagMs ?? 120_000,
      tokenLifetimeSec: options.tokenLifetimeSec?.amazon ?? 3600,
    }),
    createEbayApi({ state, tokens, faults, tokenLifetimeSec: options.tokenLifetimeSec?.ebay ?? 7200 }),
  ];

  let origin = '';
  const find = (platform: SandboxPlatform, account: string) => {
    const found = state.account(platform, account);
    if (!found) throw new RangeError(`the sandbox has no ${platform} account "${account}"`);
    return found;
  };
  const sandbox: Omit<Sandbox, 'url' | 'port' | 'accounts' | 'close'> = {
    groundTruth(platform, account) {
      const { profile, store } = find(platform, account);
      const all = new Set<string>(INCLUDED_DATA);
      return store.byCreated.map((order) => {
        const version = latestVersion(order);
        if (platform === 'shopify') return renderShopifyOrder(profile, order, version);
        if (platform === 'amazon') return renderAmazonOrder(profile, order, version, all);
        return renderEbayOrder(profile, order, version, { detail: false, origin });
      });
    },
    stats: () =>
      accounting.snapshot(clock.now(), {
        applied: state.counters.applied,
        late: state.counters.late,
        created: state.counters.created,
        pendingVisibility: state.pendingVisibility(),
      }),
    resetStats: () => accounting.reset(),
    setFaults(platform, config) {
      for (const target of platform === '*' ? SANDBOX_PLATFORMS : [platform]) faults.set(target, config);
    },
    faults: (platform) => faults.get(platform),
    applyUpdates: (count, filter, updateOptions) =>
      state.applyUpdates(count, clock.now(), filter, updateOptions),
    updateOrder(platform, account, orderId, updateOptions) {
      const target = find(platform, account);
      const order = target.store.get(orderId);
      return order ? state.updateOrder(target, order, clock.now(), updateOptions) : false;
    },
    tick: () => {
      const applied = timeline.tick();
      state.promote(clock.now());
      return applied;
    },
    setUpdatesPerSecond: (perSecond) => timeline.setRate(perSecond),
    settle: () => state.settle(),
    expireTokens: (platform, account) => tokens.expire(platform, account),
    revokeGrant: (platform, account) => {
      find(platform, account);
      tokens.revoke(platform, account);
    },
    restoreGrant: (platform, account) => tokens.restore(platform, account),
    inventory: (platform, account) => Object.fromEntries(find(platform, account).inventory),
  };

  const server = createServer(
    createRequestHandler({
      apis,
      state,
      throttle,
      faults,
      accounting,
      clock,
      faultTokenEndpoints: options.faultTokenEndpoints ?? false,
      beforeRequest: (now) => {
        timeline.tick();
        state.promote(now);
      },
      control: (ctx) => controlReply(ctx, { sandbox, accounts: () => accounts, state }),
      onError: (error) =>
        process.emitWarning(`sandbox handler error: ${(error as Error)?.stack ?? String(error)}`),
    }),
  );
  // Outlive clients' idle keep-alive (undici 4 s, typical agents up to 60 s): a server closing an
  // idle socket while a client reuses it shows up as a spurious ECONNRESET nobody injected.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8700, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  origin = `http://${shownHost}:${port}`;
  const accounts = profiles.map((profile) => describeAccount(profile, origin));
  if ((options.updatesPerSecond ?? 0) > 0) timeline.start();
  return {
    ...sandbox,
    url: origin,
    port,
    accounts,
    async close() {
      timeline.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function describeAccount(profile: AccountProfile, origin: string): SandboxAccount {
  const account: SandboxAccount = {
    platform: profile.platform,
    account: profile.account,
    baseUrl: origin,
    credentials: { ...profile.credentials },
    currency: profile.currency,
  };
  if (profile.platform === 'amazon') {
    account.tokenUrl = `${origin}/auth/o2/token`;
    account.marketplaceId = profile.marketplaceId!;
    account.sellerId = profile.sellerId!;
  } else if (profile.platform === 'ebay') {
    account.tokenUrl = `${origin}/identity/v1/oauth2/token`;
    account.marketplaceId = profile.marketplaceId!;
  } else {
    account.shopDomain = profile.shopDomain!;
    account.timeZone = profile.timeZone!;
    account.locationId = profile.locationId!;
  }
  return account;
}
