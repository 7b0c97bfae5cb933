import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultConfig,
  type Sandbox,
  type SandboxPlatform,
  startSandbox,
} from '../../src/sandbox/index.js';
import { backfillWindow, connect, PLATFORM_CASES, sandboxAccount } from '../helpers/adapter-harness.js';
import { backfill } from '../helpers/backfill-check.js';

// The headline of issue 3: every adapter lists a window of 20,000 orders through 20% 5xx,
// 10% 429 storms and 2% dropped connections (half of them cut off mid-body), and what it keeps
// equals the ground truth. About 10-15 s per platform; bench/adapters-backfill.ts repeats it
// next to a fault-free listing and prints the numbers.

const ORDERS = 20_000;
const FAULTS: FaultConfig = { error5xx: 0.2, rate429: 0.1, drop: 0.02 };
// Rates scaled so the listing is bound by the faults and the sandbox, not by the budget.
const SCALE: Record<SandboxPlatform, number> = { shopify: 100, amazon: 20_000, ebay: 100 };

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    seed: 3,
    ordersPerAccount: ORDERS,
    accounts: 'shopify:1,amazon:1,ebay:1',
    rateScale: SCALE,
    faults: { shopify: FAULTS, amazon: FAULTS, ebay: FAULTS },
  });
  sandbox.settle();
});

afterAll(async () => {
  await sandbox?.close();
});

describe.each(PLATFORM_CASES)('$platform backfill through injected faults', ({ platform, maxPageSize }) => {
  it(`lists all ${ORDERS} orders of the window: none missing, none twice, every field equal`, async () => {
    const connected = connect(sandboxAccount(sandbox, platform), { scale: SCALE[platform] });
    try {
      const report = await backfill(sandbox, connected, { window: backfillWindow(), pageSize: maxPageSize });
      expect(report).toMatchObject({
        orders: ORDERS,
        missing: 0,
        unexpected: 0,
        mismatched: 0,
        conflicts: 0,
        rejected: 0,
      });
      // Retried pages are the same page: a repeat would mean the cursor went wrong.
      expect(report.rawDuplicates).toBe(0);
      // The faults did happen, and every one was retried.
      const { forced429, injected5xx, dropped } = report.sandbox;
      expect(forced429).toBeGreaterThan(0);
      expect(injected5xx).toBeGreaterThan(0);
      expect(report.retries).toBe(forced429 + injected5xx + dropped + report.sandbox.refused);
      expect(report.requests).toBe(report.pages + report.retries);
    } finally {
      await connected.resilience.stop();
    }
  });
});
