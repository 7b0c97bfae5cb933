import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { reconcileMetrics } from '../../src/core/reconcile/drift-report.js';
import { reconcileStock, type StockReconcileOptions } from '../../src/core/reconcile/stock-reconcile.js';
import { repairSku } from '../../src/core/reconcile/stock-repair.js';
import { snapshotSkus } from '../../src/core/reconcile/stock-snapshot.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import type { LedgerDrain } from '../../src/core/stock/ledger-drain.js';
import type { StockService } from '../../src/core/stock/stock-service.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

// Redis against the MySQL truth while stock keeps selling and the ledger drain keeps draining:
// what is in flight between the two is never drift, what was changed behind the system's back
// is, and --fix puts it right without losing one of the sales made meanwhile.
const INITIAL = 100_000;
const SKUS = ['A', 'B', 'C', 'D', 'E'];

let fixture: StockFixture;
let service: StockService;

beforeAll(async () => {
  fixture = await createStockFixture();
  service = fixture.service();
  for (const sku of SKUS) {
    await service.set({ operationId: `init-${sku}`, sku, expectedVersion: 0, available: INITIAL });
  }
  // A held reservation: reserved units are part of both sides and must match too.
  await service.reserve({ reservationId: 'hold-1', lines: [{ sku: 'E', quantity: 7 }], ttlMs: 3_600_000 });
});

afterAll(async () => {
  await fixture?.close();
});

function reconcile(extra: Partial<StockReconcileOptions> = {}) {
  return reconcileStock({
    redis: fixture.redis,
    pool: fixture.pools.meta(),
    router: fixture.router,
    keyPrefix: fixture.keyPrefix,
    logger: silentLogger(),
    tenant: 'default',
    ...extra,
  });
}

/** Deducts 1-3 units of random SKUs from `workers` loops until stopped; counts what succeeded. */
function liveSales(workers = 4) {
  const sold = new Map<string, number>(SKUS.map((sku) => [sku, 0]));
  let refused = 0;
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const sku = SKUS[Math.floor(Math.random() * SKUS.length)]!;
      const quantity = 1 + Math.floor(Math.random() * 3);
      try {
        await service.deduct({ operationId: randomUUID(), lines: [{ sku, quantity }] });
        sold.set(sku, sold.get(sku)! + quantity);
      } catch {
        refused++;
      }
    }
  });
  return {
    sold,
    get refused() {
      return refused;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('reconcile stock', () => {
  it('reports no drift while sales and the drain run, with entries undrained, pending uncommitted and committed unacknowledged', async () => {
    // Nothing drained yet (no consumer group at all): everything is in flight.
    expect((await reconcile()).drift).toEqual([]);

    // A drain that dies after its MySQL commit and before its XACK leaves applied entries pending,
    // one that dies after reading leaves unapplied entries pending: both must count exactly once.
    const crashing = (stage: 'read' | 'committed') =>
      fixture.drain({
        consumer: `crash-${stage}`,
        batchSize: 5,
        onBatch: (event) => {
          if (event.stage === stage) throw new Error(`crash at ${stage}`);
        },
      });
    const sales = liveSales(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(crashing('committed').runOnce()).rejects.toThrow('crash at committed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(crashing('read').runOnce()).rejects.toThrow('crash at read');
    const [pending] = (await fixture.redis.xpending(
      tenantKeys(fixture.keyPrefix, 'default').stream,
      'ledger',
    )) as [number];
    expect(pending).toBe(10);
    expect((await reconcile()).drift).toEqual([]);

    const drain = fixture.drain({ claimIdleMs: 200 });
    drain.start();
    try {
      for (let round = 0; round < 5; round++) {
        const result = await reconcile({ batchSize: 2 });
        expect(result.skus).toBe(SKUS.length);
        expect(result.drift).toEqual([]);
      }
    } finally {
      await sales.stop();
      await drain.stop();
    }
    expect(total(sales.sold)).toBeGreaterThan(0);
  });

  it('detects Redis changed behind the system, and --fix repairs it during live sales without losing one', async () => {
    const keys = tenantKeys(fixture.keyPrefix, 'default');
    const drain = fixture.drain({ claimIdleMs: 200 });
    await drain.drainUntilIdle();
    const before = new Map<string, number>();
    for (const sku of SKUS) before.set(sku, (await fixture.redisStock(sku))!.available);

    const sales = liveSales(4);
    drain.start();
    let drain2: LedgerDrain | undefined;
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Behind the system's back: no script, no stream entry, no version change.
      await fixture.redis.hincrby(keys.stock('A'), 'available', 500);
      await fixture.redis.del(keys.stock('B'));
      await fixture.redis.hset(keys.stock('C'), 'available', 3);
      await new Promise((resolve) => setTimeout(resolve, 100));

      const registry = new Registry();
      const found = await reconcile({ metrics: reconcileMetrics(registry) });
      const bySku = new Map(found.drift.map((item) => [item.sku, item]));
      expect([...bySku.keys()].sort()).toEqual(['A', 'B', 'C']);
      expect(bySku.get('A')).toMatchObject({
        problem: 'mismatch',
        difference: { available: 500, reserved: 0 },
      });
      expect(bySku.get('B')).toMatchObject({ problem: 'missing-in-redis', redis: null });
      expect(bySku.get('C')).toMatchObject({ problem: 'mismatch' });
      expect(found.remaining).toBe(3);
      expect(await registry.getSingleMetricAsString('tradectl_reconcile_drift_total')).toContain(
        'tradectl_reconcile_drift_total{subject="stock",problem="mismatch"} 2',
      );

      const soldBefore = total(sales.sold);
      const fixed = await reconcile({ fix: true });
      expect(total(sales.sold)).toBeGreaterThan(soldBefore);
      expect(fixed.drift.map((item) => item.sku).sort()).toEqual(['A', 'B', 'C']);
      expect(fixed.remaining).toBe(0);
      expect(fixed.drift.map((item) => item.repair)).toEqual(['fixed', 'fixed', 'fixed']);

      // Sales go on after the repair; a second drain takes over too.
      drain2 = fixture.drain({ consumer: 'second', claimIdleMs: 200 });
      drain2.start();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await reconcile()).drift).toEqual([]);
    } finally {
      await sales.stop();
      await drain.stop();
      await drain2?.stop();
    }
    expect(sales.refused).toBeLessThan(1000);
    await fixture.drain({ claimIdleMs: 0 }).drainUntilIdle();
    for (const sku of SKUS) {
      const stock = (await fixture.redisStock(sku))!;
      // Every successful sale is in Redis exactly once; the injected changes are gone.
      expect(stock.available, sku).toBe(before.get(sku)! - sales.sold.get(sku)!);
      const sides = await bothSides(fixture, sku);
      expect(sides.mysql, sku).toEqual(sides.redis);
    }
    expect((await reconcile()).drift).toEqual([]);
    // Each repair is in the ledger, as a reload from the truth that moved MySQL by nothing.
    expect(await fixture.ledgerCounts('B')).toMatchObject({ load: 1 });
  });
});

describe('a SKU only the stream knows', () => {
  it('is found, recreated at the truth, and MySQL agrees once drained', async () => {
    // Sold before any drain ran, then lost by Redis: neither a hash nor an inventory row has it.
    await service.set({
      tenant: 'other',
      operationId: 'f-init',
      sku: 'F',
      expectedVersion: 0,
      available: 50,
    });
    await service.deduct({ tenant: 'other', operationId: 'f-sale', lines: [{ sku: 'F', quantity: 3 }] });
    await fixture.redis.del(tenantKeys(fixture.keyPrefix, 'other').stock('F'));
    const found = await reconcile({ tenant: 'other' });
    expect(found.drift).toMatchObject([
      { sku: 'F', problem: 'missing-in-redis', expected: { available: 47, reserved: 0 }, pending: 2 },
    ]);
    const fixed = await reconcile({ tenant: 'other', fix: true });
    expect(fixed.drift).toMatchObject([
      { sku: 'F', repair: 'fixed', repaired: { available: 47, version: 3 } },
    ]);
    await fixture.drain().drainUntilIdle();
    const sides = await bothSides(fixture, 'F', 'other');
    expect(sides.mysql).toEqual(sides.redis);
    expect((await reconcile({ tenant: 'other' })).drift).toEqual([]);
  });
});

describe('the repair script', () => {
  const keys = () => tenantKeys(fixture.keyPrefix, 'default');
  const snapshot = async (sku: string) =>
    (
      await snapshotSkus({
        redis: fixture.redis,
        pool: fixture.pools.meta(),
        router: fixture.router,
        keys: keys(),
        group: 'ledger',
        skus: [sku],
      })
    )[0]!;
  const repair = async (truth: Awaited<ReturnType<typeof snapshot>>) =>
    repairSku({
      redis: fixture.redis,
      keys: keys(),
      sku: truth.sku,
      operationId: `repair-${randomUUID()}`,
      now: Date.now(),
      snapshotId: truth.snapshotId,
      seen: truth.redis,
      expected: truth.expected!,
      versionFloor: truth.highestVersion + 1,
    });

  it('moves Redis by the drift across sales made after the snapshot, refuses a change behind its back', async () => {
    await service.set({ operationId: 'r-init', sku: 'R', expectedVersion: 0, available: 100 });
    await fixture.redis.hincrby(keys().stock('R'), 'available', 10);
    const drifted = await snapshot('R');
    expect(drifted).toMatchObject({ redis: { available: 110 }, expected: { available: 100 } });
    await service.deduct({ operationId: 'r-sale', lines: [{ sku: 'R', quantity: 3 }] });
    expect(await repair(drifted)).toMatchObject({ status: 'applied', level: { available: 97 } });

    await fixture.redis.hincrby(keys().stock('R'), 'available', 5);
    const again = await snapshot('R');
    await service.deduct({ operationId: 'r-sale-2', lines: [{ sku: 'R', quantity: 1 }] });
    await fixture.redis.hincrby(keys().stock('R'), 'available', 1);
    expect(await repair(again)).toEqual({ status: 'conflict', reason: 'changed' });
    expect((await fixture.redisStock('R'))!.available).toBe(102);
  });

  it('refuses to go below zero, and to recreate a SKU someone else created meanwhile', async () => {
    await service.set({ operationId: 'n-init', sku: 'N', expectedVersion: 0, available: 5 });
    await fixture.redis.hincrby(keys().stock('N'), 'available', 10);
    const drifted = await snapshot('N');
    // Sold beyond the truth while Redis was drifted: the truth is now 5 - 12.
    await service.deduct({ operationId: 'n-sale', lines: [{ sku: 'N', quantity: 12 }] });
    expect(await repair(drifted)).toEqual({ status: 'negative', target: { available: -7, reserved: 0 } });

    await fixture.redis.del(keys().stock('N'));
    const lost = await snapshot('N');
    expect(lost.redis).toBeNull();
    await service.set({ operationId: 'n-again', sku: 'N', expectedVersion: 0, available: 1 });
    expect(await repair(lost)).toEqual({ status: 'conflict', reason: 'created' });
  });
});

function total(sold: ReadonlyMap<string, number>): number {
  return [...sold.values()].reduce((a, b) => a + b, 0);
}
