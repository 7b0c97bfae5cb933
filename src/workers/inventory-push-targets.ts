import type { ListingMapping } from '../core/stock/listing-mapping.js';

/**
 * Which listing mappings a platform's inventory API can address, and how. Pure.
 *
 * A mapping names a listing the way orders name it (listing-mapping.ts): the seller's SKU on the
 * channel, or the channel's listing id. Inventory APIs are keyed differently:
 *
 * - Amazon (Listings Items) and eBay (Inventory API) set quantities by the seller's SKU: a `sku`
 *   mapping is pushed; a listing id (ASIN, eBay item id) names no single offer and is not.
 * - Shopify sets `available` per inventory item, an id orders never carry (their lines name the
 *   variant). A Shopify listing is pushed through a mapping whose listing id is the inventory
 *   item's global id, `gid://shopify/InventoryItem/<id>` (Shopify's own notation, so it can never
 *   be mistaken for the variant id an order-resolving mapping holds); other Shopify mappings only
 *   resolve orders.
 *
 * Each mapping is pushed on its own: a SKU sold on a channel under two seller SKUs (two offers)
 * gets both set.
 */

export type PushTarget =
  | { pushable: true; key: string; sku: string; listingId?: string }
  | { pushable: false; key: string; reason: SkipReason };

export type SkipReason = 'listing_id_not_addressable' | 'shopify_needs_inventory_item' | 'no_inventory_api';

export const SKIP_REASONS: Record<SkipReason, string> = {
  listing_id_not_addressable:
    "the platform's inventory API is keyed by seller SKU; a listing id mapping only resolves orders",
  shopify_needs_inventory_item:
    'Shopify sets stock per inventory item: map gid://shopify/InventoryItem/<id> as the listing id',
  no_inventory_api: 'tradectl has no inventory adapter for this platform',
};

const SHOPIFY_INVENTORY_ITEM = /^gid:\/\/shopify\/InventoryItem\/(\d{1,19})$/;

/** A mapping's identity within its SKU's listings (the key a partial retry names). */
export function listingTargetKey(
  mapping: Pick<ListingMapping, 'platform' | 'account' | 'kind' | 'channelKey'>,
) {
  return `${mapping.platform}:${mapping.account}:${mapping.kind}:${mapping.channelKey}`;
}

export function pushTargetOf(mapping: ListingMapping): PushTarget {
  const key = listingTargetKey(mapping);
  switch (mapping.platform) {
    case 'amazon':
    case 'ebay':
      return mapping.kind === 'sku'
        ? { pushable: true, key, sku: mapping.channelKey }
        : { pushable: false, key, reason: 'listing_id_not_addressable' };
    case 'shopify': {
      const item = mapping.kind === 'listing' ? SHOPIFY_INVENTORY_ITEM.exec(mapping.channelKey) : null;
      return item
        ? { pushable: true, key, sku: mapping.sku, listingId: item[1]! }
        : { pushable: false, key, reason: 'shopify_needs_inventory_item' };
    }
    default:
      return { pushable: false, key, reason: 'no_inventory_api' };
  }
}
