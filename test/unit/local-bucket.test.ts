import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalTokenBucket } from '../../src/adapters/resilience/local-bucket.js';

// Fake timers drive bottleneck and the bucket's sleeps and clock exactly (simulated ms).
const T0 = Date.UTC(2026, 0, 1);

describe('in-process token bucket', () => {
  const buckets: LocalTokenBucket[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(async () => {
    const stopping = Promise.all(buckets.splice(0).map((bucket) => bucket.stop()));
    await vi.advanceTimersByTimeAsync(10);
    await stopping;
    vi.useRealTimers();
  });

  function make(ratePerSecond: number, burst: number, maxConcurrent = 4): LocalTokenBucket {
    const bucket = new LocalTokenBucket({ name: 'test', limit: { ratePerSecond, burst }, maxConcurrent });
    buckets.push(bucket);
    return bucket;
  }

  it('never grants more than an ideal token bucket would, whenever the calls arrive', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 180 }), { minLength: 5, maxLength: 40 }),
        async (gaps) => {
          vi.setSystemTime(T0);
          const rate = 10;
          const burst = 3;
          const bucket = make(rate, burst);
          const grants: number[] = [];
          const calls: Promise<void>[] = [];
          for (const gap of gaps) {
            await vi.advanceTimersByTimeAsync(gap);
            calls.push(bucket.schedule(async () => void grants.push(Date.now())));
          }
          // bottleneck finishes a job through its own zero-delay timers, so the calls settle only
          // while the fake clock moves: advance until they have, rather than await them blindly.
          let settled = false;
          const all = Promise.all(calls).then(() => {
            settled = true;
          });
          for (let step = 0; !settled && step < 100; step++) await vi.advanceTimersByTimeAsync(100);
          await all;
          // Replay the grants through the ideal bucket, full at the start: it must never run dry.
          let tokens = burst;
          let last = T0;
          for (const at of grants) {
            tokens = Math.min(burst, tokens + ((at - last) * rate) / 1000) - 1;
            last = at;
            expect(tokens).toBeGreaterThanOrEqual(-1e-9);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('counts a request in flight against the burst until its answer is back', async () => {
    const bucket = make(10, 2);
    let answer!: () => void;
    const slow = bucket.schedule(() => new Promise<void>((resolve) => (answer = resolve)));
    await vi.advanceTimersByTimeAsync(5);
    // A second of refill while the first request is out: the platform may not have counted it
    // yet, so only one more token (burst 2 minus 1 in flight) is there, not two.
    await vi.advanceTimersByTimeAsync(1000);
    const ranAt: number[] = [];
    const quick = [0, 1].map(() => bucket.schedule(async () => void ranAt.push(Date.now() - T0)));
    await vi.advanceTimersByTimeAsync(50);
    expect(ranAt).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60);
    expect(ranAt).toHaveLength(2);
    expect(ranAt[1]! - ranAt[0]!).toBeGreaterThanOrEqual(100);
    answer();
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all([slow, ...quick]);
  });

  it('refills for exactly the time that passed, up to the burst', async () => {
    const bucket = make(4, 2);
    const ranAt: number[] = [];
    const calls = Array.from({ length: 6 }, () =>
      bucket.schedule(async () => void ranAt.push(Date.now() - T0)),
    );
    for (let step = 0; step < 40; step++) await vi.advanceTimersByTimeAsync(50);
    await Promise.all(calls);
    // Two at once, then one every 250 ms.
    expect(ranAt.map((at) => Math.round(at / 10) * 10)).toEqual([0, 0, 250, 500, 750, 1000]);
    expect((await bucket.snapshot()).tokens).toBe(2);
  });
});
