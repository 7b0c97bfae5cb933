import type { Redis } from 'ioredis';
import type { AccountLease, AccountLeases } from '../core/account-lease.js';
import type { Logger } from '../core/logger.js';
import { type TenantKeys, tenantKeys, tenantRegistryKey } from '../core/stock/keys.js';
import { type LedgerEntry, type LedgerKind, parseStreamEntry } from '../core/stock/ledger-entry.js';
import { claimIdle, ensureGroup, type GroupReader, readGroup } from '../core/stock/ledger-stream.js';
import { StockScripts } from '../core/stock/scripts.js';

/**
 * The push role's side of the stock change streams: its own consumer group on each tenant's
 * stream (so it never takes entries from the ledger drain, and the drain's trimming waits for
 * it), one holder per tenant, and acknowledgement only of entries whose push is done.
 *
 * One process pushes a tenant at a time: it holds the tenant's lease (the fenced Redis lease of
 * account-lease.ts, named `inventory-push:<tenant>`). Two pushers on one tenant could otherwise
 * read one SKU's quantity in one order and land their writes in the other, leaving a channel at
 * the older value. A process that takes a tenant over first claims every entry still pending in
 * the group (XAUTOCLAIM from idle 0: whoever held them has lost or released the lease), then
 * reads new ones.
 */

export const PUSH_GROUP = 'inventory-push';
export const PUSH_LEASE_NAME = 'inventory-push';

// A confirm moves units from reserved to sold: available does not change, so nothing to push.
// set and load always push: an operator's correction should reach the channels even when it
// happens to leave the number where it was.
const ALWAYS_PUSH = new Set<LedgerKind>(['set', 'load']);

/** The SKUs of an entry whose available quantity changed. */
export function changedSkus(entry: LedgerEntry): string[] {
  return entry.lines
    .filter((line) => ALWAYS_PUSH.has(entry.kind) || line.delta - line.reservedDelta !== 0)
    .map((line) => line.sku);
}

export interface HeldTenant {
  readonly tenant: string;
  readonly keys: TenantKeys;
  readonly lease: AccountLease;
  /** Where the takeover claim continues; null once every pending entry was claimed. */
  claimCursor: string | null;
  lastMaintenanceMs: number;
}

export interface PushStreamsOptions {
  redis: Redis;
  keyPrefix: string;
  leases: AccountLeases;
  logger: Logger;
  consumer: string;
  group: string;
  batchSize: number;
  clock: () => number;
  /** Called when a held tenant's lease is lost: forget its SKUs. */
  onLost(tenant: string): void;
  /** How often idle consumers of the group are removed, ms. */
  maintenanceIntervalMs: number;
  /** Consumers idle this long with nothing pending are removed, ms. */
  pruneIdleMs: number;
}

export class PushStreams {
  readonly #o: PushStreamsOptions;
  readonly #held = new Map<string, HeldTenant>();
  /** Tenants another process holds: when to ask again. */
  readonly #retryAt = new Map<string, number>();
  readonly #acks = new Map<string, string[]>();
  readonly #scripts: StockScripts;

  constructor(options: PushStreamsOptions) {
    this.#o = options;
    this.#scripts = new StockScripts(options.redis);
  }

  get heldTenants(): string[] {
    return [...this.#held.keys()];
  }

  /** The tenants whose streams exist, each held by this process if it can get it. */
  async tenants(): Promise<HeldTenant[]> {
    const names = await this.#o.redis.smembers(tenantRegistryKey(this.#o.keyPrefix));
    const held: HeldTenant[] = [];
    for (const tenant of names) {
      const state = this.#held.get(tenant) ?? (await this.#acquire(tenant));
      if (state && !state.lease.lost) held.push(state);
    }
    return held;
  }

  /** Up to `batchSize` entries of a held tenant: claimed ones first after a takeover, then new ones. */
  async read(state: HeldTenant): Promise<{ id: string; entry: LedgerEntry | null; reason?: string }[]> {
    state.lease.assertHeld();
    const reader: GroupReader = {
      stream: state.keys.stream,
      group: this.#o.group,
      consumer: this.#o.consumer,
      count: this.#o.batchSize,
    };
    let raw: Awaited<ReturnType<typeof readGroup>>;
    if (state.claimCursor !== null) {
      const claimed = await claimIdle(this.#o.redis, reader, 0, state.claimCursor);
      state.claimCursor = claimed.next === '0-0' ? null : claimed.next;
      raw = claimed.entries;
    } else raw = await readGroup(this.#o.redis, reader, '>');
    return raw.map(([id, fields]) => {
      const parsed = parseStreamEntry(id, fields);
      return parsed.ok ? { id, entry: parsed.entry } : { id, entry: null, reason: parsed.reason };
    });
  }

  /** Queues an entry's acknowledgement (sent by `flushAcks`). */
  ack(tenant: string, entryId: string): void {
    const list = this.#acks.get(tenant);
    if (list) list.push(entryId);
    else this.#acks.set(tenant, [entryId]);
  }

  /** Sends the queued acknowledgements; what fails stays queued for the next call. */
  async flushAcks(): Promise<void> {
    for (const [tenant, ids] of this.#acks) {
      const stream = tenantKeys(this.#o.keyPrefix, tenant).stream;
      while (ids.length > 0) {
        const chunk = ids.slice(0, 1000);
        await this.#o.redis.xack(stream, this.#o.group, ...chunk);
        ids.splice(0, chunk.length);
      }
      this.#acks.delete(tenant);
    }
  }

  /** Removes consumers of the group that died long ago (each restart joins under a new name). */
  async maintain(state: HeldTenant): Promise<void> {
    const now = this.#o.clock();
    if (now - state.lastMaintenanceMs < this.#o.maintenanceIntervalMs) return;
    state.lastMaintenanceMs = now;
    const removed = await this.#scripts.run('pruneConsumers', {
      keys: [state.keys.stream],
      args: [this.#o.group, this.#o.consumer, this.#o.pruneIdleMs],
    });
    if (removed !== 0) this.#o.logger.info({ tenant: state.tenant, removed }, 'removed idle push consumers');
  }

  /** Gives every tenant back (their pending entries wait for the next holder). */
  async releaseAll(): Promise<void> {
    const held = [...this.#held.values()];
    this.#held.clear();
    await Promise.all(held.map((state) => state.lease.release()));
  }

  async #acquire(tenant: string): Promise<HeldTenant | undefined> {
    const now = this.#o.clock();
    if ((this.#retryAt.get(tenant) ?? 0) > now) return undefined;
    const result = await this.#o.leases.acquire(PUSH_LEASE_NAME, tenant);
    if (!result.acquired) {
      // Asked again every second (one small script call), so a holder that stops and releases
      // the tenant is followed at once, not only when its lease would have run out.
      this.#retryAt.set(tenant, now + 1000);
      return undefined;
    }
    this.#retryAt.delete(tenant);
    const keys = tenantKeys(this.#o.keyPrefix, tenant);
    try {
      await ensureGroup(this.#o.redis, keys.stream, this.#o.group);
    } catch (error) {
      await result.lease.release();
      throw error;
    }
    const state: HeldTenant = {
      tenant,
      keys,
      lease: result.lease,
      claimCursor: '0-0',
      lastMaintenanceMs: now,
    };
    this.#held.set(tenant, state);
    result.lease.signal.addEventListener(
      'abort',
      () => {
        if (this.#held.get(tenant) !== state) return;
        this.#held.delete(tenant);
        this.#o.onLost(tenant);
      },
      { once: true },
    );
    this.#o.logger.info({ tenant, consumer: this.#o.consumer }, 'pushing the inventory of this tenant');
    return state;
  }
}
