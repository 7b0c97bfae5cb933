import { isSandboxPlatform, SANDBOX_PLATFORMS, type SandboxPlatform } from './types.js';

/**
 * The accounts a sandbox serves. The first two of each platform are the ones
 * config/sandbox.yaml names, with the same fake credentials, so `tradectl sandbox` and a sync
 * against that file work together without editing anything. Further accounts follow the same
 * pattern in other currencies (JPY, GBP, AUD) so mappers see every exponent.
 */
export interface AccountProfile {
  platform: SandboxPlatform;
  account: string;
  /** 1-based position among its platform's accounts; feeds ids so they never collide. */
  index: number;
  currency: string;
  credentials: Record<string, string>;
  /** Shopify */
  shopDomain?: string;
  timeZone?: string;
  locationId?: number;
  /** Amazon / eBay */
  marketplaceId?: string;
  marketplaceName?: string;
  countryCode: string;
  sellerId?: string;
}

interface Preset {
  account: string;
  currency: string;
  countryCode: string;
  timeZone?: string;
  marketplaceId?: string;
  marketplaceName?: string;
}

const PRESETS: Record<SandboxPlatform, Preset[]> = {
  shopify: [
    { account: 'us-store', currency: 'USD', countryCode: 'US', timeZone: 'America/New_York' },
    { account: 'eu-store', currency: 'EUR', countryCode: 'DE', timeZone: 'Europe/Berlin' },
    { account: 'jp-store', currency: 'JPY', countryCode: 'JP', timeZone: 'Asia/Tokyo' },
    { account: 'uk-store', currency: 'GBP', countryCode: 'GB', timeZone: 'Europe/London' },
  ],
  amazon: [
    {
      account: 'na-main',
      currency: 'USD',
      countryCode: 'US',
      marketplaceId: 'ATVPDKIKX0DER',
      marketplaceName: 'Amazon.com',
    },
    {
      account: 'eu-main',
      currency: 'EUR',
      countryCode: 'DE',
      marketplaceId: 'A1PA6795UKMFR9',
      marketplaceName: 'Amazon.de',
    },
    {
      account: 'jp-main',
      currency: 'JPY',
      countryCode: 'JP',
      marketplaceId: 'A1VC38T7YXB528',
      marketplaceName: 'Amazon.co.jp',
    },
    {
      account: 'uk-main',
      currency: 'GBP',
      countryCode: 'GB',
      marketplaceId: 'A1F83G8C2ARO7P',
      marketplaceName: 'Amazon.co.uk',
    },
  ],
  ebay: [
    { account: 'us-seller', currency: 'USD', countryCode: 'US', marketplaceId: 'EBAY_US' },
    { account: 'de-seller', currency: 'EUR', countryCode: 'DE', marketplaceId: 'EBAY_DE' },
    { account: 'gb-seller', currency: 'GBP', countryCode: 'GB', marketplaceId: 'EBAY_GB' },
    { account: 'au-seller', currency: 'AUD', countryCode: 'AU', marketplaceId: 'EBAY_AU' },
  ],
};

const SHOPIFY_TOKENS: Record<string, string> = {
  // config/sandbox.yaml reads this one from SANDBOX_SHOPIFY_TOKEN and documents this value.
  'us-store': 'shpat_sandbox_a',
};

export const DEFAULT_ACCOUNT_COUNTS: Record<SandboxPlatform, number> = { shopify: 2, amazon: 2, ebay: 2 };

/** Parses `shopify:2,amazon:1` (platforms left out get 0). */
export function parseAccountCounts(spec: string): Record<SandboxPlatform, number> {
  const counts: Record<SandboxPlatform, number> = { shopify: 0, amazon: 0, ebay: 0 };
  for (const part of spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)) {
    const [platform, count = ''] = part.split(':').map((entry) => entry.trim());
    if (!isSandboxPlatform(platform)) {
      throw new Error(
        `unknown platform "${platform}" in "${spec}" (expected ${SANDBOX_PLATFORMS.join(', ')})`,
      );
    }
    if (!/^\d+$/.test(count) || Number(count) > 50) {
      throw new Error(`account count for ${platform} must be an integer 0-50, got "${count}"`);
    }
    counts[platform] = Number(count);
  }
  return counts;
}

export function buildProfiles(counts: Partial<Record<SandboxPlatform, number>>): AccountProfile[] {
  const profiles: AccountProfile[] = [];
  for (const platform of SANDBOX_PLATFORMS) {
    const count = counts[platform] ?? 0;
    for (let index = 1; index <= count; index++) profiles.push(profile(platform, index));
  }
  return profiles;
}

function profile(platform: SandboxPlatform, index: number): AccountProfile {
  const presets = PRESETS[platform];
  const preset: Preset = presets[index - 1] ?? {
    ...presets[0]!,
    account: `${presets[0]!.account.split('-')[1]}-${index}`,
  };
  const nn = String(index).padStart(2, '0');
  const base = {
    platform,
    account: preset.account,
    index,
    currency: preset.currency,
    countryCode: preset.countryCode,
  };
  if (platform === 'shopify') {
    const name = preset.account.replace(/[^a-z0-9]+/g, '_');
    return {
      ...base,
      shopDomain: `sandbox-${preset.account}.myshopify.com`,
      timeZone: preset.timeZone!,
      locationId: 60_000_000_000 + index,
      credentials: { accessToken: SHOPIFY_TOKENS[preset.account] ?? `shpat_sandbox_fake_${name}` },
    };
  }
  if (platform === 'amazon') {
    return {
      ...base,
      marketplaceId: preset.marketplaceId!,
      marketplaceName: preset.marketplaceName!,
      sellerId: `A3SANDBOX${nn}SELLER`,
      credentials: {
        clientId: `amzn1.application-oa2-client.sandboxfake${nn}`,
        clientSecret: `sandbox-fake-amazon-secret-${nn}`,
        refreshToken: `Atzr|sandbox-fake-refresh-token-${nn}`,
      },
    };
  }
  return {
    ...base,
    marketplaceId: preset.marketplaceId!,
    credentials: {
      clientId: `sandbox-fake-ebay-client-${nn}`,
      clientSecret: `sandbox-fake-ebay-secret-${nn}`,
      refreshToken: `v^1.1#sandbox-fake-ebay-refresh-${nn}`,
    },
  };
}
