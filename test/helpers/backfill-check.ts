import type { MarketplaceAdapter, RejectedRecord } from '../../src/adapters/types.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import type { Sandbox, SandboxAccount } from '../../src/sandbox/index.js';
import { type Connected, platformCase, type Window } from './adapter-harness.js';

/** What one listing of a window brought back, deduplicated the way callers must (key + version). */
export interface Listing {
  pages: number;
  /** Orders as they came, repeats included. */
  received: number;
  /** The newest version seen per platform order id. */
  byId: Map<string, UnifiedOrder>;
  /** Orders seen again in the very same version (key and updatedAt): harmless repeats. */
  identicalRepeats: number;
  /** Orders seen again in another version (the platform re-paged a changed order). */
  newerVersions: number;
  /** The same key and version with different content: never acceptable. */
  conflicts: string[];
  rejected: RejectedRecord[];
  ms: number;
}

/** Pages through a window to the end, keeping what a sync would keep. */
export async function listWindow(
  adapter: MarketplaceAdapter,
  window: Window,
  options: { pageSize?: number; afterPage?: (page: number) => void | Promise<void> } = {},
): Promise<Listing> {
  const started = performance.now();
  const listing: Listing = {
    pages: 0,
    received: 0,
    byId: new Map(),
    identicalRepeats: 0,
    newerVersions: 0,
    conflicts: [],
    rejected: [],
    ms: 0,
  };
  const json = new Map<string, string>();
  for await (const page of adapter.listOrders({ ...window, pageSize: options.pageSize })) {
    listing.pages += 1;
    listing.received += page.orders.length;
    listing.rejected.push(...page.rejected);
    for (const order of page.orders) {
      const seen = listing.byId.get(order.platformOrderId);
      const text = JSON.stringify(order);
      if (seen) {
        if (seen.updatedAt === order.updatedAt) {
          listing.identicalRepeats += 1;
          if (json.get(order.platformOrderId) !== text) listing.conflicts.push(order.platformOrderId);
          continue;
        }
        listing.newerVersions += 1;
        if (seen.updatedAt > order.updatedAt) continue;
      }
      listing.byId.set(order.platformOrderId, order);
      json.set(order.platformOrderId, text);
    }
    await options.afterPage?.(listing.pages);
  }
  listing.ms = performance.now() - started;
  return listing;
}

/** The sandbox's ground truth of an account in a window, mapped by the adapter's own mapper. */
export function expectedOrders(
  sandbox: Sandbox,
  account: SandboxAccount,
  window: Window,
): Map<string, UnifiedOrder> {
  const { mapTruth } = platformCase(account.platform);
  const expected = new Map<string, UnifiedOrder>();
  sandbox.groundTruth(account.platform, account.account).forEach((raw, index) => {
    // A ground-truth record the mapper refuses is a failure of the comparison, not a skip.
    const order = mapTruth(raw, account, `truth[${index}]`);
    if (order.updatedAt >= window.from && order.updatedAt <= window.to)
      expected.set(order.platformOrderId, order);
  });
  return expected;
}

export interface Comparison {
  expected: number;
  missing: string[];
  /** Listed but not in the ground truth of the window. */
  unexpected: string[];
  /** Listed with a field that differs from the ground truth; the first difference is kept. */
  mismatched: string[];
  firstMismatch: { id: string; got: UnifiedOrder; want: UnifiedOrder } | null;
}

export function compareWithTruth(
  listed: Map<string, UnifiedOrder>,
  expected: Map<string, UnifiedOrder>,
  options: { ignore?: ReadonlySet<string> } = {},
): Comparison {
  const result: Comparison = {
    expected: expected.size,
    missing: [],
    unexpected: [],
    mismatched: [],
    firstMismatch: null,
  };
  for (const [id, want] of expected) {
    if (options.ignore?.has(id)) continue;
    const got = listed.get(id);
    if (!got) {
      result.missing.push(id);
      continue;
    }
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      result.mismatched.push(id);
      result.firstMismatch ??= { id, got, want };
    }
  }
  for (const id of listed.keys()) if (!expected.has(id)) result.unexpected.push(id);
  return result;
}

/** The numbers of one backfill: what the adapter did and what the sandbox saw. */
export interface BackfillReport {
  platform: string;
  account: string;
  orders: number;
  ms: number;
  pages: number;
  missing: number;
  unexpected: number;
  mismatched: number;
  /** Orders received more than once (identical versions or newer ones), before dedupe. */
  rawDuplicates: number;
  conflicts: number;
  rejected: number;
  /** HTTP requests the adapter sent (every attempt). */
  requests: number;
  /** 429s the adapter received (injected storms and the limiter's refusals). */
  throttled: number;
  retries: number;
  authRefreshes: number;
  /** What the sandbox counted on the listing's bucket. */
  sandbox: {
    allowed: number;
    refused: number;
    forced429: number;
    injected5xx: number;
    dropped: number;
    utilisation: number | null;
  };
  exceeded: boolean;
}

/** Lists a window with a connected adapter and checks it against the ground truth. */
export async function backfill(
  sandbox: Sandbox,
  connected: Connected,
  options: { window: Window; pageSize?: number },
): Promise<BackfillReport> {
  const { adapter, resilience, account } = connected;
  const listing = await listWindow(adapter, options.window, { pageSize: options.pageSize });
  const result = compareWithTruth(listing.byId, expectedOrders(sandbox, account, options.window));
  const rows = resilience.stats.snapshot();
  const sum = (field: 'requests' | 'throttled' | 'retries' | 'authRefreshes') =>
    rows.reduce((total, row) => total + row[field], 0);
  const stats = sandbox.stats();
  const bucket = stats.buckets.find(
    (entry) =>
      entry.platform === account.platform &&
      entry.account === account.account &&
      entry.bucket === platformCase(account.platform).listBucket,
  );
  return {
    platform: account.platform,
    account: account.account,
    orders: listing.byId.size,
    ms: Math.round(listing.ms),
    pages: listing.pages,
    missing: result.missing.length,
    unexpected: result.unexpected.length,
    mismatched: result.mismatched.length,
    rawDuplicates: listing.identicalRepeats + listing.newerVersions,
    conflicts: listing.conflicts.length,
    rejected: listing.rejected.length,
    requests: sum('requests'),
    throttled: sum('throttled'),
    retries: sum('retries'),
    authRefreshes: sum('authRefreshes'),
    sandbox: {
      allowed: bucket?.allowed ?? 0,
      refused: bucket?.throttled ?? 0,
      forced429: bucket?.forced429 ?? 0,
      injected5xx: bucket?.injected5xx ?? 0,
      dropped: bucket?.dropped ?? 0,
      utilisation: bucket?.utilisation ?? null,
    },
    exceeded: stats.exceeded,
  };
}
