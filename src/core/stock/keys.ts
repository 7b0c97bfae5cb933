/**
 * Every Redis key the stock subsystem touches, built here and nowhere else.
 *
 * All keys of one tenant carry the hash tag `{t:<tenant>}`, so in a Redis Cluster they live in
 * one slot: a script may then touch any of them in one atomic step (an order's several SKUs, its
 * idempotency record, the reservation index and the change stream). What that implies is in
 * docs/stock.md: a tenant's stock lives on one shard, and an operation never spans tenants.
 *
 *   `${prefix}stock:{t:T}:sku:${sku}`      hash  available, reserved, version (absent = unknown SKU)
 *   `${prefix}stock:{t:T}:op:${id}`        hash  an operation's first answer and what it changed
 *                                                (fields in docs/stock.md), expires after the
 *                                                idempotency window
 *   `${prefix}stock:{t:T}:buyers:${sku}`   set   user ids that bought the SKU once-per-user
 *   `${prefix}stock:{t:T}:reservations`    zset  held reservation id -> expiry (Unix ms)
 *   `${prefix}stock:{t:T}:stream`          stream every change, drained into MySQL
 *   `${prefix}stock:tenants`               set   tenants that have a stream (for the drain);
 *                                                no hash tag: never touched by a script
 *
 * A key prefix that itself holds a `{…}` tag puts every key in that one slot instead: still
 * correct, just not spread over a cluster.
 */

/** Tenant ids: letters, digits, `-` and `_` (they end up inside the hash tag). */
export const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface TenantKeys {
  readonly tenant: string;
  /** Stock hash of one SKU. */
  stock(sku: string): string;
  /** Idempotency record of one operation (deduct, reservation, restore, set…). */
  operation(operationId: string): string;
  /** Once-per-user buyers of one SKU. */
  buyers(sku: string): string;
  /** Index of held reservations by expiry. */
  readonly reservations: string;
  /** The tenant's change stream. */
  readonly stream: string;
}

/** Builds one tenant's keys; `tenant` must match TENANT_PATTERN (the service validates it). */
export function tenantKeys(prefix: string, tenant: string): TenantKeys {
  const base = `${prefix}stock:{t:${tenant}}:`;
  return {
    tenant,
    stock: (sku) => `${base}sku:${sku}`,
    operation: (operationId) => `${base}op:${operationId}`,
    buyers: (sku) => `${base}buyers:${sku}`,
    reservations: `${base}reservations`,
    stream: `${base}stream`,
  };
}

/** The set of tenants whose streams the ledger drain reads. */
export function tenantRegistryKey(prefix: string): string {
  return `${prefix}stock:tenants`;
}
