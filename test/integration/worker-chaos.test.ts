import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorld,
  overlappingSyncWindows,
  problems,
  startWorker,
  terminate,
  type World,
} from '../helpers/worker-fixture.js';
import type { CliProcess } from '../helpers/worker-process.js';

// Two `tradectl worker` processes through Kafka while the sandbox keeps changing orders, faults
// on; one worker is SIGKILLed at five random moments and restarted at once. The store must end
// equal to the ground truth and no account may ever have been synced by both at once.
// Shopify and eBay only: their windows may end at "now", so the last changes are fetchable at
// once (Amazon's 2-minute rule would make this test wait; bench/worker-chaos.ts covers it, at
// 50,000 orders).
const FAULTS = { error5xx: 0.03, rate429: 0.02, drop: 0.01, paginationMutation: 0.05 };
const KILLS = 5;
const PHASE_MS = 25_000;

describe('tradectl worker: two at once, one SIGKILLed five times, orders changing meanwhile', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld(
      'kafka',
      {
        seed: 71,
        accounts: 'shopify:2,ebay:2',
        ordersPerAccount: 600,
        historyDays: 2,
        updatesPerSecond: 10,
        faults: { shopify: FAULTS, ebay: FAULTS },
      },
      { sync: { safetyLagSeconds: { shopify: 0, ebay: 0 } }, kafka: { partitionsConsumedConcurrently: 16 } },
    );
  });
  afterAll(async () => {
    await world?.close();
  });

  it('ends equal to the ground truth, field for field, with no account synced by both at once', async () => {
    const running: CliProcess[] = [];
    try {
      const steady = await startWorker(world);
      running.push(steady.worker);
      let victim = await startWorker(world);
      running.push(victim.worker);
      const killAt = Array.from({ length: KILLS }, () => 1000 + Math.random() * (PHASE_MS - 2000)).sort(
        (a, b) => a - b,
      );
      const began = performance.now();
      const storedAtKill: number[] = [];
      for (const at of killAt) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - (performance.now() - began))));
        victim.worker.signal('SIGKILL');
        expect(await victim.worker.exited()).toEqual({ code: null, signal: 'SIGKILL' });
        storedAtKill.push(await world.storedCount());
        victim = await startWorker(world);
        running.push(victim.worker);
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, PHASE_MS - (performance.now() - began))),
      );
      world.sandbox.setUpdatesPerSecond(0);
      world.sandbox.settle();
      const comparison = await world.converge(150_000).catch((error: Error) => {
        throw new Error(`${error.message}\nsteady worker log:\n${problems(steady.worker)}`);
      });
      expect(comparison.mismatches).toEqual([]);
      expect(comparison.stored).toBe(comparison.expected);
      // The kills landed while orders were still arriving, not after everything was stored.
      expect(storedAtKill[0]).toBeLessThan(comparison.expected);
      expect(await overlappingSyncWindows(world)).toEqual([]);
      for (const worker of [steady, victim]) {
        const { exit } = await terminate(worker.worker, worker.api);
        expect(exit).toEqual({ code: 0, signal: null });
      }
    } finally {
      for (const worker of running) worker.signal('SIGKILL');
    }
  }, 300_000);
});
