import { forEachBounded } from '../core/bounded-concurrency.js';
import type { CheckpointStore } from '../core/checkpoint-store.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { MysqlPools } from '../core/mysql-pools.js';
import type { UnifiedOrder } from '../core/order.js';
import {
  accuracy,
  compareListed,
  type OrderProblem,
  type StoredVersion,
  storedVersions,
} from '../core/reconcile/order-compare.js';
import type { ShardRouter } from '../core/shard-router.js';
import { fromEpochMs, type Instant } from '../core/time.js';
import type { AccountTarget } from './account-targets.js';
import type { Resync } from './reconcile-resync.js';
import { type SyncErrorSummary, summarizeError } from './sync-result.js';

/** One account of `reconcile orders`: the check (listing and comparing) and the fix. */

export interface OrderDriftItem {
  platformOrderId: string;
  problem: OrderProblem;
  /** The update time the platform listed. */
  platformUpdatedAt: Instant;
  /** The stored version's update time; null when missing. */
  storedUpdatedAt: Instant | null;
  /** With fix: fixed (stored now), gone (the platform no longer has it), failed (see reason). */
  repair?: 'fixed' | 'gone' | 'failed';
  reason?: string;
}

export interface AccountReconcile {
  platform: string;
  account: string;
  status: 'ok' | 'failed';
  /** The window compared: [since, to], both inclusive. */
  window: { from: Instant; to: Instant };
  /**
   * Why `to` is earlier than asked: `safety-lag` (the platform's recent updates are not
   * complete yet), `checkpoint` (the sync has not reached past it: orders after it are not
   * expected yet).
   */
  clampedBy: 'safety-lag' | 'checkpoint' | null;
  /** Distinct orders the platform listed (records it could not map are in `rejected`). */
  listed: number;
  matched: number;
  /** The database holds a newer version than the listing showed (the listing lagged). */
  ahead: number;
  missing: number;
  stale: number;
  /** Platform ids of records the adapter cannot map (the sync sent them to the DLQ). */
  rejected: string[];
  /** (matched + ahead) / listed, in percent; null when nothing was listed. */
  accuracy: number | null;
  drift: OrderDriftItem[];
  fixed: number;
  /** Drift not fixed (all of it without fix). */
  remaining: number;
  /** HTTP requests made to the platform (retries included). */
  requests: number;
  error: SyncErrorSummary | null;
}

export interface AccountContext {
  config: Config;
  logger: Logger;
  pools: MysqlPools;
  router: ShardRouter;
  checkpoints: Pick<CheckpointStore, 'get'>;
  since: Instant;
  until?: Instant | undefined;
  clock: () => number;
  signal?: AbortSignal | undefined;
}

// Orders per database lookup and per publish of repairs.
const BATCH = 500;

/** Lists and compares one account. Never throws: a failure is in `status` and `error`. */
export async function checkAccount(
  target: AccountTarget,
  context: AccountContext,
): Promise<AccountReconcile> {
  const { account, adapter } = target;
  const requestsBefore = requests(target);
  const result: AccountReconcile = {
    platform: account.platform,
    account: account.id,
    status: 'ok',
    window: { from: context.since, to: context.since },
    clampedBy: null,
    listed: 0,
    matched: 0,
    ahead: 0,
    missing: 0,
    stale: 0,
    rejected: [],
    accuracy: null,
    drift: [],
    fixed: 0,
    remaining: 0,
    requests: 0,
    error: null,
  };
  try {
    const latest = fromEpochMs(context.clock() - target.timing.safetyLagMs);
    let to = context.until ?? latest;
    if (to > latest) {
      to = latest;
      result.clampedBy = 'safety-lag';
    }
    const checkpoint = await context.checkpoints.get(account.platform, account.id);
    if (checkpoint !== null && checkpoint.cursorTime < to) {
      to = checkpoint.cursorTime;
      result.clampedBy = 'checkpoint';
    }
    result.window.to = to;
    if (context.since > to) return result;

    const listed = new Map<string, Instant>();
    const rejected = new Set<string>();
    for await (const page of adapter.listOrders({ from: context.since, to, signal: context.signal })) {
      // An order can be listed twice when it changed during the listing: the newest counts.
      for (const order of page.orders) {
        const seen = listed.get(order.platformOrderId);
        if (seen === undefined || order.updatedAt > seen) listed.set(order.platformOrderId, order.updatedAt);
      }
      for (const record of page.rejected) rejected.add(record.platformOrderId ?? '(no id)');
    }
    for (const id of listed.keys()) rejected.delete(id);
    result.rejected = [...rejected].sort();
    result.listed = listed.size;

    const ids = [...listed.keys()].sort();
    for (let at = 0; at < ids.length; at += BATCH) {
      const batch = ids.slice(at, at + BATCH);
      const stored = await lookup(context, target, batch);
      for (const id of batch) {
        const platformUpdatedAt = listed.get(id)!;
        const found = stored.get(id);
        const { state } = compareListed(platformUpdatedAt, found);
        if (state === 'match') result.matched++;
        else if (state === 'ahead') result.ahead++;
        else {
          result[state]++;
          result.drift.push({
            platformOrderId: id,
            problem: state,
            platformUpdatedAt,
            storedUpdatedAt: found?.updatedAt ?? null,
          });
        }
      }
    }
    result.accuracy = accuracy(result.matched + result.ahead, result.listed);
    result.remaining = result.drift.length;
  } catch (error) {
    result.status = 'failed';
    result.error = summarizeError(error, context.signal);
    context.logger.warn(
      { err: error, platform: account.platform, account: account.id },
      'reconcile could not check the account',
    );
  } finally {
    result.requests = requests(target) - requestsBefore;
  }
  return result;
}

/**
 * Fetches each drifted order again through the adapter, stores them through the resync (the
 * normal path), and looks them up again: fixed when the stored version is at least the listed
 * one. Never throws; what could not be fixed says why.
 */
export async function fixAccount(
  target: AccountTarget,
  result: AccountReconcile,
  context: AccountContext & { resync: Resync },
): Promise<void> {
  const requestsBefore = requests(target);
  const fetched: { item: OrderDriftItem; order: UnifiedOrder }[] = [];
  // The limiter paces the calls; a few in flight keep it busy without queueing the whole list.
  await forEachBounded(result.drift, 4, async (item) => {
    try {
      const order = await target.adapter.getOrder({
        platformOrderId: item.platformOrderId,
        signal: context.signal,
      });
      if (order === null) {
        item.repair = 'gone';
        item.reason = 'the platform no longer returns this order';
      } else fetched.push({ item, order });
    } catch (error) {
      item.repair = 'failed';
      item.reason = `fetch: ${summarizeError(error, context.signal).message}`;
    }
  });
  for (let at = 0; at < fetched.length; at += BATCH) {
    const chunk = fetched.slice(at, at + BATCH);
    try {
      await context.resync.store(chunk.map(({ order }) => order));
    } catch (error) {
      for (const { item } of chunk) {
        item.repair = 'failed';
        item.reason = `store: ${summarizeError(error, context.signal).message}`;
      }
    }
  }
  const stored = await lookup(
    context,
    target,
    fetched.filter(({ item }) => item.repair === undefined).map(({ item }) => item.platformOrderId),
  ).catch((error: unknown) => {
    context.logger.warn({ err: error }, 'could not read back the repaired orders');
    return new Map<string, StoredVersion>();
  });
  for (const { item } of fetched) {
    if (item.repair !== undefined) continue;
    const now = stored.get(item.platformOrderId);
    if (now !== undefined && now.updatedAt >= item.platformUpdatedAt) {
      item.repair = 'fixed';
      item.storedUpdatedAt = now.updatedAt;
    } else {
      item.repair = 'failed';
      // The sink quarantines an order it can never store: the DLQ has the reason.
      item.reason = 'not stored after the re-sync (see tradectl trace and the dead letter queue)';
    }
  }
  result.fixed = result.drift.filter((item) => item.repair === 'fixed').length;
  result.remaining = result.drift.length - result.fixed;
  result.requests += requests(target) - requestsBefore;
}

function lookup(
  context: AccountContext,
  target: AccountTarget,
  platformOrderIds: readonly string[],
): Promise<Map<string, StoredVersion>> {
  return storedVersions({
    pools: context.pools,
    router: context.router,
    userId: target.account.userId,
    platform: target.account.platform,
    account: target.account.id,
    platformOrderIds,
  });
}

function requests(target: AccountTarget): number {
  return target.resilience.stats.snapshot().reduce((sum, row) => sum + row.requests, 0);
}
