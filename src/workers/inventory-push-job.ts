import type { MarketplaceAdapter } from '../adapters/types.js';
import { TradectlError } from '../core/errors.js';
import type { ListingKeyKind, ListingMapping } from '../core/stock/listing-mapping.js';
import type { PushRules } from '../core/stock/push-rules.js';
import { pushTargetOf } from './inventory-push-targets.js';

/**
 * One push of one SKU to its channel listings, shared by the push role and `tradectl stock
 * push`: read the SKU's listings, then its available quantity (as late as possible, so the value
 * sent is the newest there is), compute each listing's quantity by its channel's rule, and set it
 * through the account's adapter (its limiter, retries and breaker). Each listing's result is
 * reported on its own; nothing here retries beyond what the adapter's policy already did.
 */

export interface PushSkuDeps {
  listingsOf(input: { tenant: string; sku: string }): Promise<readonly ListingMapping[]>;
  /** The SKU's current level in Redis; null for a SKU Redis does not know. */
  level(input: { tenant: string; sku: string }): Promise<{ available: number; version: number } | null>;
  /** The adapter of an enabled, configured account; undefined otherwise. */
  adapterFor(platform: string, account: string): MarketplaceAdapter | undefined;
  rules: PushRules;
}

export type ListingPushStatus = 'applied' | 'dry_run' | 'retry' | 'failed' | 'skipped';

export interface ListingPush {
  platform: string;
  account: string;
  kind: ListingKeyKind;
  channelKey: string;
  /** listingTargetKey(): what a partial retry names. */
  key: string;
  /** The quantity computed for the listing; null when it was not computed (skipped). */
  quantity: number | null;
  status: ListingPushStatus;
  /** Why: a skip reason, or the error code of a failure or retry. */
  reason?: string;
  message?: string;
  /** A failure asked to wait this long before the next attempt (breaker probe, Retry-After). */
  retryAfterMs?: number;
}

export interface SkuPush {
  tenant: string;
  sku: string;
  /** null: Redis does not know the SKU, so nothing was pushed. */
  available: number | null;
  version: number | null;
  listings: ListingPush[];
}

export interface PushSkuInput {
  tenant: string;
  sku: string;
  /** Only these listing keys (a partial retry); every listing when absent. */
  only?: ReadonlySet<string> | undefined;
  /** Compute and report, write nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export async function pushSku(deps: PushSkuDeps, input: PushSkuInput): Promise<SkuPush> {
  const { tenant, sku } = input;
  const mappings = (await deps.listingsOf({ tenant, sku })).filter((mapping) => {
    const key = pushTargetOf(mapping).key;
    return input.only === undefined || input.only.has(key);
  });
  if (mappings.length === 0) return { tenant, sku, available: null, version: null, listings: [] };
  input.signal?.throwIfAborted();
  const level = await deps.level({ tenant, sku });
  const base = (mapping: ListingMapping) => ({
    platform: mapping.platform,
    account: mapping.account,
    kind: mapping.kind,
    channelKey: mapping.channelKey,
    key: pushTargetOf(mapping).key,
  });
  if (level === null) {
    const listings = mappings.map((mapping) => ({
      ...base(mapping),
      quantity: null,
      status: 'skipped' as const,
      reason: 'unknown_sku',
      message: 'Redis does not know the SKU (set it, or load it with tradectl stock warmup)',
    }));
    return { tenant, sku, available: null, version: null, listings };
  }
  const listings = await Promise.all(
    mappings.map(async (mapping): Promise<ListingPush> => {
      const target = pushTargetOf(mapping);
      if (!target.pushable)
        return { ...base(mapping), quantity: null, status: 'skipped', reason: target.reason };
      const adapter = deps.adapterFor(mapping.platform, mapping.account);
      if (!adapter) {
        return { ...base(mapping), quantity: null, status: 'skipped', reason: 'account_not_configured' };
      }
      const quantity = deps.rules.quantityFor(
        { tenant, sku, platform: mapping.platform, account: mapping.account },
        level.available,
      );
      if (input.dryRun) return { ...base(mapping), quantity, status: 'dry_run' };
      try {
        const outcome = await adapter.updateInventory({
          sku: target.sku,
          ...(target.listingId === undefined ? {} : { listingId: target.listingId }),
          quantity,
          idempotencyKey: `push:${tenant}:${sku}:v${level.version}:${target.key}`,
          ...(input.signal ? { signal: input.signal } : {}),
        });
        // An absolute quantity is safe to send again, so an unanswered write is simply retried.
        if (outcome.status === 'indeterminate') {
          return {
            ...base(mapping),
            quantity,
            status: 'retry',
            reason: 'indeterminate',
            message: outcome.reason,
          };
        }
        return { ...base(mapping), quantity, status: 'applied' };
      } catch (error) {
        return { ...base(mapping), quantity, ...classifyPushFailure(error) };
      }
    }),
  );
  return { tenant, sku, available: level.available, version: level.version, listings };
}

/**
 * Transient failures (5xx and network after the adapter's own retries, throttling, an open
 * breaker, our Redis) are tried again later; anything else (the platform refused the listing,
 * revoked credentials, a missing account option, a bug) would fail the same way again, so it is
 * reported and left until the next change or an operator's re-push.
 */
export function classifyPushFailure(
  error: unknown,
): Pick<ListingPush, 'status' | 'reason' | 'message' | 'retryAfterMs'> {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof TradectlError)) return { status: 'failed', reason: 'unexpected', message };
  const retry = error.retriable || error.kind === 'transient';
  const wait = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return {
    status: retry ? 'retry' : 'failed',
    reason: error.code,
    message,
    ...(retry && typeof wait === 'number' && Number.isFinite(wait) ? { retryAfterMs: wait } : {}),
  };
}
