import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { ManualClock, type Sandbox, type SandboxPlatform, startSandbox } from '../../src/sandbox/index.js';
import {
  ALL_AMAZON_DATA,
  accountOf,
  amazonToken,
  call,
  ebayToken,
  nextLink,
} from '../helpers/sandbox-client.js';

const START = Date.parse('2026-03-01T12:00:00.000Z');
const UNLIMITED = {
  shopify: { rest: { kind: 'bucket', rate: 2, burst: 1_000_000 } },
  amazon: { searchOrders: { kind: 'bucket', rate: 0.0056, burst: 1_000_000 } },
} as const;

type Rec = Record<string, unknown>;

describe('sandbox: seeded orders and ground truth', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(START);
    sandbox = await startSandbox({
      port: 0,
      seed: 42,
      ordersPerAccount: 600,
      accounts: 'shopify:3,amazon:3,ebay:2',
      clock,
      limits: UNLIMITED,
      updatesPerSecond: 20,
    });
  });
  afterAll(() => sandbox.close());

  it('generates the same orders from the same seed and different ones from another', async () => {
    const again = await startSandbox({
      port: 0,
      seed: 42,
      ordersPerAccount: 600,
      accounts: 'shopify:3,amazon:3,ebay:2',
      clock: new ManualClock(START),
    });
    const other = await startSandbox({
      port: 0,
      seed: 43,
      ordersPerAccount: 600,
      accounts: 'amazon:1',
      clock: new ManualClock(START),
    });
    try {
      // eBay's fulfillmentHrefs are absolute URLs: compare with the sandbox's own address left out.
      const truth = (target: Sandbox, platform: SandboxPlatform, account: string) =>
        JSON.stringify(target.groundTruth(platform, account)).replaceAll(target.url, 'ORIGIN');
      for (const account of sandbox.accounts) {
        expect(truth(again, account.platform, account.account)).toBe(
          truth(sandbox, account.platform, account.account),
        );
      }
      expect(other.groundTruth('amazon', 'na-main')).not.toEqual(sandbox.groundTruth('amazon', 'na-main'));
    } finally {
      await Promise.all([again.close(), other.close()]);
    }
  });

  it("uses each platform's statuses and several currencies, with totals that add up", () => {
    const shopify = sandbox.groundTruth('shopify', 'us-store');
    const financial = new Set(shopify.map((order) => order.financial_status));
    for (const status of ['pending', 'paid', 'partially_refunded', 'refunded', 'voided'])
      expect(financial).toContain(status);
    expect(new Set(shopify.map((order) => order.fulfillment_status))).toEqual(
      new Set([null, 'partial', 'fulfilled']),
    );
    for (const order of shopify) {
      const amount = (field: string) => parseMoney(order[field] as string, 'USD').amount;
      const shipping = parseMoney((order.shipping_lines as Rec[])[0]!.price as string, 'USD').amount;
      expect(amount('total_price')).toBe(amount('subtotal_price') + amount('total_tax') + shipping);
    }
    const amazon = sandbox.groundTruth('amazon', 'na-main');
    const statuses = new Set(amazon.map((order) => (order.fulfillment as Rec).fulfillmentStatus));
    for (const status of ['PENDING', 'UNSHIPPED', 'PARTIALLY_SHIPPED', 'SHIPPED', 'CANCELLED'])
      expect(statuses).toContain(status);
    const ebay = sandbox.groundTruth('ebay', 'us-seller');
    expect(new Set(ebay.map((order) => order.orderPaymentStatus))).toEqual(
      new Set(['PENDING', 'PAID', 'PARTIALLY_REFUNDED', 'FULLY_REFUNDED']),
    );
    expect(new Set(ebay.map((order) => (order.cancelStatus as Rec).cancelState))).toEqual(
      new Set(['NONE_REQUESTED', 'IN_PROGRESS', 'CANCELED']),
    );
    const currencies = sandbox.accounts.map((account) => account.currency);
    expect(new Set(currencies)).toEqual(new Set(['USD', 'EUR', 'JPY']));
    const yen = sandbox.groundTruth('shopify', 'jp-store')[0]!;
    expect(yen.currency).toBe('JPY');
    expect(yen.total_price).toMatch(/^\d+$/);
  });

  it('applies live updates on the clock, new orders included', () => {
    const before = sandbox.stats().updates;
    clock.advance(10_000);
    expect(sandbox.tick()).toBe(200);
    const after = sandbox.stats().updates;
    expect(after.applied + after.created - before.applied - before.created).toBe(200);
    expect(after.created).toBeGreaterThan(before.created);
    expect(after.late).toBeGreaterThan(before.late);
  });

  it('lists, on every platform, exactly the ground truth once everything is visible', async () => {
    // Stop the live timeline first: moving the clock would otherwise apply (late) updates.
    sandbox.setUpdatesPerSecond(0);
    sandbox.settle();
    clock.advance(300_000);
    const byId = (orders: Rec[], key: string) => new Map(orders.map((order) => [String(order[key]), order]));

    const shop = accountOf(sandbox, 'shopify');
    const listed: Rec[] = [];
    let url: string | null =
      `${shop.baseUrl}/admin/api/2025-01/orders.json?status=any&limit=250&order=updated_at%20asc`;
    while (url) {
      const page = await call(url, { headers: { 'X-Shopify-Access-Token': shop.credentials.accessToken! } });
      listed.push(...page.body.orders);
      url = nextLink(page.headers.get('link'));
    }
    expect(byId(listed, 'id')).toEqual(byId(sandbox.groundTruth('shopify', shop.account), 'id'));
    expect(listed).toHaveLength(sandbox.groundTruth('shopify', shop.account).length);

    const seller = accountOf(sandbox, 'amazon');
    const token = await amazonToken(seller);
    const amazon: Rec[] = [];
    let query = `createdAfter=2020-01-01T00:00:00Z&includedData=${ALL_AMAZON_DATA}`;
    for (;;) {
      const page = await call(`${seller.baseUrl}/orders/2026-01-01/orders?${query}`, {
        headers: { 'x-amz-access-token': token },
      });
      amazon.push(...page.body.orders);
      if (!page.body.pagination) break;
      query = `paginationToken=${encodeURIComponent(page.body.pagination.nextToken)}&includedData=${ALL_AMAZON_DATA}`;
    }
    expect(byId(amazon, 'orderId')).toEqual(byId(sandbox.groundTruth('amazon', seller.account), 'orderId'));

    const ebaySeller = accountOf(sandbox, 'ebay');
    const ebayAuth = { authorization: `Bearer ${await ebayToken(ebaySeller)}` };
    const ebay: Rec[] = [];
    let next: string | undefined =
      `${ebaySeller.baseUrl}/sell/fulfillment/v1/order?limit=200&filter=${encodeURIComponent('creationdate:[2025-06-01T00:00:00.000Z..]')}`;
    while (next) {
      const page = await call(next, { headers: ebayAuth });
      ebay.push(...page.body.orders);
      next = page.body.next;
    }
    expect(byId(ebay, 'orderId')).toEqual(byId(sandbox.groundTruth('ebay', ebaySeller.account), 'orderId'));
  });

  it('holds 20,000 orders per account and finds a window by index', async () => {
    const big = await startSandbox({
      port: 0,
      seed: 1,
      ordersPerAccount: 20_000,
      accounts: 'ebay:1',
      clock: new ManualClock(START),
    });
    try {
      const seller = accountOf(big, 'ebay');
      const truth = big.groundTruth('ebay', seller.account);
      expect(truth).toHaveLength(20_000);
      const from = '2026-02-20T00:00:00.000Z';
      const expected = truth.filter((order) => (order.lastModifiedDate as string) >= from).length;
      const page = await call(
        `${seller.baseUrl}/sell/fulfillment/v1/order?limit=200&filter=${encodeURIComponent(`lastmodifieddate:[${from}..]`)}`,
        { headers: { authorization: `Bearer ${await ebayToken(seller)}` } },
      );
      expect(page.body.total).toBe(expected);
      expect(page.body.orders).toHaveLength(200);
    } finally {
      await big.close();
    }
  });
});
