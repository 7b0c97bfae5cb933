import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeLines } from '../../src/core/order-stock/intent-rows.js';
import { routerForConfig } from '../../src/core/shard-admin.js';
import { ListingMap } from '../../src/core/stock/listing-map.js';
import { StockService } from '../../src/core/stock/stock-service.js';
import { REDIS_URL } from '../helpers/services.js';
import { expectedOrders } from '../helpers/sync-fixture.js';
import {
  createWorld,
  get,
  pollUntil,
  problems,
  startWorker,
  terminate,
  type World,
} from '../helpers/worker-fixture.js';
import { parseMetrics } from '../helpers/worker-process.js';

// `tradectl worker` in its own process (test/helpers/worker-fixture.ts) against a sandbox whose
// eBay answers every call 503 at first: the `stopped` event's breaker trips are the openings the
// worker logged, eBay's only, and the stock each account's orders took is what the sandbox's
// ground truth sold (every SKU mapped to the internal SKU of its name, with ample stock).
const INITIAL = 100_000;

interface StoppedRow {
  platform: string;
  account: string;
  breaker: string | null;
  breakerTrips: number;
  throttled: number;
  stock: Record<string, number> | null;
}

describe('tradectl worker exit summary: breaker trips and stock deducted per account', () => {
  let world: World;
  let redis: Redis;
  let stock: StockService;
  /** Per `platform:account`: active lines and their units, from the ground truth. */
  const sold = new Map<string, { lines: number; units: number }>();
  /** Per SKU, every account together. */
  const soldBySku = new Map<string, number>();

  beforeAll(async () => {
    world = await createWorld('inline', { seed: 34, ordersPerAccount: 60 });
    redis = new Redis(REDIS_URL);
    stock = new StockService({ redis, keyPrefix: world.config.redis.keyPrefix });
    for (const account of world.config.accounts) {
      const key = `${account.platform}:${account.id}`;
      const totals = { lines: 0, units: 0 };
      for (const order of expectedOrders(world.sandbox, account)) {
        for (const line of activeLines(order)) {
          totals.lines++;
          totals.units += line.quantity;
          soldBySku.set(line.sku!, (soldBySku.get(line.sku!) ?? 0) + line.quantity);
        }
      }
      sold.set(key, totals);
    }
    const listings = new ListingMap({ pool: world.pools.meta(), router: routerForConfig(world.config) });
    await listings.importMappings(
      world.config.accounts.flatMap((account) =>
        [...soldBySku.keys()].map((sku) => ({
          platform: account.platform,
          account: account.id,
          kind: 'sku' as const,
          channelKey: sku,
          sku,
        })),
      ),
    );
    for (const sku of soldBySku.keys()) {
      await stock.set({ operationId: `init-${sku}`, sku, expectedVersion: 0, available: INITIAL });
    }
  }, 60_000);
  afterAll(async () => {
    await redis?.quit();
    await world?.close();
  });

  it('counts each opening of a failing platform breaker, and the lines and units each account sold', async () => {
    world.sandbox.setFaults('ebay', { error5xx: 1 });
    const { worker, api } = await startWorker(world);
    try {
      // Every attempt fails: after ten in the breaker's window both eBay breakers open.
      await pollUntil(async () => {
        const states = parseMetrics((await get(`${api}/metrics`)).text).get('tradectl_breaker_state') ?? [];
        const ebay = states.filter((sample) => sample.labels.platform === 'ebay');
        return ebay.length === 2 && ebay.every((sample) => sample.value === 2) ? ebay : null;
      }, 60_000);
      // eBay recovers; its breakers let a probe through after their 30 s and close again.
      world.sandbox.setFaults('ebay', {});
      const comparison = await world.converge(150_000).catch((error: Error) => {
        throw new Error(`${error.message}\nworker log:\n${problems(worker)}`);
      });
      expect(comparison.stored).toBe(comparison.expected);
      // The sink deducts after its commit: wait until Redis holds what the orders left.
      const skus = [...soldBySku.keys()];
      await pollUntil(async () => {
        const levels = await stock.getMany({ skus });
        return levels.every((level, index) => level?.available === INITIAL - soldBySku.get(skus[index]!)!)
          ? levels
          : null;
      });

      const { exit, stopped } = await terminate(worker, api);
      expect(exit).toEqual({ code: 0, signal: null });
      const rows = stopped.accounts as StoppedRow[];
      expect(rows).toHaveLength(6);
      const opened = worker.logs(/^circuit breaker \w+ -> open$/);
      for (const row of rows) {
        const key = `${row.platform}:${row.account}`;
        const logged = opened.filter(
          (line) => line.platform === row.platform && line.account === row.account,
        );
        expect(row.breakerTrips, key).toBe(logged.length);
        if (row.platform === 'ebay') {
          expect(row.breakerTrips, key).toBeGreaterThanOrEqual(1);
          expect(row.breaker, key).toBe('closed');
        } else {
          expect(row.breakerTrips, key).toBe(0);
        }
        const expected = sold.get(key)!;
        expect(expected.lines, key).toBeGreaterThan(0);
        expect(row.stock, key).toMatchObject({
          deducted: expected.lines,
          oversold: 0,
          unmapped: 0,
          unitsDeducted: expected.units,
        });
      }
      const all = [...sold.values()];
      expect(stopped.stock).toMatchObject({
        deducted: all.reduce((sum, entry) => sum + entry.lines, 0),
        unitsDeducted: all.reduce((sum, entry) => sum + entry.units, 0),
      });
    } finally {
      worker.signal('SIGKILL');
    }
  }, 240_000);
});
