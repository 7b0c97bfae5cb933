import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantKeys } from '../../src/core/stock/keys.js';
import type { StockService } from '../../src/core/stock/stock-service.js';
import { startFixture } from '../helpers/fixture-process.js';
import { MYSQL_URL, REDIS_URL } from '../helpers/services.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

const DRAIN = fileURLToPath(new URL('./fixtures/stock-drain.ts', import.meta.url));

let fixture: StockFixture;
let service: StockService;
let stream: string;

beforeAll(async () => {
  fixture = await createStockFixture();
  service = fixture.service();
  stream = tenantKeys(fixture.keyPrefix, 'default').stream;
});

afterAll(async () => {
  await fixture.close();
});

/** Runs the drain fixture as a separate process; resolves with how it ended. */
async function runDrainProcess(consumer: string, crashAt: 'read' | 'committed' | 'none') {
  const child = startFixture(DRAIN, [
    REDIS_URL,
    MYSQL_URL,
    fixture.keyPrefix,
    fixture.config.mysql.databasePrefix,
    consumer,
    crashAt,
    '50',
  ]);
  const output = crashAt === 'none' ? JSON.parse(await child.nextLine()) : undefined;
  return { ...(await child.exited()), output };
}

async function sell(prefix: string, count: number, sku: string): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        service.deduct({ operationId: `${prefix}-${i + j}`, lines: [{ sku, quantity: 1 }] }),
      ),
    );
  }
}

async function pendingOf(consumer: string): Promise<number> {
  const [, , , consumers] = (await fixture.redis.xpending(stream, 'ledger')) as [
    number,
    unknown,
    unknown,
    [string, string][] | null,
  ];
  return Number(consumers?.find(([name]) => name === consumer)?.[1] ?? 0);
}

describe('ledger drain crashes', () => {
  it('ends with MySQL equal to Redis after a drain is killed between its commit and its XACK and restarted', async () => {
    await service.set({ operationId: 'stock-A', sku: 'A', expectedVersion: 0, available: 1000 });
    await sell('a', 199, 'A');

    const killed = await runDrainProcess('drain-1', 'committed');
    expect(killed.signal).toBe('SIGKILL');
    // Its first batch is in MySQL but was never acknowledged.
    expect(await pendingOf('drain-1')).toBe(50);
    expect(await fixture.ledgerCounts('A')).toEqual({ set: 1, deduct: 49 });

    await sell('a2', 100, 'A');
    // Restarted under the same name: it reads its own pending batch again first.
    const restarted = await runDrainProcess('drain-1', 'none');
    expect(restarted.code).toBe(0);
    expect(restarted.output).toMatchObject({ duplicates: 50, inserted: 250, rejected: 0 });
    expect(await pendingOf('drain-1')).toBe(0);
    expect(await fixture.ledgerCounts('A')).toEqual({ set: 1, deduct: 299 });
    const sides = await bothSides(fixture, 'A');
    expect(sides.mysql).toEqual(sides.redis);
    expect(sides.mysql).toEqual({ onHand: 701, reserved: 0, version: 300 });
  });

  it('takes over the pending batch of a drain killed after reading it, and counts everything once', async () => {
    await service.set({ operationId: 'stock-B', sku: 'B', expectedVersion: 0, available: 500 });
    await sell('b', 120, 'B');
    await service.reserve({ reservationId: 'b-cart', lines: [{ sku: 'B', quantity: 7 }], ttlMs: 60_000 });

    const killed = await runDrainProcess('drain-2', 'read');
    expect(killed.signal).toBe('SIGKILL');
    expect(await pendingOf('drain-2')).toBe(50);
    expect(await fixture.ledgerCounts('B')).toEqual({});

    // Another consumer claims the dead one's entries (idle > claimIdleMs) and drains the rest.
    const survivor = fixture.drain({ consumer: 'survivor', claimIdleMs: 1, batchSize: 50 });
    const totals = await survivor.drainUntilIdle();
    expect(totals).toMatchObject({ claimed: 50, inserted: 122, duplicates: 0 });
    expect(await pendingOf('drain-2')).toBe(0);
    expect(await fixture.ledgerCounts('B')).toEqual({ set: 1, deduct: 120, reserve: 1 });
    const sides = await bothSides(fixture, 'B');
    expect(sides.mysql).toEqual(sides.redis);
    expect(sides.mysql).toEqual({ onHand: 380, reserved: 7, version: 122 });
  });

  it('keeps draining in the background, never trims an unacknowledged entry, trims the rest', async () => {
    await service.set({ operationId: 'stock-D', sku: 'D', expectedVersion: 0, available: 100 });
    // A consumer that read an entry and never acknowledged it: the trim point stays below it.
    const [[, [[stuckId]]]] = (await fixture.redis.xreadgroup(
      'GROUP',
      'ledger',
      'stuck',
      'COUNT',
      1,
      'STREAMS',
      stream,
      '>',
    )) as [[string, [[string, string[]]]]];
    const running = fixture.drain({
      consumer: 'background',
      maintenanceIntervalMs: 0,
      claimIdleMs: 3_600_000,
    });
    running.start();
    await service.set({ operationId: 'stock-C', sku: 'C', expectedVersion: 0, available: 100 });
    await sell('c', 40, 'C');
    await expect.poll(async () => (await fixture.inventory('C'))?.onHand, { timeout: 10_000 }).toBe(60);
    await running.stop();
    expect(running.running).toBe(false);
    expect(await fixture.redis.xrange(stream, stuckId, stuckId)).toHaveLength(1);
    expect(await pendingOf('stuck')).toBe(1);
    expect(await fixture.inventory('D')).toBeUndefined();

    // Once someone takes it over and acknowledges it, everything can go.
    const cleaner = fixture.drain({ consumer: 'cleaner', maintenanceIntervalMs: 0, claimIdleMs: 1 });
    expect(await cleaner.drainUntilIdle()).toMatchObject({ claimed: 1, inserted: 1 });
    expect(await fixture.inventory('D')).toEqual({ onHand: 100, reserved: 0, version: 1 });
    expect(await fixture.redis.xlen(stream)).toBe(0);
  });
});
