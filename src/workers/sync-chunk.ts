import type { MarketplaceAdapter } from '../adapters/types.js';
import type { AccountLease } from '../core/account-lease.js';
import type { DeadLetterQueue } from '../core/bus/dlq.js';
import { createEnvelope } from '../core/bus/envelope.js';
import type { OrderBus } from '../core/bus/order-bus.js';
import { TradectlError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Platform } from '../core/platforms.js';
import { laterPosition, type OrderPosition, type SyncWindow } from '../core/sync-window.js';
import type { Instant } from '../core/time.js';
import type { HandedOffVersions } from './handed-off-versions.js';
import { HandoffTracker } from './handoff-tracker.js';
import { rejectedEntry } from './sync-result.js';

/**
 * Lists one chunk page by page and hands every page off (orders to the bus, rejected records to
 * the DLQ), fetching the next page while earlier ones are handed off; resolves once every
 * hand-off of the chunk resolved, which is what lets the caller move the checkpoint.
 *
 * Offset paging (eBay) skips an order when another one leaves or moves in the list during the
 * scan. A platform that reports the window's total shows it: fewer distinct orders than the
 * total. The chunk is then listed again (the repeats are harmless) up to `maxPasses` times,
 * and if orders are still missing the chunk fails, so its checkpoint does not move.
 */
export interface ChunkListing {
  orders: number;
  rejected: number;
  pages: number;
  passes: number;
  /** Highest (update time, id) seen; null for an empty chunk. */
  high: OrderPosition | null;
}

export interface HandOffChunkInput {
  platform: Platform;
  account: string;
  adapter: MarketplaceAdapter;
  bus: Pick<OrderBus, 'publish'>;
  dlq: Pick<DeadLetterQueue, 'put'>;
  chunk: SyncWindow;
  lease: AccountLease;
  signal: AbortSignal;
  now: () => Instant;
  logger: Logger;
  pageSize?: number | undefined;
  maxInFlight: number;
  /** Default 3. */
  maxPasses?: number;
  /** After each page: fetched and rejected counts of that page. */
  onPage(page: { orders: number; rejected: number }): void;
  /** After each publish resolved: orders durably handed off. */
  onPublished(count: number): void;
  /** Versions this process handed off before: not published again (handed-off-versions.ts). */
  handedOff?: HandedOffVersions | undefined;
}

export async function handOffChunk(input: HandOffChunkInput): Promise<ChunkListing> {
  const { lease, signal } = input;
  const maxPasses = input.maxPasses ?? 3;
  const tracker = new HandoffTracker(input.maxInFlight);
  const listing: ChunkListing = { orders: 0, rejected: 0, pages: 0, passes: 0, high: null };
  const seen = new Set<string>();
  const accountKey = `${input.platform}:${input.account}`;
  let total: number | undefined;
  let anonymousRejects = 0;
  while (listing.passes < maxPasses) {
    listing.passes++;
    total = undefined;
    anonymousRejects = 0;
    lease.assertHeld();
    for await (const page of input.adapter.listOrders({
      from: input.chunk.from,
      to: input.chunk.to,
      pageSize: input.pageSize,
      signal,
    })) {
      listing.pages++;
      if (page.total !== undefined) total = Math.max(total ?? 0, page.total);
      if (page.orders.length > 0) {
        const fetchedAt = input.now();
        const fresh = input.handedOff ? input.handedOff.fresh(accountKey, page.orders) : page.orders;
        if (fresh.length > 0) {
          const envelopes = fresh.map((order) => createEnvelope(order, fetchedAt));
          tracker.add(
            input.bus.publish(envelopes).then(() => {
              input.handedOff?.handedOff(accountKey, fresh);
              input.onPublished(fresh.length);
            }),
          );
        }
        for (const order of page.orders) {
          listing.high = laterPosition(listing.high, order);
          // Ids are only kept where the platform reports a total to compare them with.
          if (page.total !== undefined) seen.add(order.platformOrderId);
        }
      }
      if (page.rejected.length > 0) {
        tracker.add(
          input.dlq.put(page.rejected.map((record) => rejectedEntry(input.platform, input.account, record))),
        );
        for (const record of page.rejected) {
          if (record.platformOrderId === null) anonymousRejects++;
          else if (page.total !== undefined) seen.add(record.platformOrderId);
        }
        input.logger.warn(
          {
            rejected: page.rejected.map((record) => ({
              id: record.platformOrderId,
              reason: record.error.message,
            })),
          },
          'records the adapter could not map went to the dead letter queue',
        );
      }
      listing.orders += page.orders.length;
      listing.rejected += page.rejected.length;
      input.onPage({ orders: page.orders.length, rejected: page.rejected.length });
      await tracker.waitForRoom(signal);
      lease.assertHeld();
      signal.throwIfAborted();
    }
    if (total === undefined || seen.size + anonymousRejects >= total) break;
    input.logger.warn(
      { window: input.chunk, total, seen: seen.size, pass: listing.passes },
      'fewer distinct orders than the platform reports for the window (offset paging skipped some): listing it again',
    );
  }
  await tracker.drain(signal);
  if (total !== undefined && seen.size + anonymousRejects < total) {
    throw new TradectlError(
      'TRADECTL_SYNC_INCOMPLETE_WINDOW',
      `${input.platform}:${input.account} window ${input.chunk.from}..${input.chunk.to}: ` +
        `${seen.size + anonymousRejects} distinct orders after ${listing.passes} listings, the platform reports ${total}`,
      {
        kind: 'transient',
        details: { window: input.chunk, total, seen: seen.size },
        hint: 'orders kept moving during the listing; the next run lists the window again',
      },
    );
  }
  return listing;
}
