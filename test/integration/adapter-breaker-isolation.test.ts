import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BreakerStateChange } from '../../src/adapters/resilience/breaker.js';
import { PlatformError } from '../../src/adapters/resilience/platform-error.js';
import { type Sandbox, type SandboxPlatform, startSandbox } from '../../src/sandbox/index.js';
import {
  backfillWindow,
  type Connected,
  connect,
  PLATFORM_CASES,
  sandboxAccount,
} from '../helpers/adapter-harness.js';
import { compareWithTruth, expectedOrders, listWindow } from '../helpers/backfill-check.js';

// One platform fails every request; its breaker opens after the configured volume, fails fast
// while open, and closes through a half-open probe once the platform recovers. The other
// platforms' adapters, in the same process, keep listing throughout.

const ORDERS = 300;
const SCALE: Record<SandboxPlatform, number> = { shopify: 100, amazon: 20_000, ebay: 100 };
const BREAKER = {
  volumeThreshold: 5,
  errorThresholdPercentage: 50,
  resetTimeout: 800,
  rollingCountTimeout: 10_000,
};

let sandbox: Sandbox;
let connected: Connected[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    seed: 21,
    ordersPerAccount: ORDERS,
    accounts: 'shopify:1,amazon:1,ebay:1',
    rateScale: SCALE,
  });
  sandbox.settle();
});

afterEach(async () => {
  sandbox.setFaults('*', {});
  await Promise.all(connected.map((entry) => entry.resilience.stop()));
  connected = [];
});

afterAll(async () => {
  await sandbox?.close();
});

function injected5xx(platform: SandboxPlatform): number {
  return sandbox.stats().buckets.find((bucket) => bucket.platform === platform)?.injected5xx ?? 0;
}

async function listsEverything(entry: Connected): Promise<void> {
  const window = backfillWindow();
  const listing = await listWindow(entry.adapter, window, { pageSize: 50 });
  expect(compareWithTruth(listing.byId, expectedOrders(sandbox, entry.account, window)).missing).toEqual([]);
}

describe.each(PLATFORM_CASES)('$platform failing every request', ({ platform }) => {
  it("opens its breaker after the threshold, leaves the others' calls alone, and closes after a probe", async () => {
    connected = PLATFORM_CASES.map((spec) =>
      connect(sandboxAccount(sandbox, spec.platform), {
        scale: SCALE[spec.platform],
        breaker: BREAKER,
        retry: { retries: 3, baseMs: 1, maxMs: 5 },
      }),
    );
    const failing = connected.find((entry) => entry.account.platform === platform)!;
    const others = connected.filter((entry) => entry !== failing);
    const events: BreakerStateChange[] = [];
    failing.resilience.breaker.on('stateChange', (change) => events.push(change));
    const before = injected5xx(platform);
    sandbox.setFaults(platform, { error5xx: 1 });

    // The failing account's calls run into the breaker while the others list their windows.
    const outcomes: unknown[] = [];
    const failingCalls = (async () => {
      while (failing.resilience.breaker.state !== 'open' && outcomes.length < 5) {
        outcomes.push(await listWindow(failing.adapter, backfillWindow()).catch((caught: unknown) => caught));
      }
    })();
    await Promise.all([failingCalls, ...others.map(listsEverything)]);
    expect(events.map((change) => change.to)).toEqual(['open']);
    // Opened on the fifth failure: nothing more reached the platform.
    expect(injected5xx(platform) - before).toBe(BREAKER.volumeThreshold);
    const last = outcomes.at(-1) as PlatformError;
    expect([last.code, last.kind, last.retriable]).toEqual(['TRADECTL_BREAKER_OPEN', 'transient', false]);
    expect(failing.resilience.breaker.snapshot()).toMatchObject({
      state: 'open',
      stats: { failures: BREAKER.volumeThreshold },
    });

    // While it is open: the failing account fails fast without a request, the others still work.
    const fast = await listWindow(failing.adapter, backfillWindow()).catch((caught: unknown) => caught);
    expect(fast).toBeInstanceOf(PlatformError);
    expect((fast as PlatformError).code).toBe('TRADECTL_BREAKER_OPEN');
    expect(injected5xx(platform) - before).toBe(BREAKER.volumeThreshold);
    await Promise.all(others.map(listsEverything));
    for (const entry of others) {
      expect(entry.resilience.breaker.snapshot()).toMatchObject({ state: 'closed', stats: { failures: 0 } });
    }

    // The platform recovers: after resetTimeout one probe goes through and closes the breaker.
    sandbox.setFaults(platform, {});
    // (It may have turned half-open while the others were listing: no call has probed yet.)
    await vi.waitFor(() => expect(failing.resilience.breaker.state).toBe('halfOpen'), { timeout: 5_000 });
    await listsEverything(failing);
    expect(events.map((change) => change.to)).toEqual(['open', 'halfOpen', 'closed']);
    expect(
      events.every((change) => change.platform === platform && change.account === failing.account.account),
    ).toBe(true);
    expect(failing.resilience.breaker.snapshot()).toMatchObject({ state: 'closed', probeAt: null });
  });
});
