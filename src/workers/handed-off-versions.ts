import type { UnifiedOrder } from '../core/order.js';
import type { Instant } from '../core/time.js';

/**
 * The order versions (platform id + update time) this process already handed off durably, per
 * account, so the lookback a run re-reads is not published again.
 *
 * Why: every run re-reads [checkpoint - lookback, now - lag] to catch late-visible updates; at a
 * 1 s interval with a 5 min lookback that re-lists each changed order ~300 times, and publishing
 * each repeat cost a Kafka message and an upsert that changes nothing (measured: 147k of 152k
 * messages unchanged while 6k orders synced). A version already handed off is skipped; a late
 * update carries a new update time and still goes through. The store decides by version anyway,
 * so skipping an identical version changes nothing it would have stored.
 *
 * Bounded: entries older than the oldest window a run can still read are dropped at each run
 * (`forgetBefore`), and an account keeps at most `maxPerAccount` (the oldest handed off go
 * first). A new process starts empty and publishes its first lookback in full.
 */
export class HandedOffVersions {
  readonly #accounts = new Map<string, Map<string, Instant>>();
  readonly #maxPerAccount: number;

  constructor(maxPerAccount = 100_000) {
    this.#maxPerAccount = maxPerAccount;
  }

  /** The orders of a page not yet handed off in this version. */
  fresh(account: string, orders: readonly UnifiedOrder[]): UnifiedOrder[] {
    const versions = this.#accounts.get(account);
    if (!versions) return [...orders];
    return orders.filter((order) => versions.get(order.platformOrderId) !== order.updatedAt);
  }

  /** Called once the publish of these orders resolved (durably handed off). */
  handedOff(account: string, orders: readonly UnifiedOrder[]): void {
    let versions = this.#accounts.get(account);
    if (!versions) {
      versions = new Map();
      this.#accounts.set(account, versions);
    }
    for (const order of orders) {
      const known = versions.get(order.platformOrderId);
      if (known !== undefined && known >= order.updatedAt) continue;
      // Re-inserted so insertion order stays oldest-handed-off first, for the cap below.
      versions.delete(order.platformOrderId);
      versions.set(order.platformOrderId, order.updatedAt);
    }
    for (const id of versions.keys()) {
      if (versions.size <= this.#maxPerAccount) break;
      versions.delete(id);
    }
  }

  /** Drops versions older than `instant`: no window of this account reads them again. */
  forgetBefore(account: string, instant: Instant): void {
    const versions = this.#accounts.get(account);
    if (!versions) return;
    for (const [id, updatedAt] of versions) if (updatedAt < instant) versions.delete(id);
    if (versions.size === 0) this.#accounts.delete(account);
  }

  /** Versions kept, over all accounts (a gauge for the curious and a test's bound). */
  size(): number {
    let total = 0;
    for (const versions of this.#accounts.values()) total += versions.size;
    return total;
  }
}
