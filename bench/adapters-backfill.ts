/**
 * The numbers of issue 3, for every marketplace adapter against the in-process sandbox:
 *
 * 1. Backfill through faults: 20% 5xx, 10% 429 storms and 2% dropped connections (half of them
 *    cut off mid-body). Each adapter lists a window of `orders` orders; printed: duration, pages,
 *    requests, 429s, 5xx, drops, retries, raw duplicates (before dedupe), missing, mismatched
 *    fields. The ceiling is the same listing without faults, measured in the same run.
 * 2. Budget-bound backfill without faults (test/helpers/budget-run.ts): the share of the allowed
 *    request budget the adapter used (allowed / (burst + rate × busy seconds), as the sandbox's
 *    strict buckets count it) and the requests they refused. eBay publishes daily quotas only:
 *    it gets a per-second bucket on both sides so pacing shows.
 *
 *   npx tsx bench/adapters-backfill.ts [faultRuns=1] [budgetRuns=5] [orders=20000]
 *
 * Exits non-zero when an order is missing or wrong, or a bucket refused a request.
 */
import { type FaultConfig, type SandboxPlatform, startSandbox } from '../src/sandbox/index.js';
import { backfillWindow, connect, PLATFORM_CASES, sandboxAccount } from '../test/helpers/adapter-harness.js';
import { type BackfillReport, backfill } from '../test/helpers/backfill-check.js';
import { budgetRun } from '../test/helpers/budget-run.js';

const FAULT_RUNS = Number(process.argv[2] ?? 1);
const BUDGET_RUNS = Number(process.argv[3] ?? 5);
const ORDERS = Number(process.argv[4] ?? 20_000);
const FAULTS: FaultConfig = { error5xx: 0.2, rate429: 0.1, drop: 0.02 };
// Scaled so a listing is bound by the faults and the sandbox, not by the documented budgets.
const SCALE: Record<SandboxPlatform, number> = { shopify: 100, amazon: 20_000, ebay: 100 };

function spread(values: number[], digits = 0): string {
  const sorted = [...values].sort((a, b) => a - b);
  const format = (value: number) => value.toFixed(digits);
  return `min ${format(sorted[0]!)}  median ${format(sorted[Math.floor(sorted.length / 2)]!)}  max ${format(sorted.at(-1)!)}`;
}

async function listOnce(
  platform: SandboxPlatform,
  faults: FaultConfig,
  seed: number,
): Promise<BackfillReport> {
  const sandbox = await startSandbox({
    port: 0,
    seed,
    ordersPerAccount: ORDERS,
    accounts: `${platform}:1`,
    rateScale: SCALE,
    faults: { [platform]: faults },
  });
  try {
    sandbox.settle();
    const connected = connect(sandboxAccount(sandbox, platform), { scale: SCALE[platform] });
    try {
      const { maxPageSize } = PLATFORM_CASES.find((spec) => spec.platform === platform)!;
      return await backfill(sandbox, connected, { window: backfillWindow(), pageSize: maxPageSize });
    } finally {
      await connected.resilience.stop();
    }
  } finally {
    await sandbox.close();
  }
}

let failed = false;

console.log(
  `backfill through 20% 5xx, 10% 429, 2% drops: ${ORDERS} orders per platform, ${FAULT_RUNS} run(s)`,
);
for (const { platform } of PLATFORM_CASES) {
  const ratios: number[] = [];
  for (let run = 0; run < FAULT_RUNS; run++) {
    const clean = await listOnce(platform, {}, 100 + run);
    const report = await listOnce(platform, FAULTS, 100 + run);
    ratios.push(report.ms / clean.ms);
    const { sandbox: seen } = report;
    console.log(
      `${platform.padEnd(8)} ${String(report.orders).padStart(6)} orders in ${(report.ms / 1000).toFixed(1)} s ` +
        `(no faults ${(clean.ms / 1000).toFixed(1)} s)  pages ${report.pages}  requests ${report.requests}  ` +
        `429s ${report.throttled} (injected ${seen.forced429}, limiter ${seen.refused})  5xx ${seen.injected5xx}  ` +
        `drops ${seen.dropped}  retries ${report.retries}  raw duplicates ${report.rawDuplicates}  ` +
        `missing ${report.missing}  unexpected ${report.unexpected}  mismatched ${report.mismatched}  ` +
        `rejected ${report.rejected}`,
    );
    if (report.missing + report.unexpected + report.mismatched + report.conflicts + report.rejected > 0)
      failed = true;
    if (report.orders !== ORDERS) failed = true;
  }
  console.log(`${platform.padEnd(8)} duration with faults / without: ${spread(ratios, 2)}`);
}

console.log(`\nbudget-bound backfill, no faults: ${BUDGET_RUNS} runs per platform`);
for (const { platform } of PLATFORM_CASES) {
  const results = [];
  for (let run = 0; run < BUDGET_RUNS; run++) results.push(await budgetRun(platform, undefined, 200 + run));
  const refused = results.reduce((sum, result) => sum + result.refused, 0);
  console.log(
    `${platform.padEnd(8)} utilisation ${spread(
      results.map((result) => result.utilisation),
      3,
    )}  requests/run ${results[0]!.requests}  busy ${spread(results.map((result) => result.busyMs))} ms  ` +
      `refused ${refused}  exceeded ${results.some((result) => result.exceeded)}`,
  );
  if (refused > 0 || results.some((result) => !result.complete)) failed = true;
}

if (failed) {
  console.error('FAILED: an order was missing or wrong, or a bucket refused a request');
  process.exitCode = 1;
}
