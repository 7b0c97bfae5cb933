import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intentOperationId } from '../../src/core/order-stock/operation-ids.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { stockUnavailable } from '../../src/core/stock/stock-errors.js';
import type { StockService } from '../../src/core/stock/stock-service.js';
import { addMs } from '../../src/core/time.js';
import {
  batchOf,
  createOrderStockFixture,
  marketplaceOrder,
  type OrderStockFixture,
} from '../helpers/order-stock-fixture.js';

// Marketplace orders through the real sink, store and drainer against MariaDB and Redis (2 x 4
// layout, own prefixes): each sold line deducts once whatever is redelivered or fails in between,
// a cancellation gives back once what was taken, and the ledger ends equal to Redis.
let f: OrderStockFixture;
const INITIAL = 100;
const SKUS = ['MUG', 'TEE', 'BAG', 'CAP', 'PEN', 'CUP'];

/** Creates the internal SKUs in Redis and maps the Shopify seller SKU `S-<sku>` to each. */
beforeAll(async () => {
  f = await createOrderStockFixture();
  for (const sku of SKUS) {
    await f.service.set({ operationId: `init-${sku}`, sku, expectedVersion: 0, available: INITIAL });
    await f.listings.add({ platform: 'shopify', account: 'us', kind: 'sku', channelKey: `S-${sku}`, sku });
  }
  // SCARF exists in Redis but only by its listing id.
  await f.service.set({ operationId: 'init-SCARF', sku: 'SCARF', expectedVersion: 0, available: 2 });
  await f.listings.add({
    platform: 'shopify',
    account: 'us',
    kind: 'listing',
    channelKey: '777',
    sku: 'SCARF',
  });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

/** Lets the drainer's sweep see every intent as due (their first sweep time is 1 s after commit). */
function advance(ms = 60_000): void {
  f.clock.now += ms;
}

describe('a new marketplace order', () => {
  it('deducts each line once however often its batch is delivered, also twice at the same time', async () => {
    const { sink } = f.pipeline();
    const order = marketplaceOrder('A-1', [
      { lineId: '1', sku: 'S-MUG', quantity: 3 },
      { lineId: '2', sku: 'S-TEE', quantity: 2 },
    ]);
    await sink.handler(batchOf([order]));
    expect(await f.available('MUG')).toBe(INITIAL - 3);
    expect(await f.available('TEE')).toBe(INITIAL - 2);
    // Redelivered one after the other, then by two consumers at once (a rebalance).
    await sink.handler(batchOf([order]));
    await Promise.all([sink.handler(batchOf([order])), f.pipeline().sink.handler(batchOf([order]))]);
    expect(await f.available('MUG')).toBe(INITIAL - 3);
    expect(await f.available('TEE')).toBe(INITIAL - 2);
    const intents = (await f.intents()).filter((row) => row.platformOrderId === 'A-1');
    expect(
      intents.map((row) => [row.lineId, row.kind, row.status, row.tenant, row.sku, row.appliedQuantity]),
    ).toEqual([
      ['1', 'deduct', 'applied', 'default', 'MUG', 3],
      ['2', 'deduct', 'applied', 'default', 'TEE', 2],
    ]);
    // The ledger records one deduction per line, and MySQL ends equal to Redis.
    const compared = await f.drainAndCompare(['MUG', 'TEE']);
    expect(compared.mysql).toEqual(compared.redis);
    expect(compared.redis).toEqual({ MUG: INITIAL - 3, TEE: INITIAL - 2 });
  });

  it('deducts nothing for an order first seen cancelled, and nothing for cancelled lines', async () => {
    const { sink } = f.pipeline();
    const cancelled = marketplaceOrder('A-2', [{ lineId: '1', sku: 'S-BAG', quantity: 5 }], {
      status: 'cancelled',
      rawStatus: 'cancelled',
    });
    const partly = marketplaceOrder('A-3', [
      { lineId: '1', sku: 'S-BAG', quantity: 1 },
      { lineId: '2', sku: 'S-BAG', quantity: 4, cancelled: true },
    ]);
    await sink.handler(batchOf([cancelled, partly]));
    expect(await f.available('BAG')).toBe(INITIAL - 1);
    const intents = (await f.intents()).filter((row) => ['A-2', 'A-3'].includes(row.platformOrderId));
    expect(intents.map((row) => [row.platformOrderId, row.lineId, row.kind])).toEqual([
      ['A-3', '1', 'deduct'],
    ]);
  });
});

describe('a crash between the database commit and Redis', () => {
  it('recovers by redelivery when Redis failed before applying: the line deducts once', async () => {
    let failures = 1;
    const failing = failingStock(f.service, async () => {
      if (failures-- > 0) throw stockUnavailable('deduct', new Error('connection reset'));
    });
    const order = marketplaceOrder('B-1', [{ lineId: 'x', sku: 'S-CAP', quantity: 4 }]);
    // The sink does not fail the batch: the order is stored, its intent waits.
    await f.pipeline({ stock: failing }).sink.handler(batchOf([order]));
    expect(await f.available('CAP')).toBe(INITIAL);
    const [pending] = (await f.intents()).filter((row) => row.platformOrderId === 'B-1');
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, tenant: 'default', sku: 'CAP' });
    expect(pending!.lastError).toContain('TRADECTL_STOCK_UNAVAILABLE');
    // The batch comes again (the bus redelivers, or sync re-fetches the window): unchanged order,
    // but its pending intent is drained.
    await f.pipeline({ stock: failing }).sink.handler(batchOf([order]));
    expect(await f.available('CAP')).toBe(INITIAL - 4);
    await f.pipeline().sink.handler(batchOf([order]));
    expect(await f.available('CAP')).toBe(INITIAL - 4);
    const [done] = (await f.intents()).filter((row) => row.platformOrderId === 'B-1');
    expect(done).toMatchObject({ status: 'applied', appliedQuantity: 4, attempts: 1 });
  });

  it('recovers by the sweep when Redis applied but the outcome was never recorded: deducts once', async () => {
    let failures = 1;
    // Redis takes the stock, then the process "dies" before MySQL hears of it.
    const lost = failingStock(
      f.service,
      async () => undefined,
      async () => {
        if (failures-- > 0) throw stockUnavailable('deduct', new Error('socket closed after the reply'));
      },
    );
    const order = marketplaceOrder('B-2', [{ lineId: 'y', sku: 'S-PEN', quantity: 6 }]);
    const { sink } = f.pipeline({ stock: lost });
    await sink.handler(batchOf([order]));
    expect(await f.available('PEN')).toBe(INITIAL - 6);
    expect((await f.intents()).find((row) => row.platformOrderId === 'B-2')).toMatchObject({
      status: 'pending',
    });
    // A sweep before the retry time leaves it alone; after it, the repeat is a replay in Redis.
    const { orderStock } = f.pipeline();
    expect((await orderStock.drainer.sweep()).deducted).toBe(0);
    advance();
    expect((await orderStock.drainer.sweep()).deducted).toBe(1);
    expect(await f.available('PEN')).toBe(INITIAL - 6);
    expect((await f.intents()).find((row) => row.platformOrderId === 'B-2')).toMatchObject({
      status: 'applied',
      appliedQuantity: 6,
    });
    const compared = await f.drainAndCompare(['PEN', 'CAP']);
    expect(compared.mysql).toEqual(compared.redis);
  });
});

describe('cancellation', () => {
  it('releases exactly what each line deducted, once, also when the cancelled version comes again', async () => {
    const { sink } = f.pipeline();
    const v1 = marketplaceOrder('C-1', [
      { lineId: '1', sku: 'S-CUP', quantity: 2 },
      { lineId: '2', sku: 'S-CUP', quantity: 5 },
      { lineId: '3', listingId: '777', quantity: 1 },
    ]);
    await sink.handler(batchOf([v1]));
    expect(await f.available('CUP')).toBe(INITIAL - 7);
    expect(await f.available('SCARF')).toBe(1);
    // Line 2 is cancelled by the platform, then the whole order; old versions arrive late.
    const v2 = {
      ...v1,
      updatedAt: addMs(v1.updatedAt, 60_000),
      lines: v1.lines.map((line) => (line.lineId === '2' ? { ...line, cancelled: true } : line)),
    };
    await sink.handler(batchOf([v2]));
    expect(await f.available('CUP')).toBe(INITIAL - 2);
    const v3 = {
      ...v2,
      status: 'cancelled' as const,
      rawStatus: 'cancelled',
      updatedAt: addMs(v1.updatedAt, 120_000),
    };
    await sink.handler(batchOf([v3]));
    await sink.handler(batchOf([v3, v1]));
    await sink.handler(batchOf([v2]));
    expect(await f.available('CUP')).toBe(INITIAL);
    expect(await f.available('SCARF')).toBe(2);
    const intents = (await f.intents()).filter((row) => row.platformOrderId === 'C-1');
    expect(intents.map((row) => [row.lineId, row.kind, row.status, row.appliedQuantity])).toEqual([
      ['1', 'deduct', 'applied', 2],
      ['1', 'release', 'applied', 2],
      ['2', 'deduct', 'applied', 5],
      ['2', 'release', 'applied', 5],
      ['3', 'deduct', 'applied', 1],
      ['3', 'release', 'applied', 1],
    ]);
    const compared = await f.drainAndCompare(['CUP', 'SCARF']);
    expect(compared.mysql).toEqual(compared.redis);
  });

  it('releases a line removed from the order', async () => {
    const { sink } = f.pipeline();
    const v1 = marketplaceOrder('C-2', [
      { lineId: 'a', sku: 'S-MUG', quantity: 1 },
      { lineId: 'b', sku: 'S-MUG', quantity: 2 },
    ]);
    const before = (await f.available('MUG'))!;
    await sink.handler(batchOf([v1]));
    const v2 = { ...v1, updatedAt: addMs(v1.updatedAt, 1000), lines: v1.lines.slice(0, 1) };
    await sink.handler(batchOf([v2]));
    expect(await f.available('MUG')).toBe(before - 1);
  });

  it('gives back by adjustment when the sale is past the idempotency window in Redis', async () => {
    const { sink } = f.pipeline();
    const v1 = marketplaceOrder('C-3', [{ lineId: 'z', sku: 'S-TEE', quantity: 3 }]);
    const before = (await f.available('TEE'))!;
    await sink.handler(batchOf([v1]));
    const [intent] = (await f.intents()).filter((row) => row.platformOrderId === 'C-3');
    // The sale's record expired (7 days later): Redis no longer knows what it took.
    await f.redis.del(tenantKeys(f.keyPrefix, 'default').operation(intentOperationId(intent!, 'd')));
    const cancelled = {
      ...v1,
      status: 'cancelled' as const,
      rawStatus: 'cancelled',
      updatedAt: addMs(v1.updatedAt, 1000),
    };
    await sink.handler(batchOf([cancelled]));
    await sink.handler(batchOf([cancelled]));
    expect(await f.available('TEE')).toBe(before);
    const release = (await f.intents()).find(
      (row) => row.platformOrderId === 'C-3' && row.kind === 'release',
    );
    expect(release).toMatchObject({ status: 'applied', appliedQuantity: 3 });
    expect(release!.lastError).toContain('adjustment');
  });
});

/** The service with a hook before and after each deduct call, single or many (to fail on demand). */
function failingStock(
  service: StockService,
  before: () => Promise<void>,
  after: () => Promise<void> = async () => undefined,
): StockService {
  return new Proxy(service, {
    get(target, property, receiver) {
      if (property === 'deductAvailable' || property === 'deductAvailableMany') {
        const call = target[property].bind(target) as (input: unknown) => Promise<unknown>;
        return async (input: unknown) => {
          await before();
          const result = await call(input);
          await after();
          return result;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
