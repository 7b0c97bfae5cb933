import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type PushJob,
  type PushOutcome,
  PushScheduler,
  type PushSchedulerOptions,
} from '../../src/workers/inventory-push-scheduler.js';

interface Started {
  at: number;
  sku: string;
  only: string[] | undefined;
}

/**
 * A scheduler on fake timers whose pushes take `pushMs` and answer what `answer` says; records
 * when each push started, how many ran at once per SKU, and every release (acknowledgement).
 */
function harness(options: Partial<PushSchedulerOptions> & { pushMs?: number } = {}) {
  const started: Started[] = [];
  const released: string[] = [];
  const inFlight = new Map<string, number>();
  let maxInFlightPerSku = 0;
  let maxInFlight = 0;
  let coalesced = 0;
  let answer: (job: PushJob, attempt: number) => PushOutcome = () => ({ status: 'done' });
  const scheduler = new PushScheduler({
    debounceMs: 100,
    maxDelayMs: 1000,
    concurrency: 4,
    retryBaseMs: 1000,
    retryMaxMs: 60_000,
    random: () => 0.5,
    clock: () => Date.now(),
    release: (tenant, id) => released.push(`${tenant}/${id}`),
    onCoalesced: () => coalesced++,
    async push(job) {
      started.push({ at: Date.now(), sku: job.sku, only: job.only ? [...job.only].sort() : undefined });
      const running = (inFlight.get(job.sku) ?? 0) + 1;
      inFlight.set(job.sku, running);
      maxInFlightPerSku = Math.max(maxInFlightPerSku, running);
      maxInFlight = Math.max(
        maxInFlight,
        [...inFlight.values()].reduce((a, b) => a + b, 0),
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, options.pushMs ?? 50));
        return answer(job, started.filter((entry) => entry.sku === job.sku).length);
      } finally {
        inFlight.set(job.sku, inFlight.get(job.sku)! - 1);
      }
    },
    ...options,
  });
  return {
    scheduler,
    started,
    released,
    get coalesced() {
      return coalesced;
    },
    get maxInFlightPerSku() {
      return maxInFlightPerSku;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    answer(fn: typeof answer) {
      answer = fn;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('PushScheduler debounce', () => {
  it('turns a burst of 1,000 changes of one SKU into a handful of pushes and a trailing one', async () => {
    const h = harness();
    const t0 = Date.now();
    let lastChange = 0;
    for (let i = 0; i < 1000; i++) {
      lastChange = Date.now();
      h.scheduler.entry('default', `1-${i}`, ['MUG']);
      await vi.advanceTimersByTimeAsync(5);
    }
    await vi.advanceTimersByTimeAsync(5000);
    // 5 s of changes: one push per maxDelay (1 s) while the burst lasts, then the trailing one.
    expect(h.started.length).toBeGreaterThanOrEqual(5);
    expect(h.started.length).toBeLessThanOrEqual(7);
    expect(h.started[0]!.at - t0).toBe(1000);
    // The last push started after the last change, so it sent the final value.
    expect(h.started.at(-1)!.at).toBeGreaterThan(lastChange);
    expect(h.maxInFlightPerSku).toBe(1);
    expect(h.coalesced).toBe(1000 - h.started.length);
    // Every entry acknowledged exactly once, and nothing left in memory.
    expect(h.released).toHaveLength(1000);
    expect(new Set(h.released).size).toBe(1000);
    expect(h.scheduler.tracked).toBe(0);
  });

  it('waits for the changes to stop for debounceMs before pushing', async () => {
    const h = harness();
    h.scheduler.entry('default', '1-0', ['MUG']);
    await vi.advanceTimersByTimeAsync(80);
    h.scheduler.entry('default', '1-1', ['MUG']);
    await vi.advanceTimersByTimeAsync(99);
    expect(h.started).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.started).toHaveLength(1);
    expect(h.started[0]!.at - Date.UTC(2026, 0, 1)).toBe(180);
  });

  it('keeps one push in flight per SKU and follows a change made meanwhile with a trailing push', async () => {
    const h = harness({ pushMs: 2000 });
    h.scheduler.entry('default', '1-0', ['MUG']);
    await vi.advanceTimersByTimeAsync(150);
    expect(h.started).toHaveLength(1);
    h.scheduler.entry('default', '1-1', ['MUG']);
    await vi.advanceTimersByTimeAsync(1500);
    expect(h.started).toHaveLength(1);
    // 1-0 was superseded by 1-1, whose push has not even started: only 1-0 may be acknowledged.
    expect(h.released).toEqual(['default/1-0']);
    await vi.advanceTimersByTimeAsync(600);
    expect(h.started).toHaveLength(2);
    expect(h.maxInFlightPerSku).toBe(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(h.released).toEqual(['default/1-0', 'default/1-1']);
    expect(h.scheduler.tracked).toBe(0);
  });

  it('acknowledges an entry of several SKUs only when each of them was pushed', async () => {
    const h = harness();
    h.answer((job, attempt) =>
      job.sku === 'TEE' && attempt === 1 ? { status: 'retry' } : { status: 'done' },
    );
    h.scheduler.entry('default', '1-0', ['MUG', 'TEE', 'MUG']);
    await vi.advanceTimersByTimeAsync(200);
    expect(h.started.map((entry) => entry.sku).sort()).toEqual(['MUG', 'TEE']);
    expect(h.released).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.started.filter((entry) => entry.sku === 'TEE')).toHaveLength(2);
    expect(h.released).toEqual(['default/1-0']);
  });

  it('releases an entry that changed nothing to push at once, and ignores one delivered twice', async () => {
    const h = harness();
    h.scheduler.entry('default', '1-0', []);
    expect(h.released).toEqual(['default/1-0']);
    h.scheduler.entry('default', '1-1', ['MUG']);
    h.scheduler.entry('default', '1-1', ['MUG']);
    await vi.advanceTimersByTimeAsync(500);
    expect(h.started).toHaveLength(1);
    expect(h.released).toEqual(['default/1-0', 'default/1-1']);
  });

  it('pushes a SKU an operator asked for, with no entry to acknowledge', async () => {
    const h = harness();
    h.scheduler.change('default', 'MUG');
    await vi.advanceTimersByTimeAsync(200);
    expect(h.started.map((entry) => entry.sku)).toEqual(['MUG']);
    expect(h.released).toEqual([]);
    expect(h.scheduler.tracked).toBe(0);
  });

  it('runs at most `concurrency` SKUs at once', async () => {
    const h = harness({ concurrency: 2, pushMs: 500 });
    for (const sku of ['A', 'B', 'C', 'D', 'E']) h.scheduler.entry('default', `1-${sku}`, [sku]);
    await vi.advanceTimersByTimeAsync(150);
    expect(h.started).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(h.started).toHaveLength(5);
    expect(h.maxInFlight).toBe(2);
  });
});

describe('PushScheduler retries', () => {
  it('retries only the failed listings after a backoff that doubles', async () => {
    const h = harness();
    h.answer((_job, attempt) =>
      attempt < 3 ? { status: 'retry', listings: ['ebay:us:sku:MUG'] } : { status: 'done' },
    );
    h.scheduler.entry('default', '1-0', ['MUG']);
    await vi.advanceTimersByTimeAsync(100_000);
    const [first, second, third] = h.started;
    expect(h.started).toHaveLength(3);
    expect(first!.only).toBeUndefined();
    expect(second!.only).toEqual(['ebay:us:sku:MUG']);
    // random 0.5: three quarters of base * 2^(n-1), counted from the end of the failed push (50 ms).
    expect(second!.at - first!.at).toBe(50 + 750);
    expect(third!.at - second!.at).toBe(50 + 1500);
    expect(h.released).toEqual(['default/1-0']);
  });

  it('waits at least what the failure asked for (an open breaker) before trying again', async () => {
    const h = harness();
    h.answer((_job, attempt) => (attempt === 1 ? { status: 'retry', afterMs: 30_000 } : { status: 'done' }));
    h.scheduler.entry('default', '1-0', ['MUG']);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.started).toHaveLength(2);
  });

  it('lets a change during the backoff replace the retry with a full push, still after the backoff', async () => {
    const h = harness();
    h.answer((_job, attempt) => (attempt === 1 ? { status: 'retry', listings: ['x'] } : { status: 'done' }));
    h.scheduler.entry('default', '1-0', ['MUG']);
    await vi.advanceTimersByTimeAsync(300);
    h.scheduler.entry('default', '1-1', ['MUG']);
    expect(h.released).toEqual(['default/1-0']);
    await vi.advanceTimersByTimeAsync(400);
    expect(h.started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.started).toHaveLength(2);
    expect(h.started[1]!.only).toBeUndefined();
    expect(h.released).toEqual(['default/1-0', 'default/1-1']);
  });

  it('treats a push that throws as one to retry, and reports the error', async () => {
    const errors: unknown[] = [];
    const h = harness({ onError: (error) => errors.push(error) });
    h.answer((_job, attempt) => {
      if (attempt === 1) throw new Error('mysql down');
      return { status: 'done' };
    });
    h.scheduler.entry('default', '1-0', ['MUG']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(errors).toHaveLength(1);
    expect(h.started).toHaveLength(2);
    expect(h.released).toEqual(['default/1-0']);
  });
});

describe('PushScheduler hand-over and stop', () => {
  it('forgets a tenant without acknowledging its entries and aborts its pushes', async () => {
    const signals: AbortSignal[] = [];
    const h = harness({ pushMs: 1000 });
    h.answer((job) => {
      signals.push(job.signal);
      return { status: 'done' };
    });
    h.scheduler.entry('acme', '1-0', ['MUG']);
    h.scheduler.entry('other', '1-0', ['MUG']);
    await vi.advanceTimersByTimeAsync(150);
    h.scheduler.entry('acme', '1-1', ['TEE']);
    h.scheduler.dropTenant('acme');
    expect(h.scheduler.tracked).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.released).toEqual(['other/1-0']);
    expect(signals.filter((signal) => signal.aborted)).toHaveLength(1);
    expect(h.started.map((entry) => entry.sku)).toEqual(['MUG', 'MUG']);
  });

  it('starts nothing after stop and lets idle() wait for the pushes in flight', async () => {
    const h = harness({ pushMs: 1000 });
    h.scheduler.entry('default', '1-0', ['MUG']);
    h.scheduler.entry('default', '1-1', ['TEE']);
    await vi.advanceTimersByTimeAsync(150);
    h.scheduler.entry('default', '1-2', ['CAP']);
    h.scheduler.stop();
    let idle = false;
    void h.scheduler.idle().then(() => {
      idle = true;
    });
    await vi.advanceTimersByTimeAsync(900);
    expect(idle).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(idle).toBe(true);
    expect(h.started.map((entry) => entry.sku)).toEqual(['MUG', 'TEE']);
    expect(h.released.sort()).toEqual(['default/1-0', 'default/1-1']);
  });
});
