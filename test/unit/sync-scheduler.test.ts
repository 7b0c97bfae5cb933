import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ScheduledRunOutcome,
  SyncScheduler,
  type SyncSchedulerOptions,
} from '../../src/workers/sync-scheduler.js';

// The scheduler gets vitest's fake clock and timers injected; a run is a fake that takes a
// chosen time (on the same fake clock) and records when it started and how many ran at once.

interface Recorder {
  starts: Record<string, number[]>;
  /** Most runs of one job in flight at the same moment. */
  maxPerJob: number;
  /** Most runs in flight at the same moment, all jobs. */
  maxTotal: number;
  signals: AbortSignal[];
}

function harness(
  overrides: Partial<SyncSchedulerOptions<string>> & {
    jobs?: string[];
    duration?: (job: string, run: number) => number;
    outcome?: (job: string, run: number) => ScheduledRunOutcome | 'throw';
  } = {},
) {
  const recorder: Recorder = { starts: {}, maxPerJob: 0, maxTotal: 0, signals: [] };
  const inFlight = new Map<string, number>();
  let total = 0;
  const jobs = overrides.jobs ?? ['shopify:a'];
  const scheduler = new SyncScheduler<string>({
    jobs,
    keyOf: (job) => job,
    intervalMs: 1000,
    jitterMs: 0,
    now: () => Date.now(),
    timers: {
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (h) => clearTimeout(h as never),
    },
    ...overrides,
    run: async (job, signal) => {
      recorder.starts[job] ??= [];
      const starts = recorder.starts[job];
      const run = starts.length;
      starts.push(Date.now());
      recorder.signals.push(signal);
      inFlight.set(job, (inFlight.get(job) ?? 0) + 1);
      total++;
      recorder.maxPerJob = Math.max(recorder.maxPerJob, inFlight.get(job)!);
      recorder.maxTotal = Math.max(recorder.maxTotal, total);
      try {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, overrides.duration?.(job, run) ?? 100);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        const outcome = overrides.outcome?.(job, run) ?? 'ok';
        if (outcome === 'throw') throw new Error('boom');
        return outcome;
      } finally {
        inFlight.set(job, inFlight.get(job)! - 1);
        total--;
      }
    },
  });
  return { scheduler, recorder };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('sync scheduler', () => {
  it('runs every job at start, then on the interval grid: run time does not push the schedule back', async () => {
    const { scheduler, recorder } = harness({ duration: () => 300 });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(4500);
    expect(recorder.starts['shopify:a']).toEqual([0, 1000, 2000, 3000, 4000]);
    await scheduler.stop();
  });

  it('draws jitter per slot without accumulating it', async () => {
    const { scheduler, recorder } = harness({ jitterMs: 500, random: () => 0.9 });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(3600);
    // 0.9 x 500 = 450 ms after each slot, never 450 more per run.
    expect(recorder.starts['shopify:a']).toEqual([0, 1450, 2450, 3450]);
    await scheduler.stop();
  });

  it('folds the slots a long run overlapped into one run at once, never two at a time', async () => {
    const { scheduler, recorder } = harness({ duration: (_job, run) => (run === 0 ? 3500 : 100) });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(5500);
    // Slots 1000, 2000 and 3000 passed during the first run: one run at 3500, then 4000, 5000.
    expect(recorder.starts['shopify:a']).toEqual([0, 3500, 4000, 5000]);
    expect(recorder.maxPerJob).toBe(1);
    expect(scheduler.snapshot()[0]).toMatchObject({ coalescedSlots: 3, runs: 4 });
    await scheduler.stop();
  });

  it('backs off after consecutive failures (1, 2, 4, 8, 8 slots) and resets after a success', async () => {
    const { scheduler, recorder } = harness({
      duration: () => 10,
      outcome: (_job, run) => (run < 6 ? 'failed' : 'ok'),
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(33_500);
    expect(recorder.starts['shopify:a']).toEqual([
      0, 1000, 3000, 7000, 15_000, 23_000, 31_000, 32_000, 33_000,
    ]);
    expect(scheduler.snapshot()[0]!.failures).toBe(0);
    await scheduler.stop();
  });

  it('counts a run that throws as failed, and a skipped run (lease elsewhere) as no failure', async () => {
    const thrown = harness({ outcome: () => 'throw' });
    thrown.scheduler.start();
    await vi.advanceTimersByTimeAsync(3500);
    expect(thrown.recorder.starts['shopify:a']).toEqual([0, 1000, 3000]);
    expect(thrown.scheduler.snapshot()[0]!.failures).toBe(3);
    await thrown.scheduler.stop();

    const skipped = harness({ outcome: () => 'skipped' });
    skipped.scheduler.start();
    await vi.advanceTimersByTimeAsync(3500);
    expect(skipped.recorder.starts['shopify:a']).toHaveLength(4);
    await skipped.scheduler.stop();
  });

  it('runs at most maxConcurrent jobs at once; a due job waits for a free place', async () => {
    const { scheduler, recorder } = harness({
      jobs: ['shopify:a', 'amazon:b', 'ebay:c'],
      maxConcurrent: 2,
      duration: () => 600,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1500);
    expect(recorder.maxTotal).toBe(2);
    // At 1000 ebay:c still runs: shopify:a takes the free place, amazon:b waits until 1200.
    expect(recorder.starts).toEqual({ 'shopify:a': [0, 1000], 'amazon:b': [0, 1200], 'ebay:c': [600] });
    // ebay:c keeps its grid: its slot at 1000 passed while it waited and ran, so it runs again
    // as soon as a place is free (1600), not a whole interval after its late start (2200).
    await vi.advanceTimersByTimeAsync(600);
    expect(recorder.starts['ebay:c']).toEqual([600, 1600]);
    expect(recorder.maxTotal).toBe(2);
    await scheduler.stop();
  });

  it('stop() aborts the running runs, waits for them, and starts nothing afterwards', async () => {
    const { scheduler, recorder } = harness({ duration: () => 10_000 });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(50);
    expect(scheduler.running).toBe(1);
    let stopped = false;
    const stopping = scheduler.stop().then(() => {
      stopped = true;
    });
    expect(recorder.signals[0]!.aborted).toBe(true);
    await stopping;
    expect(stopped).toBe(true);
    expect(scheduler.running).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(recorder.starts['shopify:a']).toEqual([0]);
    expect(scheduler.snapshot()[0]!.nextRunAt).toBeNull();
  });

  it('refuses a non-positive interval and duplicate jobs', () => {
    expect(() => harness({ intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => harness({ jobs: ['a', 'a'] })).toThrow(/duplicate job a/);
  });
});
