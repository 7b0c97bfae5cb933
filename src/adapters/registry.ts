import type { Config } from '../core/config.js';
import type { FieldIssue } from '../core/errors.js';
import type { Platform } from '../core/platforms.js';
import { amazonManifest } from './amazon/index.js';
import { ebayManifest } from './ebay/index.js';
import { shopifyManifest } from './shopify/index.js';
import type { AdapterManifest } from './types.js';

/** Every adapter tradectl ships, as manifests. Adding a marketplace is one entry here. */
export const ADAPTER_MANIFESTS: readonly AdapterManifest[] = [amazonManifest, ebayManifest, shopifyManifest];

export function manifestFor(
  platform: Platform,
  manifests: readonly AdapterManifest[] = ADAPTER_MANIFESTS,
): AdapterManifest | undefined {
  return manifests.find((manifest) => manifest.platform === platform);
}

/**
 * Checks every enabled account against its adapter's manifest, at start-up: a missing refresh
 * token stops the process before the first sync, with every problem listed by its full path
 * (`accounts[2].credentials.refreshToken`). Disabled accounts are not checked: they never run.
 * An empty list means all accounts can be created.
 */
export function validateAccounts(
  config: Pick<Config, 'accounts'>,
  manifests: readonly AdapterManifest[] = ADAPTER_MANIFESTS,
): FieldIssue[] {
  return config.accounts.flatMap((account, index) => {
    if (!account.enabled) return [];
    const prefix = `accounts[${index}]`;
    const manifest = manifestFor(account.platform, manifests);
    if (!manifest) {
      return [
        {
          path: `${prefix}.platform`,
          message: `no adapter for ${account.platform} yet (disable the account)`,
        },
      ];
    }
    return manifest.validateOptions(account).map((issue) => ({ ...issue, path: `${prefix}.${issue.path}` }));
  });
}
