import { describe, expect, it } from 'vitest';
import { ADAPTER_MANIFESTS, manifestFor, validateAccounts } from '../../../src/adapters/registry.js';
import { loadConfig, parseConfig } from '../../../src/core/config.js';

describe('adapter registry', () => {
  it('registers one manifest per shipped platform', () => {
    expect(ADAPTER_MANIFESTS.map((manifest) => manifest.platform).sort()).toEqual([
      'amazon',
      'ebay',
      'shopify',
    ]);
    expect(manifestFor('ebay')?.platform).toBe('ebay');
    expect(manifestFor('walmart')).toBeUndefined();
  });

  it('lists every account problem by its full path, skipping disabled accounts', () => {
    const config = parseConfig({
      accounts: [
        {
          platform: 'shopify',
          id: 'shop',
          userId: 1,
          credentials: { accessToken: 'shpat' },
          options: { shopDomain: 'jsmith' },
        },
        { platform: 'amazon', id: 'amz', userId: 2, credentials: { clientId: 'c', clientSecret: 's' } },
        { platform: 'ebay', id: 'eb', userId: 3, credentials: { clientId: 'c', clientSecret: 's' } },
        { platform: 'walmart', id: 'wm', userId: 4 },
        { platform: 'walmart', id: 'wm-off', userId: 5, enabled: false },
        { platform: 'ebay', id: 'eb-off', userId: 6, enabled: false },
      ],
    });
    expect(validateAccounts(config)).toEqual([
      { path: 'accounts[1].credentials.refreshToken', message: 'is required' },
      {
        path: 'accounts[1].options.marketplaceIds',
        message: 'is required: one or more marketplace ids (ATVPDKIKX0DER…)',
      },
      { path: 'accounts[2].credentials.refreshToken', message: 'is required' },
      { path: 'accounts[3].platform', message: 'no adapter for walmart yet (disable the account)' },
    ]);
  });

  it('accepts a complete configuration', () => {
    const config = parseConfig({
      accounts: [
        {
          platform: 'amazon',
          id: 'amz',
          userId: 2,
          credentials: { clientId: 'c', clientSecret: 's', refreshToken: 'Atzr|r' },
          options: { marketplaceIds: 'ATVPDKIKX0DER,A2EUQ1WTGCTBG2', region: 'na' },
        },
        {
          platform: 'ebay',
          id: 'eb',
          userId: 3,
          credentials: { clientId: 'c', clientSecret: 's', refreshToken: 'r' },
        },
      ],
    });
    expect(validateAccounts(config)).toEqual([]);
  });

  it('accepts every account of the example sandbox configuration', async () => {
    const config = await loadConfig({
      file: 'config/sandbox.yaml',
      env: { SANDBOX_SHOPIFY_TOKEN: 'shpat_sandbox_a' },
    });
    expect(config.accounts.length).toBeGreaterThan(0);
    expect(validateAccounts(config)).toEqual([]);
  });
});
