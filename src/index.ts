/** The library API of tradectl: what the trading side and other tools may import. */
export * from './core/bus/index.js';
export * from './core/checkpoint-store.js';
export * from './core/config.js';
export * from './core/errors.js';
export * from './core/id-generator.js';
export * from './core/money.js';
export * from './core/mysql-pools.js';
export * from './core/order.js';
export * from './core/order-cursor.js';
export * from './core/order-query.js';
export * from './core/order-stock/index.js';
export * from './core/order-store.js';
export * from './core/platforms.js';
export * from './core/secret.js';
export * from './core/shard-admin.js';
export * from './core/shard-router.js';
export * from './core/snowflake.js';
export * from './core/stock/index.js';
export { parseListingsCsv } from './core/stock/listing-csv.js';
export {
  ListingMap,
  type ListingMapOptions,
  type ListingTarget,
  type MappedLine,
  type ResolvedLines,
  type UnmappedLine,
} from './core/stock/listing-map.js';
export type { ListingKeyKind, ListingMapping, ListingMappingInput } from './core/stock/listing-mapping.js';
export { initListingTables, listingTablesDdl } from './core/stock/listing-schema.js';
export type {
  ImportResult as ListingImportResult,
  ListingCursor,
  ListingFilter,
  StoredListing,
} from './core/stock/listing-store.js';
export * from './core/time.js';
export * from './core/worker-id-lease.js';
