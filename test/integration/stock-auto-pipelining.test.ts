import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import {
  InsufficientStockError,
  OperationConflictError,
  UnknownSkuError,
} from '../../src/core/stock/stock-errors.js';
import { StockService } from '../../src/core/stock/stock-service.js';
import { WorkerContext } from '../../src/workers/worker-context.js';
import { WorkerMetrics } from '../../src/workers/worker-metrics.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { testConfig } from '../helpers/services.js';
import { settle } from '../helpers/settle.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

// StockService is a library: a trading-side caller may hand it an auto-pipelined ioredis client,
// where the scripts of calls made in one event-loop turn share one pipeline. Each call must still
// get its own answer, and apply once. (The worker's own stock API connection is a plain client:
// WorkerContext.stockApiRedis; docs/stock-http.md says why.) A Redis of this file's own,
// because one test flushes the script cache (the shared server's clients would all see NOSCRIPT).

let server: PrivateRedis;
let fixture: StockFixture;
let pipelined: Redis;
let service: StockService;
let writes = 0;

beforeAll(async () => {
  server = await startPrivateRedis();
  fixture = await createStockFixture(server.url);
  pipelined = new Redis(server.url, { enableAutoPipelining: true });
  await pipelined.ping();
  // Counts what ioredis hands the socket: one write per command without auto-pipelining.
  const socket = pipelined.stream;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    writes++;
    return write(...args);
  }) as typeof socket.write;
  service = new StockService({ redis: pipelined, keyPrefix: fixture.keyPrefix });
});

afterAll(async () => {
  await pipelined?.quit();
  await fixture?.close();
  await server?.stop();
});

const failure = (answer: { ok: true } | { ok: false; error: unknown }) => (answer.ok ? null : answer.error);

describe('StockService on an auto-pipelined client', () => {
  it('answers each call of a shared pipeline on its own, sells exactly the stock, and the ledger agrees', async () => {
    await service.set({ operationId: 'stock-ap', sku: 'AP', expectedVersion: 0, available: 100 });
    writes = 0;
    const line = { sku: 'AP', quantity: 1 };
    // All issued in one turn, before any answer: 150 buyers for 100 units, a retry of buyer 0,
    // buyer 1's id reused for another order, an unknown SKU and a fractional quantity.
    const buys = Array.from({ length: 150 }, (_, i) =>
      settle(service.deduct({ operationId: `ap-${i}`, lines: [line] })),
    );
    const retry = settle(service.deduct({ operationId: 'ap-0', lines: [line] }));
    const reused = settle(service.deduct({ operationId: 'ap-1', lines: [{ sku: 'AP', quantity: 2 }] }));
    const unknown = settle(service.deduct({ operationId: 'ap-x', lines: [{ sku: 'NOPE', quantity: 1 }] }));
    const invalid = settle(service.deduct({ operationId: 'ap-y', lines: [{ sku: 'AP', quantity: 0.5 }] }));

    const answers = await Promise.all(buys);
    const sold = answers.filter((answer) => answer.ok);
    const refused = answers.flatMap((answer) => (answer.ok ? [] : [answer.error]));
    expect(sold).toHaveLength(100);
    expect(refused).toHaveLength(50);
    for (const error of refused) expect(error).toBeInstanceOf(InsufficientStockError);
    expect(await retry).toMatchObject({ ok: true, value: { operationId: 'ap-0', replayed: true } });
    expect(failure(await reused)).toBeInstanceOf(OperationConflictError);
    expect(failure(await unknown)).toBeInstanceOf(UnknownSkuError);
    expect(failure(await invalid)).toBeInstanceOf(ValidationError);
    // 153 scripts reached Redis (the fractional one never did) in a handful of writes.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(10);

    expect(await service.get({ sku: 'AP' })).toMatchObject({ available: 0, version: 101 });
    await fixture.drain({ consumer: 'ap-drain' }).drainUntilIdle();
    const sides = await bothSides(fixture, 'AP');
    expect(sides.mysql).toEqual(sides.redis);
    expect(await fixture.ledgerCounts('AP')).toEqual({ set: 1, deduct: 100 });
  });

  it('falls back to EVAL for a whole pipeline after the script cache was flushed, and applies each call once', async () => {
    await service.set({ operationId: 'stock-af', sku: 'AF', expectedVersion: 0, available: 1000 });
    await fixture.redis.script('FLUSH');
    const deduct = (i: number) =>
      service.deduct({ operationId: `af-${i}`, lines: [{ sku: 'AF', quantity: 2 }] });
    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => deduct(i)));
    expect(first.map((result) => result.replayed)).toEqual(Array(40).fill(false));
    await fixture.redis.script('FLUSH');
    const again = await Promise.all(Array.from({ length: 40 }, (_, i) => deduct(i)));
    expect(again.map((result) => result.replayed)).toEqual(Array(40).fill(true));

    expect(await service.get({ sku: 'AF' })).toMatchObject({ available: 1000 - 80, version: 41 });
    await fixture.drain({ consumer: 'af-drain' }).drainUntilIdle();
    const sides = await bothSides(fixture, 'AF');
    expect(sides.mysql).toEqual(sides.redis);
    expect(await fixture.ledgerCounts('AF')).toEqual({ set: 1, deduct: 40 });
  });
});

describe('the worker stock API connection', () => {
  it('is its own plain client, probed for /readyz and closed with the others', async () => {
    const logger = silentLogger();
    const ctx = new WorkerContext({ config: testConfig(), logger, metrics: new WorkerMetrics({ logger }) });
    try {
      const api = await ctx.stockApiRedis();
      const loops = await ctx.stockRedis();
      expect(api).not.toBe(loops);
      expect(api.options.enableAutoPipelining).toBe(false);
      expect(loops.options.enableAutoPipelining).toBe(false);
      expect(await ctx.stockApiService()).toBe(await ctx.stockApiService());
      expect(await ctx.stockApiService()).not.toBe(await ctx.stockService());
      expect(await ctx.checkDependencies()).toEqual({
        'redis-stock': { ok: true },
        'redis-stock-api': { ok: true },
      });
      // Both connections end (a client left open would keep the worker process alive).
      const ended = Promise.all([once(api, 'end'), once(loops, 'end')]);
      await ctx.close();
      await ended;
    } finally {
      await ctx.close();
    }
  });

  it('lingers (api.redisLingerMs) once Redis has been silent, and not on an idle connection', async () => {
    const logger = silentLogger();
    const config = testConfig({ api: { redisLingerMs: 20 } });
    const ctx = new WorkerContext({ config, logger, metrics: new WorkerMetrics({ logger }) });
    try {
      const api = await ctx.stockApiRedis();
      const key = `${config.redis.keyPrefix}linger`;
      const idle = api.incr(key);
      expect(api.stream.writableCorked).toBe(0);
      expect(await idle).toBe(1);
      // BLPOP keeps the connection waiting; a command sent into that silence lingers.
      const blocked = api.blpop(`${config.redis.keyPrefix}empty`, 0.1);
      await new Promise((resolve) => setTimeout(resolve, 10));
      const held = api.incr(key);
      expect(api.stream.writableCorked).toBe(1);
      expect(await blocked).toBeNull();
      expect(await held).toBe(2);
      await api.del(key);
      // The loops' connection never lingers.
      const loops = await ctx.stockRedis();
      const loopsBlocked = loops.blpop(`${config.redis.keyPrefix}empty`, 0.1);
      await new Promise((resolve) => setTimeout(resolve, 10));
      const ping = loops.ping();
      expect(loops.stream.writableCorked).toBe(0);
      await Promise.all([loopsBlocked, ping]);
    } finally {
      await ctx.close();
    }
  });
});
