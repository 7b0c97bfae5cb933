/**
 * The marketplaces tradectl knows. A platform listed here has (or will have) an adapter; config
 * naming any other platform is rejected at start-up.
 */
export const PLATFORMS = [
  'amazon',
  'ebay',
  'shopify',
  'walmart',
  'etsy',
  'aliexpress',
  'mercadolibre',
  'shopee',
  'allegro',
  'tiktok',
] as const;

export type Platform = (typeof PLATFORMS)[number];

export function isPlatform(value: unknown): value is Platform {
  return typeof value === 'string' && (PLATFORMS as readonly string[]).includes(value);
}
