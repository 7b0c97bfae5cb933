/**
 * Sandbox page serving: one list page per platform, end to end (HTTP, window lookup, rendering,
 * JSON), deep inside a window, at 20,000 orders per account.
 *
 *   npx tsx bench/sandbox-pages.ts [rounds=7] [orders=20000]
 *
 * The ceiling, measured in the same run: the same page from a sandbox holding a tenth of the
 * orders. An indexed window lookup costs the same at both sizes, so `ratio = big / small` should
 * stay near 1 (it would grow with the order count if a request scanned or sorted). For scale, the
 * run also prints what filtering and sorting every order of the account per request would add.
 */
import { availableParallelism, loadavg } from 'node:os';
import { ManualClock, type Sandbox, startSandbox } from '../src/sandbox/index.js';

const ROUNDS = Number(process.argv[2] ?? 7);
const ORDERS = Number(process.argv[3] ?? 20_000);
const START = Date.parse('2026-03-01T12:00:00.000Z');
// A window starting two thirds into the 30-day history, so lookups land deep in the index.
const FROM = new Date(START - 10 * 86_400_000).toISOString();

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `min ${sorted[0]!.toFixed(1)} / median ${median(samples).toFixed(1)} / max ${sorted.at(-1)!.toFixed(1)} ms`;
}

function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

async function timed(run: () => Promise<unknown> | unknown): Promise<number> {
  const began = performance.now();
  await run();
  return performance.now() - began;
}

async function accessToken(sandbox: Sandbox, platform: 'amazon' | 'ebay'): Promise<string> {
  const account = sandbox.accounts.find((entry) => entry.platform === platform)!;
  const { clientId, clientSecret, refreshToken } = account.credentials;
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  const response = await fetch(account.tokenUrl!, {
    method: 'POST',
    headers: platform === 'ebay' ? { authorization: basic } : {},
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken!,
      ...(platform === 'amazon' ? { client_id: clientId!, client_secret: clientSecret! } : {}),
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

type Platform = 'shopify' | 'amazon' | 'ebay';

async function pageRequests(sandbox: Sandbox): Promise<Record<Platform, () => Promise<string>>> {
  const [shop, seller, ebaySeller] = sandbox.accounts;
  const amazon = await accessToken(sandbox, 'amazon');
  const ebay = await accessToken(sandbox, 'ebay');
  return {
    shopify: () =>
      fetch(
        `${shop!.baseUrl}/admin/api/2025-01/orders.json?status=any&limit=250&order=updated_at%20asc&updated_at_min=${FROM}`,
        {
          headers: { 'X-Shopify-Access-Token': shop!.credentials.accessToken! },
        },
      ).then((response) => response.text()),
    amazon: () =>
      fetch(
        `${seller!.baseUrl}/orders/2026-01-01/orders?lastUpdatedAfter=${FROM.replace('.000Z', 'Z')}&includedData=FULFILLMENT,PROCEEDS`,
        {
          headers: { 'x-amz-access-token': amazon },
        },
      ).then((response) => response.text()),
    ebay: () =>
      fetch(
        `${ebaySeller!.baseUrl}/sell/fulfillment/v1/order?limit=200&offset=400&filter=${encodeURIComponent(`lastmodifieddate:[${FROM}..]`)}`,
        {
          headers: { authorization: `Bearer ${ebay}` },
        },
      ).then((response) => response.text()),
  };
}

function start(orders: number): Promise<Sandbox> {
  return startSandbox({
    port: 0,
    ordersPerAccount: orders,
    accounts: 'shopify:1,amazon:1,ebay:1',
    clock: new ManualClock(START),
    limits: {
      shopify: { rest: { kind: 'bucket', rate: 2, burst: 1e9 } },
      amazon: { searchOrders: { kind: 'bucket', rate: 0.0056, burst: 1e9 } },
    },
  });
}

const big = await start(ORDERS);
const small = await start(Math.round(ORDERS / 10));
const bigPages = await pageRequests(big);
const smallPages = await pageRequests(small);
console.log(
  `sandbox pages: ${ORDERS} vs ${Math.round(ORDERS / 10)} orders per account, ${ROUNDS} rounds, ` +
    `${availableParallelism()} cpus, load ${loadavg()[0]!.toFixed(2)}`,
);
for (const platform of ['shopify', 'amazon', 'ebay'] as const) {
  const account = big.accounts.find((entry) => entry.platform === platform)!;
  const truth = big.groundTruth(platform, account.account);
  const key =
    platform === 'shopify' ? 'updated_at' : platform === 'amazon' ? 'lastUpdatedTime' : 'lastModifiedDate';
  await bigPages[platform]();
  await smallPages[platform]();
  const bigTimes: number[] = [];
  const smallTimes: number[] = [];
  const naive: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bigTimes.push(await timed(bigPages[platform]));
    smallTimes.push(await timed(smallPages[platform]));
    naive.push(
      await timed(() =>
        truth
          .map((order) => ({ order, at: Date.parse(String(order[key])) }))
          .filter((entry) => entry.at >= Date.parse(FROM))
          .sort((a, b) => a.at - b.at),
      ),
    );
  }
  console.log(`${platform.padEnd(8)} ${String(ORDERS).padStart(6)} orders: ${summary(bigTimes)}`);
  console.log(
    `${''.padEnd(8)} ${String(Math.round(ORDERS / 10)).padStart(6)} orders: ${summary(smallTimes)}; ` +
      `ratio ${(median(bigTimes) / median(smallTimes)).toFixed(2)} by median, ` +
      `${(Math.min(...bigTimes) / Math.min(...smallTimes)).toFixed(2)} by min (target <= 1.5)`,
  );
  console.log(`${''.padEnd(8)} filter+sort per request would add: ${summary(naive)}`);
}
await Promise.all([big.close(), small.close()]);
