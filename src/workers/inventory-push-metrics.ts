import { Counter, Gauge, type Registry } from 'prom-client';
import type { ListingPush } from './inventory-push-job.js';

/**
 * The push role's Prometheus series (docs/inventory-push.md), plus the same counts in memory for
 * tests and logs. Registered once per registry: a second pusher on one registry shares them.
 *
 *   tradectl_inventory_pushes_total{platform,account}            quantities set on a channel
 *   tradectl_inventory_push_failures_total{platform,account,retried}  failed writes (retried: "true"
 *                                                                  when it will be tried again)
 *   tradectl_inventory_push_skipped_total{platform,reason}       listings that cannot be pushed
 *   tradectl_inventory_push_coalesced_total                      changes folded into a pending push
 *   tradectl_inventory_push_changes_total                        SKU changes read from the stream
 *   tradectl_inventory_push_pending_skus                         SKUs waiting for or in a push
 */

export interface InventoryPushStats {
  changes: number;
  coalesced: number;
  pushes: number;
  failures: number;
  retries: number;
  skipped: number;
}

export class InventoryPushMetrics {
  readonly stats: InventoryPushStats = {
    changes: 0,
    coalesced: 0,
    pushes: 0,
    failures: 0,
    retries: 0,
    skipped: 0,
  };
  readonly #series: ReturnType<typeof register> | undefined;

  constructor(registry?: Registry) {
    this.#series = registry ? register(registry) : undefined;
  }

  changed(count: number): void {
    this.stats.changes += count;
    this.#series?.changes.inc(count);
  }

  coalesced(): void {
    this.stats.coalesced++;
    this.#series?.coalesced.inc();
  }

  pending(skus: number): void {
    this.#series?.pending.set(skus);
  }

  listing(result: ListingPush): void {
    const labels = { platform: result.platform, account: result.account };
    switch (result.status) {
      case 'applied':
        this.stats.pushes++;
        this.#series?.pushes.inc(labels);
        break;
      case 'retry':
      case 'failed': {
        const retried = result.status === 'retry';
        this.stats.failures++;
        if (retried) this.stats.retries++;
        this.#series?.failures.inc({ ...labels, retried: String(retried) });
        break;
      }
      case 'skipped':
        this.stats.skipped++;
        this.#series?.skipped.inc({ platform: result.platform, reason: result.reason ?? 'unknown' });
        break;
      case 'dry_run':
        break;
    }
  }
}

function register(registry: Registry) {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  const pushes =
    existing<Counter<'platform' | 'account'>>('tradectl_inventory_pushes_total') ??
    new Counter({
      name: 'tradectl_inventory_pushes_total',
      help: 'Listing quantities set on a channel by the inventory push',
      labelNames: ['platform', 'account'] as const,
      registers: [registry],
    });
  const failures =
    existing<Counter<'platform' | 'account' | 'retried'>>('tradectl_inventory_push_failures_total') ??
    new Counter({
      name: 'tradectl_inventory_push_failures_total',
      help: 'Failed listing quantity writes; retried="true" when the push will be tried again',
      labelNames: ['platform', 'account', 'retried'] as const,
      registers: [registry],
    });
  const skipped =
    existing<Counter<'platform' | 'reason'>>('tradectl_inventory_push_skipped_total') ??
    new Counter({
      name: 'tradectl_inventory_push_skipped_total',
      help: 'Listings a push could not address (listing-id mappings, unconfigured accounts, unknown SKUs)',
      labelNames: ['platform', 'reason'] as const,
      registers: [registry],
    });
  const coalesced =
    existing<Counter>('tradectl_inventory_push_coalesced_total') ??
    new Counter({
      name: 'tradectl_inventory_push_coalesced_total',
      help: 'SKU changes folded into a push already pending (debounce)',
      registers: [registry],
    });
  const changes =
    existing<Counter>('tradectl_inventory_push_changes_total') ??
    new Counter({
      name: 'tradectl_inventory_push_changes_total',
      help: 'SKU changes the inventory push read from the stock streams',
      registers: [registry],
    });
  const pending =
    existing<Gauge>('tradectl_inventory_push_pending_skus') ??
    new Gauge({
      name: 'tradectl_inventory_push_pending_skus',
      help: 'SKUs waiting for a push, being pushed, or holding an unacknowledged stream entry',
      registers: [registry],
    });
  return { pushes, failures, skipped, coalesced, changes, pending };
}
