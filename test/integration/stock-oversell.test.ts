import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { type FixtureProcess, startFixture } from '../helpers/fixture-process.js';
import { REDIS_URL } from '../helpers/services.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

const BUYERS = fileURLToPath(new URL('./fixtures/stock-buyers.ts', import.meta.url));
const STOCK = 1000;
const PROCESSES = 5;
const BUYERS_PER_PROCESS = 1000;

let fixture: StockFixture;

beforeAll(async () => {
  fixture = await createStockFixture();
});

afterAll(async () => {
  await fixture.close();
});

interface Report {
  leftAfter: number[];
  insufficient: number;
  errors: string[];
}

describe('oversell: 5 processes x 1,000 concurrent buyers against a stock of 1,000', () => {
  it('sells exactly 1,000, never goes below zero, and the drained ledger shows the same', async () => {
    const service = fixture.service();
    await service.set({ operationId: 'initial-stock', sku: 'HOT', expectedVersion: 0, available: STOCK });
    const children: FixtureProcess[] = Array.from({ length: PROCESSES }, (_, index) =>
      startFixture(BUYERS, [REDIS_URL, fixture.keyPrefix, 'HOT', String(BUYERS_PER_PROCESS), `p${index}`]),
    );
    try {
      // All five are loaded and connected before any buys, so they really compete.
      expect(await Promise.all(children.map((child) => child.nextLine()))).toEqual(
        Array(PROCESSES).fill('ready'),
      );
      // Watch the stock key while they buy: it must never read below zero.
      const stockKey = tenantKeys(fixture.keyPrefix, 'default').stock('HOT');
      let watching = true;
      let lowest = Number.POSITIVE_INFINITY;
      let reads = 0;
      const watcher = (async () => {
        while (watching) {
          lowest = Math.min(lowest, Number(await fixture.redis.hget(stockKey, 'available')));
          reads++;
        }
      })();
      for (const child of children) child.send('go');
      const reports = (await Promise.all(children.map((child) => child.nextLine()))).map(
        (line) => JSON.parse(line) as Report,
      );
      watching = false;
      await watcher;
      await Promise.all(children.map((child) => child.exited()));

      expect(reports.flatMap((report) => report.errors)).toEqual([]);
      const sold = reports.flatMap((report) => report.leftAfter);
      expect(sold).toHaveLength(STOCK);
      expect(reports.reduce((sum, report) => sum + report.insufficient, 0)).toBe(
        PROCESSES * BUYERS_PER_PROCESS - STOCK,
      );
      // Each success left a different quantity behind: 999, 998, ... 0, each exactly once.
      expect([...sold].sort((a, b) => a - b)).toEqual(Array.from({ length: STOCK }, (_, i) => i));
      expect(reads).toBeGreaterThan(0);
      expect(lowest).toBeGreaterThanOrEqual(0);
      expect(await service.get({ sku: 'HOT' })).toMatchObject({
        available: 0,
        reserved: 0,
        version: STOCK + 1,
      });

      const drained = await fixture.drain().drainUntilIdle();
      expect(drained).toMatchObject({ entries: STOCK + 1, inserted: STOCK + 1, duplicates: 0, rejected: 0 });
      expect(await fixture.inventory('HOT')).toEqual({ onHand: 0, reserved: 0, version: STOCK + 1 });
      expect(await fixture.ledgerCounts('HOT')).toEqual({ set: 1, deduct: STOCK });
      const sides = await bothSides(fixture, 'HOT');
      expect(sides.mysql).toEqual(sides.redis);
    } finally {
      for (const child of children) child.process.kill();
    }
  });
});
