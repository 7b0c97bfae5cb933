import { type LimitSpec, type SandboxPlatform, startSandbox } from '../../src/sandbox/index.js';
import { backfillWindow, connect, platformCase, sandboxAccount } from './adapter-harness.js';
import { listWindow } from './backfill-check.js';

/**
 * A budget-bound backfill: the adapter lists a window much larger than its bucket's burst, with
 * no injected faults, against a fresh sandbox (both buckets start full), and the sandbox says how
 * much of the allowed budget it used and whether any request went over the limit.
 *
 * The documented limits are kept (Shopify 40 / 2 per s, Amazon searchOrders 20 / 0.0056 per s),
 * only their rates scaled; eBay publishes daily quotas only, so it gets a per-second token
 * bucket of burst 20 on both sides (sandbox `limits`, account `limits`) for pacing to show.
 */
export interface BudgetParams {
  /** Requests per second both sides allow, after scaling. */
  ratePerSecond: number;
  orders: number;
  pageSize: number;
}

/**
 * 10 requests/s: a page of 10 orders comes back in 17 ms (median, 40 ms p90) on the loaded
 * 2-core test machine, so the sequential pager is bound by the budget, not by the sandbox.
 * 60 requests after the burst: about 6 s per platform.
 */
export const BUDGET_PARAMS: Record<SandboxPlatform, BudgetParams> = {
  shopify: { ratePerSecond: 10, orders: 1_000, pageSize: 10 },
  amazon: { ratePerSecond: 10, orders: 800, pageSize: 10 },
  ebay: { ratePerSecond: 10, orders: 800, pageSize: 10 },
};

const EBAY_BUCKET = { rate: 2, burst: 20 };
const DOCUMENTED_RATE: Record<SandboxPlatform, number> = {
  shopify: 2,
  amazon: 0.0056,
  ebay: EBAY_BUCKET.rate,
};

export interface BudgetResult {
  platform: SandboxPlatform;
  requests: number;
  /** The sandbox's refusals: requests over the limit. */
  refused: number;
  exceeded: boolean;
  /** allowed / (burst + rate × busy seconds), as the sandbox counts it. */
  utilisation: number;
  busyMs: number;
  complete: boolean;
}

export async function budgetRun(
  platform: SandboxPlatform,
  params = BUDGET_PARAMS[platform],
  seed = 5,
): Promise<BudgetResult> {
  const scale = params.ratePerSecond / DOCUMENTED_RATE[platform];
  const limits: Partial<Record<SandboxPlatform, Record<string, LimitSpec>>> | undefined =
    platform === 'ebay' ? { ebay: { fulfillment: { kind: 'bucket', ...EBAY_BUCKET } } } : undefined;
  const sandbox = await startSandbox({
    port: 0,
    seed,
    ordersPerAccount: params.orders,
    accounts: `${platform}:1`,
    rateScale: { [platform]: scale },
    limits,
  });
  try {
    sandbox.settle();
    const connected = connect(sandboxAccount(sandbox, platform), {
      scale,
      limits: platform === 'ebay' ? { ratePerSecond: EBAY_BUCKET.rate, burst: EBAY_BUCKET.burst } : undefined,
    });
    try {
      const listing = await listWindow(connected.adapter, backfillWindow(), { pageSize: params.pageSize });
      const stats = sandbox.stats();
      const bucket = stats.buckets.find((entry) => entry.bucket === platformCase(platform).listBucket)!;
      return {
        platform,
        requests: bucket.allowed + bucket.throttled,
        refused: bucket.throttled,
        exceeded: stats.exceeded,
        utilisation: bucket.utilisation!,
        busyMs: Date.parse(bucket.lastAt!) - Date.parse(bucket.firstAt!),
        complete: listing.byId.size === params.orders,
      };
    } finally {
      await connected.resilience.stop();
    }
  } finally {
    await sandbox.close();
  }
}
