import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError, RetriesExhaustedError } from '../../src/adapters/resilience/platform-error.js';
import { ValidationError } from '../../src/core/errors.js';
import { type Sandbox, type SandboxPlatform, startSandbox } from '../../src/sandbox/index.js';
import {
  backfillWindow,
  type Connected,
  type ConnectOptions,
  connect,
  FAST_RETRY,
  PLATFORM_CASES,
  sandboxAccount,
} from '../helpers/adapter-harness.js';
import { compareWithTruth, expectedOrders, listWindow } from '../helpers/backfill-check.js';

// One suite, every marketplace adapter (STYLE.md 5), against an in-process sandbox over real
// HTTP. Rates are scaled so no test here waits for a budget; faults are reset after each test.
// Redis plays no part: limiter, breaker and token store are the in-process ones.

const ORDERS = 400;
const SCALE: Record<SandboxPlatform, number> = { shopify: 100, amazon: 20_000, ebay: 50 };

let sandbox: Sandbox;
let tight: Sandbox;
const connected: Connected[] = [];

function open(platform: SandboxPlatform, index = 0, options: ConnectOptions = {}, on = sandbox): Connected {
  const entry = connect(sandboxAccount(on, platform, index), { scale: SCALE[platform], ...options });
  connected.push(entry);
  return entry;
}

function bucketOf(on: Sandbox, platform: SandboxPlatform, account: string, bucket: string) {
  return on
    .stats()
    .buckets.find(
      (entry) => entry.platform === platform && entry.account === account && entry.bucket === bucket,
    );
}

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    seed: 11,
    ordersPerAccount: ORDERS,
    accounts: 'shopify:2,amazon:2,ebay:2',
    rateScale: SCALE,
  });
  sandbox.settle();
  // Limits far below what the client believes (account limits 100/s, burst 20): the sandbox's
  // own limiter refuses, as a platform does when another app shares the bucket.
  tight = await startSandbox({
    port: 0,
    seed: 12,
    ordersPerAccount: ORDERS,
    accounts: 'shopify:1,amazon:1,ebay:1',
    // About 4 requests a second each: slower than any page comes back, so the client is over.
    rateScale: { shopify: 2, amazon: 714, ebay: 2 },
    limits: {
      shopify: { rest: { kind: 'bucket', rate: 2, burst: 4 } },
      amazon: { searchOrders: { kind: 'bucket', rate: 0.0056, burst: 4 } },
      ebay: { fulfillment: { kind: 'bucket', rate: 2, burst: 4 } },
    },
  });
  tight.settle();
});

afterEach(async () => {
  sandbox.setFaults('*', {});
  await Promise.all(connected.splice(0).map((entry) => entry.resilience.stop()));
});

afterAll(async () => {
  await Promise.all([sandbox?.close(), tight?.close()]);
});

describe.each(PLATFORM_CASES)('$platform adapter conformance', (spec) => {
  const { platform } = spec;

  it('pages through a window and returns every order of the ground truth once, fields equal', async () => {
    const { adapter, account } = open(platform);
    const window = backfillWindow();
    const pageSize = Math.min(37, spec.maxPageSize);
    const listing = await listWindow(adapter, window, { pageSize });
    const truth = expectedOrders(sandbox, account, window);
    expect(truth.size).toBe(ORDERS);
    const result = compareWithTruth(listing.byId, truth);
    expect(result.firstMismatch).toBeNull();
    expect([result.missing, result.unexpected, result.mismatched]).toEqual([[], [], []]);
    // Nothing changes mid-listing here, so not even a harmless repeat is expected.
    expect([listing.received, listing.identicalRepeats, listing.conflicts, listing.rejected]).toEqual([
      ORDERS,
      0,
      [],
      [],
    ]);
    expect(listing.pages).toBeGreaterThanOrEqual(Math.ceil(ORDERS / pageSize));
    const [sample] = [...truth.values()];
    expect(await adapter.getOrder({ platformOrderId: sample!.platformOrderId })).toEqual(sample);
  });

  it('waits out a 429 storm (Retry-After where the platform sends one) and completes', async () => {
    const waits: { delayMs: number; retryAfterMs: number | undefined }[] = [];
    const { adapter, account, resilience } = open(platform, 0, {
      retry: {
        ...FAST_RETRY,
        onRetry: ({ delayMs, error }) =>
          waits.push({ delayMs, retryAfterMs: (error as PlatformError).retryAfterMs }),
      },
    });
    sandbox.resetStats();
    sandbox.setFaults(platform, { force429Next: 6 });
    const window = backfillWindow();
    const listing = await listWindow(adapter, window, { pageSize: spec.maxPageSize });
    expect(compareWithTruth(listing.byId, expectedOrders(sandbox, account, window)).missing).toEqual([]);
    expect(bucketOf(sandbox, platform, account.account, spec.listBucket)?.forced429).toBe(6);
    const [row] = resilience.stats.snapshot();
    expect(row).toMatchObject({ throttled: 6, retries: 6, failures: 0 });
    // Throttling is the limiter's business, never a breaker failure.
    expect(resilience.breaker.snapshot().stats.failures).toBe(0);
    // Shopify names its wait (Retry-After, scaled here); Amazon and eBay do not.
    expect(waits.every((wait) => wait.retryAfterMs !== undefined)).toBe(platform === 'shopify');
    for (const wait of waits) expect(wait.delayMs).toBeGreaterThanOrEqual(wait.retryAfterMs ?? 0);
  });

  it("waits out the platform limiter's own refusals when the client is over the limit", async () => {
    const { adapter, account, resilience } = open(
      platform,
      0,
      { scale: 1, limits: { ratePerSecond: 100, burst: 20 } },
      tight,
    );
    const window = backfillWindow();
    const listing = await listWindow(adapter, window, { pageSize: 40 });
    const result = compareWithTruth(listing.byId, expectedOrders(tight, account, window));
    expect([result.missing, result.mismatched]).toEqual([[], []]);
    const refused = bucketOf(tight, platform, account.account, spec.listBucket)!.throttled;
    expect(refused).toBeGreaterThan(0);
    expect(resilience.stats.snapshot()[0]).toMatchObject({ throttled: refused, failures: 0 });
  });

  if (spec.refreshesTokens) {
    it('refreshes an access token that expires mid-run, once, and continues', async () => {
      const { adapter, account, resilience } = open(platform);
      sandbox.resetStats();
      const window = backfillWindow();
      const listing = await listWindow(adapter, window, {
        pageSize: 50,
        afterPage: (page) => {
          if (page === 2) expect(sandbox.expireTokens(platform, account.account)).toBeGreaterThan(0);
        },
      });
      expect(compareWithTruth(listing.byId, expectedOrders(sandbox, account, window)).missing).toEqual([]);
      expect(resilience.stats.snapshot()[0]).toMatchObject({ authRefreshes: 1, failures: 0 });
      // The first token and one refresh.
      expect(sandbox.stats().tokenRequests[platform]).toBe(2);
    });
  }

  it('stops a revoked account with a config error saying how to fix it; the other account is unaffected', async () => {
    const revoked = open(platform, 0);
    const other = open(platform, 1);
    const window = backfillWindow();
    try {
      const [failed, fine] = await Promise.allSettled([
        listWindow(revoked.adapter, window, {
          pageSize: 50,
          afterPage: (page) => {
            if (page === 1) sandbox.revokeGrant(platform, revoked.account.account);
          },
        }),
        listWindow(other.adapter, window, { pageSize: 50 }),
      ]);
      expect(failed.status).toBe('rejected');
      const error = (failed as PromiseRejectedResult).reason as PlatformError;
      expect(error).toBeInstanceOf(PlatformError);
      expect([error.code, error.kind, error.retriable]).toEqual(['TRADECTL_PLATFORM_AUTH', 'config', false]);
      // The hint names the account and what to replace: the refresh token after a new consent,
      // or, for Shopify's static token, a new access token.
      expect(error.hint).toContain(`"${revoked.account.account}"`);
      expect(error.hint).toMatch(
        spec.refreshesTokens
          ? /re-authorise.*new refresh token/
          : /new Admin API access token in credentials\.accessToken/,
      );
      expect(revoked.resilience.breaker.snapshot()).toMatchObject({
        state: 'closed',
        stats: { failures: 0 },
      });
      if (spec.refreshesTokens) {
        // The account stays stopped: asking again does not go back to the token endpoint.
        const tokenRequests = sandbox.stats().tokenRequests[platform];
        const again = await listWindow(revoked.adapter, window).catch((caught: unknown) => caught);
        expect(again).toMatchObject({ code: 'TRADECTL_PLATFORM_AUTH', kind: 'config' });
        expect(sandbox.stats().tokenRequests[platform]).toBe(tokenRequests);
      }
      expect(fine.status).toBe('fulfilled');
      const listing = (fine as PromiseFulfilledResult<Awaited<ReturnType<typeof listWindow>>>).value;
      expect(compareWithTruth(listing.byId, expectedOrders(sandbox, other.account, window)).missing).toEqual(
        [],
      );
    } finally {
      sandbox.restoreGrant(platform, revoked.account.account);
    }
  });

  it('classifies each error class: transient retried then exhausted, data not retried, unknown order null', async () => {
    const { adapter, resilience } = open(platform, 0, { retry: { retries: 2, baseMs: 1, maxMs: 5 } });
    sandbox.setFaults(platform, { error5xx: 1 });
    const transient = await listWindow(adapter, backfillWindow()).catch((caught: unknown) => caught);
    expect(transient).toBeInstanceOf(RetriesExhaustedError);
    expect(transient).toMatchObject({
      kind: 'transient',
      retriable: false,
      attempts: 3,
      lastError: { code: 'TRADECTL_PLATFORM_UNAVAILABLE', kind: 'transient', retriable: true },
    });
    expect(resilience.breaker.snapshot().stats.failures).toBe(3);
    sandbox.setFaults(platform, {});

    const before = resilience.stats.snapshot().reduce((sum, row) => sum + row.retries, 0);
    const data = await adapter.updateInventory(spec.unknownListing).catch((caught: unknown) => caught);
    expect(data).toBeInstanceOf(PlatformError);
    expect(data).toMatchObject({ code: 'TRADECTL_PLATFORM_REJECTED', kind: 'data', retriable: false });
    expect(resilience.stats.snapshot().reduce((sum, row) => sum + row.retries, 0)).toBe(before);
    expect(resilience.breaker.snapshot().stats.failures).toBe(3);

    const unknownId =
      platform === 'shopify'
        ? '999999999999'
        : platform === 'amazon'
          ? '999-9999999-9999999'
          : '99-99999-99999';
    expect(await adapter.getOrder({ platformOrderId: unknownId })).toBeNull();
  });

  it('rejects a malformed record naming the field, and the rest of the page comes through', async () => {
    const { adapter, account } = open(platform);
    sandbox.resetStats();
    sandbox.setFaults(platform, { malformed: 0.04 });
    const window = backfillWindow();
    const listing = await listWindow(adapter, window, { pageSize: 50 });
    const broken = sandbox.stats().malformed.filter((entry) => entry.account === account.account);
    expect(broken.length).toBeGreaterThan(3);
    expect(listing.rejected).toHaveLength(broken.length);
    for (const entry of broken) {
      // A record whose id was broken is rejected without one.
      const idBroken = entry.field === 'id' || entry.field === 'orderId';
      const rejected = listing.rejected.find(
        (record) => record.platformOrderId === (idBroken ? null : entry.orderId),
      );
      expect(rejected, `rejected record for ${entry.orderId}`).toBeDefined();
      expect(rejected!.error).toBeInstanceOf(ValidationError);
      const paths = rejected!.error.issues.map((issue) => issue.path);
      expect(
        paths.some((path) => path.endsWith(`.${entry.field}`)),
        `${paths.join(', ')} names ${entry.field}`,
      ).toBe(true);
      expect(rejected!.error.message).toContain(entry.field);
    }
    const brokenIds = new Set(broken.flatMap((entry) => (entry.orderId ? [entry.orderId] : [])));
    const result = compareWithTruth(listing.byId, expectedOrders(sandbox, account, window), {
      ignore: brokenIds,
    });
    expect([result.missing, result.mismatched]).toEqual([[], []]);
    expect(listing.received + listing.rejected.length).toBe(ORDERS);
  });
});
