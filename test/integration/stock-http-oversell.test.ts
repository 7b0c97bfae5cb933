import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { createHttpApi, type HttpApi } from '../../src/workers/http-api.js';
import { WorkerContext } from '../../src/workers/worker-context.js';
import { WorkerMetrics } from '../../src/workers/worker-metrics.js';
import { type FixtureProcess, startFixture } from '../helpers/fixture-process.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

const BUYERS = fileURLToPath(new URL('./fixtures/stock-http-buyers.ts', import.meta.url));
const STOCK = 1000;
const PROCESSES = 5;
const BUYERS_PER_PROCESS = 1000;
const SOCKETS_PER_PROCESS = 32;
const TOKEN = 'oversell-test-token-0123456789';

let fixture: StockFixture;
let ctx: WorkerContext;
let api: HttpApi;
let url: string;
let connections = 0;

beforeAll(async () => {
  fixture = await createStockFixture();
  // The StockService the worker's api role serves, on its own lingering connection
  // (api.redisLingerMs at its default): 5,000 buyers at once keep commands queued behind others.
  const logger = silentLogger();
  ctx = new WorkerContext({ config: fixture.config, logger, metrics: new WorkerMetrics({ logger }) });
  api = createHttpApi({
    logger,
    stock: await ctx.stockApiService(),
    readiness: async () => ({ ok: true, checks: {} }),
    metricsRegistry: new Registry(),
    authTokens: [new Secret(TOKEN)],
  });
  ({ url } = await api.listen(0, '127.0.0.1'));
  api.app.server.on('connection', () => {
    connections++;
  });
});

afterAll(async () => {
  await api?.close();
  await ctx?.close();
  await fixture?.close();
});

interface Report {
  leftAfter: number[];
  refusals: { available: number; requested: number }[];
  errors: string[];
}

describe('oversell through the HTTP API: 5 processes x 1,000 concurrent buyers, stock 1,000', () => {
  it('sells exactly 1,000 (2xx), refuses the rest with 409, never goes below zero, and the ledger agrees', async () => {
    const service = fixture.service();
    await service.set({ operationId: 'initial-stock', sku: 'HOT', expectedVersion: 0, available: STOCK });
    const children: FixtureProcess[] = Array.from({ length: PROCESSES }, (_, index) =>
      startFixture(BUYERS, [
        url,
        TOKEN,
        'HOT',
        String(BUYERS_PER_PROCESS),
        `p${index}`,
        String(SOCKETS_PER_PROCESS),
      ]),
    );
    try {
      expect(await Promise.all(children.map((child) => child.nextLine()))).toEqual(
        Array(PROCESSES).fill('ready'),
      );
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
      const refusals = reports.flatMap((report) => report.refusals);
      expect(refusals).toHaveLength(PROCESSES * BUYERS_PER_PROCESS - STOCK);
      // Every refusal says why: nothing left, one unit asked.
      expect(new Set(refusals.map((refusal) => `${refusal.available}/${refusal.requested}`))).toEqual(
        new Set(['0/1']),
      );
      expect([...sold].sort((a, b) => a - b)).toEqual(Array.from({ length: STOCK }, (_, i) => i));
      expect(reads).toBeGreaterThan(0);
      expect(lowest).toBeGreaterThanOrEqual(0);
      // Keep-alive: 5,000 requests over about 5 x 32 connections, not one each.
      expect(connections).toBeLessThanOrEqual(PROCESSES * SOCKETS_PER_PROCESS);
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
