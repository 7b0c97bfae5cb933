import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMs } from '../../src/core/time.js';
import {
  batchOf,
  createOrderStockFixture,
  marketplaceOrder,
  type OrderStockFixture,
} from '../helpers/order-stock-fixture.js';

// Order lines the drainer cannot deduct as sold, through the real sink, store and drainer against
// MariaDB and Redis (2 x 4 layout, own prefixes): reported with a queryable row, never guessed,
// and never holding up the sink.
let f: OrderStockFixture;

beforeAll(async () => {
  f = await createOrderStockFixture();
  await f.service.set({ operationId: 'init-MUG', sku: 'MUG', expectedVersion: 0, available: 100 });
  await f.listings.add({ platform: 'shopify', account: 'us', kind: 'sku', channelKey: 'S-MUG', sku: 'MUG' });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

/** Lets the drainer's sweep see every intent as due (their first sweep time is 1 s after commit). */
function advance(ms = 60_000): void {
  f.clock.now += ms;
}

describe('lines that cannot be deducted as sold', () => {
  it('reports an unmapped line instead of guessing, and deducts the mapped ones', async () => {
    const { sink } = f.pipeline();
    const order = marketplaceOrder('D-1', [
      { lineId: '1', sku: 'S-MUG', quantity: 1 },
      { lineId: '2', sku: 'MUG', listingId: '999', quantity: 1 },
      { lineId: '3', quantity: 1 },
    ]);
    const before = (await f.available('MUG'))!;
    await sink.handler(batchOf([order]));
    await sink.handler(batchOf([order]));
    expect(await f.available('MUG')).toBe(before - 1);
    const issues = (await f.issues()).filter((row) => row.platform_order_id === 'D-1');
    expect(
      issues.map((row) => [row.line_id, row.kind, row.channel_sku, row.listing_id, Number(row.shortfall)]),
    ).toEqual([
      ['2', 'unmapped', 'MUG', '999', 1],
      ['3', 'unmapped', null, null, 1],
    ]);
    expect(String(issues[0]!.detail)).toBe('no listing mapping for seller SKU "MUG" or listing "999"');
    const statuses = (await f.intents())
      .filter((row) => row.platformOrderId === 'D-1')
      .map((row) => row.status);
    expect(statuses).toEqual(['applied', 'unmapped', 'unmapped']);
  });

  it("writes a mapped line's target with its intent; a line mapped only later is resolved by the drainer", async () => {
    await f.service.set({ operationId: 'init-CUP', sku: 'CUP', expectedVersion: 0, available: 10 });
    const order = marketplaceOrder('D-LATE', [
      { lineId: '1', sku: 'S-MUG', quantity: 1 },
      { lineId: '2', sku: 'S-CUP', quantity: 2 },
    ]);
    // Stored without draining: the mapped line's target is already on its intent.
    await f.store.upsertBatch([order]);
    const stored = (await f.intents()).filter((row) => row.platformOrderId === 'D-LATE');
    expect(stored.map((row) => [row.lineId, row.status, row.tenant, row.sku])).toEqual([
      ['1', 'pending', 'default', 'MUG'],
      ['2', 'pending', null, null],
    ]);
    await f.listings.add({
      platform: 'shopify',
      account: 'us',
      kind: 'sku',
      channelKey: 'S-CUP',
      sku: 'CUP',
    });
    const mugBefore = (await f.available('MUG'))!;
    // The batch comes again (unchanged): its pending intents are drained, the late one resolved now.
    await f.pipeline().sink.handler(batchOf([order]));
    const drained = (await f.intents()).filter((row) => row.platformOrderId === 'D-LATE');
    expect(drained.map((row) => [row.lineId, row.status, row.sku, row.appliedQuantity])).toEqual([
      ['1', 'applied', 'MUG', 1],
      ['2', 'applied', 'CUP', 2],
    ]);
    expect(await f.available('MUG')).toBe(mugBefore - 1);
    expect(await f.available('CUP')).toBe(8);
  });

  it('sells what is left when the platform sold more than there is, records the shortfall and keeps going', async () => {
    await f.service.set({ operationId: 'init-LAMP', sku: 'LAMP', expectedVersion: 0, available: 2 });
    await f.listings.add({
      platform: 'shopify',
      account: 'us',
      kind: 'sku',
      channelKey: 'S-LAMP',
      sku: 'LAMP',
    });
    const { sink, orderStock } = f.pipeline();
    const over = marketplaceOrder('E-1', [{ lineId: '1', sku: 'S-LAMP', quantity: 5 }]);
    const after = marketplaceOrder('E-2', [{ lineId: '1', sku: 'S-LAMP', quantity: 1 }]);
    await sink.handler(batchOf([over]));
    await sink.handler(batchOf([after, over]));
    expect(await f.available('LAMP')).toBe(0);
    expect(orderStock.drainer.totals()).toMatchObject({ oversold: 2, deducted: 0, unitsDeducted: 2 });
    const issues = (await f.issues()).filter((row) => String(row.platform_order_id).startsWith('E-'));
    expect(
      issues.map((row) => [
        row.platform_order_id,
        row.kind,
        Number(row.requested),
        Number(row.deducted),
        Number(row.shortfall),
      ]),
    ).toEqual([
      ['E-1', 'oversold', 5, 2, 3],
      ['E-2', 'oversold', 1, 0, 1],
    ]);
    // Cancelling the oversold order gives back the 2 it took, not the 5 it sold.
    const cancelled = {
      ...over,
      status: 'cancelled' as const,
      rawStatus: 'cancelled',
      updatedAt: addMs(over.updatedAt, 1000),
    };
    await sink.handler(batchOf([cancelled]));
    expect(await f.available('LAMP')).toBe(2);
    const compared = await f.drainAndCompare(['LAMP']);
    expect(compared.mysql).toEqual(compared.redis);
  });

  it('retries a line mapped to a SKU Redis does not know, deducts once it exists, or reports it', async () => {
    await f.listings.add({
      platform: 'shopify',
      account: 'us',
      kind: 'sku',
      channelKey: 'S-NEW',
      sku: 'NEW',
    });
    await f.listings.add({
      platform: 'shopify',
      account: 'us',
      kind: 'sku',
      channelKey: 'S-GONE',
      sku: 'GONE',
    });
    const { sink, orderStock } = f.pipeline({ unknownSkuAttempts: 2 });
    await sink.handler(
      batchOf([
        marketplaceOrder('F-1', [{ lineId: '1', sku: 'S-NEW', quantity: 2 }]),
        marketplaceOrder('F-2', [{ lineId: '1', sku: 'S-GONE', quantity: 1 }]),
      ]),
    );
    const statusOf = async (id: string) => (await f.intents()).find((row) => row.platformOrderId === id);
    expect(await statusOf('F-1')).toMatchObject({ status: 'pending', attempts: 1 });
    await f.service.set({ operationId: 'init-NEW', sku: 'NEW', expectedVersion: 0, available: 10 });
    advance();
    await orderStock.drainer.sweep();
    expect(await f.available('NEW')).toBe(8);
    expect(await statusOf('F-1')).toMatchObject({ status: 'applied', appliedQuantity: 2 });
    expect(await statusOf('F-2')).toMatchObject({ status: 'unknown_sku', attempts: 1 });
    const issue = (await f.issues()).find((row) => row.platform_order_id === 'F-2');
    expect(issue).toMatchObject({ kind: 'unknown_sku', sku: 'GONE' });
  });
});
