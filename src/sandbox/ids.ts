import type { AccountProfile } from './accounts.js';
import { CATALOGUE } from './catalogue.js';
import { mix } from './rng.js';

/**
 * Platform ids, derived from (account, order sequence, line) so nothing needs storing and the
 * same seed always gives the same ids. Formats follow each platform's examples: Amazon
 * `3-7-7`, eBay `NN-NNNNN-NNNNN`, Shopify int64 numbers below 2^53.
 */
export function orderIdFor(profile: AccountProfile, seq: number): string {
  if (profile.platform === 'amazon') {
    return `${100 + profile.index}-${pad(seq, 7)}-${pad(mix(profile.index, seq) % 10_000_000, 7)}`;
  }
  if (profile.platform === 'ebay') {
    return `${pad(10 + profile.index, 2)}-${pad(Math.floor(seq / 100_000), 5)}-${pad(seq % 100_000, 5)}`;
  }
  return String(5_000_000_000_000 + profile.index * 100_000_000 + seq);
}

export function lineIdFor(profile: AccountProfile, seq: number, line: number): string {
  if (profile.platform === 'amazon') return `${pad(profile.index, 2)}${pad(seq, 10)}${pad(line, 2)}`;
  if (profile.platform === 'ebay') return `${10 + profile.index}${pad(seq, 9)}${line}`;
  return String(13_000_000_000_000 + profile.index * 10_000_000_000 + seq * 10 + line);
}

export function shopifyOrderNumber(seq: number): number {
  return 1000 + seq;
}

/** Shopify product, variant and inventory item ids of a catalogue product in one shop. */
export function shopifyProductIds(profile: AccountProfile, product: number) {
  const base = profile.index * 1000 + product;
  return {
    productId: 8_000_000_000_000 + base,
    variantId: 44_000_000_000_000 + base,
    inventoryItemId: 46_000_000_000_000 + base,
  };
}

/** The product whose Shopify inventory item id this is, or null. */
export function productOfInventoryItem(profile: AccountProfile, inventoryItemId: number): number | null {
  const product = inventoryItemId - 46_000_000_000_000 - profile.index * 1000;
  return product >= 0 && product < CATALOGUE.length ? product : null;
}

export function asinFor(product: number): string {
  return `B0SANDBX${pad(product, 2)}`;
}

export function ebayLegacyItemId(profile: AccountProfile, product: number): string {
  return `3${pad(profile.index, 2)}${pad(product + 100_000_000, 9)}`;
}

export function trackingNumber(carrierSeed: number): string {
  return `1Z${pad(mix(carrierSeed, 3) % 100_000_000, 8)}${pad(mix(carrierSeed, 4) % 100_000_000, 8)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
