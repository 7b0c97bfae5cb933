import Bottleneck from 'bottleneck';
import type { BucketSnapshot, RateLimit, ScheduleOptions, TokenBucket } from './token-bucket.js';
import type { UsageCorrection } from './usage-headers.js';

/**
 * A token bucket held in this process. bottleneck holds the bucket (`reservoir`, starting at the
 * burst), the queue (arrival order) and `maxConcurrent`; the refill is ours: every tick credits
 * `rate × elapsed` for exactly the time that passed, capped at the burst — the arithmetic of
 * lua/take-tokens-1.lua.
 *
 * Why not bottleneck's `reservoirIncreaseAmount/Interval` (tried first, bottleneck 2.19.5):
 * - its local store adds the amount on the first heartbeat at least an interval after the last
 *   increase and restarts the interval from that (late) heartbeat, so timer lateness is lost on
 *   every increase: measured 84-91% of the allowed rate at 20-100 requests/s (bench/rate-limiter.ts),
 *   below the 90% the budget-bound backfills need; 88% with heartbeat == interval;
 * - `updateSettings` (needed to follow a rate or bucket size the platform reports) stops the
 *   refill for good: `_startHeartbeat` clears a running heartbeat instead of keeping it
 *   (measured: reservoir 0 a second after updateSettings, 9 without).
 * Crediting exact elapsed time loses nothing to timer lateness (measured 99-99.6% at 2-100/s with
 * bursts of 5-40, the rest being tokens still due when a round ends; 90% for a bucket of 1, where
 * the cap clips part of a tick), and rate, size and pauses are plain fields.
 */
export class LocalTokenBucket implements TokenBucket {
  readonly #name: string;
  readonly #limiter: Bottleneck;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #rate: number;
  #burst: number;
  #pausedUntil = 0;
  /** Tokens are credited up to this time; ahead of now during a 429 pause. */
  #creditedUntil: number;
  #busy: Promise<void> = Promise.resolve();
  /** The reservoir was at the burst after the last refill, and nothing took a token since. */
  #full = true;

  constructor(options: { name: string; limit: RateLimit; maxConcurrent: number; now?: () => number }) {
    this.#name = options.name;
    this.#rate = options.limit.ratePerSecond;
    this.#burst = options.limit.burst;
    this.#now = options.now ?? Date.now;
    this.#creditedUntil = this.#now();
    this.#limiter = new Bottleneck({
      id: options.name,
      maxConcurrent: options.maxConcurrent,
      reservoir: this.#burst,
    });
    this.#tick();
  }

  // A quarter token's worth of time per tick (10-250 ms, following the current rate): a waiting
  // call starts at most a tick late, and a tick never adds so much that the burst cap clips what
  // a continuously refilled bucket would have handed out. Background work: unref'ed.
  #tick(): void {
    if (this.#stopped) return;
    const tickMs = Math.min(250, Math.max(10, Math.round(250 / this.#rate)));
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      // A failed refill (the limiter stopping underneath) is retried on the next tick.
      this.#exclusive(() => this.#refill())
        .catch(() => undefined)
        .finally(() => this.#tick());
    }, tickMs);
    this.#timer.unref?.();
  }

  schedule<T>(fn: () => Promise<T>, options: ScheduleOptions = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    // A weight above the bucket size could never be granted: it takes the whole bucket instead.
    const weight = Math.min(Math.max(options.weight ?? 1, 0), this.#burst);
    const job = this.#limiter.schedule({ weight }, async () => {
      this.#full = false;
      signal?.throwIfAborted();
      return fn();
    });
    if (!signal) return job;
    // Bottleneck cannot take a job back out of its queue; the caller stops waiting, and the job
    // gives its turn up without calling fn when it comes.
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      job.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  correct(correction: UsageCorrection): Promise<void> {
    return this.#exclusive(async () => {
      await this.#refill();
      if (correction.ratePerSecond !== undefined) this.#rate = correction.ratePerSecond;
      if (correction.burst !== undefined) this.#burst = correction.burst;
      await this.#lowerTo(Math.min(correction.remaining ?? Number.POSITIVE_INFINITY, this.#burst));
    });
  }

  penalise(ms: number): Promise<void> {
    return this.#exclusive(async () => {
      await this.#refill();
      this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
      // Drained, and nothing accrues before the pause ends.
      this.#creditedUntil = Math.max(this.#creditedUntil, this.#pausedUntil);
      await this.#lowerTo(0);
    });
  }

  async snapshot(): Promise<BucketSnapshot> {
    const counts = this.#limiter.counts();
    return {
      bucket: this.#name,
      backend: 'local',
      ratePerSecond: this.#rate,
      burst: this.#burst,
      tokens: (await this.#limiter.currentReservoir()) ?? 0,
      queued: counts.RECEIVED + counts.QUEUED,
      running: counts.RUNNING + counts.EXECUTING,
      pausedUntil: this.#pausedUntil > this.#now() ? this.#pausedUntil : null,
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#limiter.stop({ dropWaitingJobs: true });
  }

  async #refill(): Promise<void> {
    const now = this.#now();
    if (now <= this.#creditedUntil) return;
    const due = ((now - this.#creditedUntil) * this.#rate) / 1000;
    this.#creditedUntil = now;
    // An idle full bucket costs no reads. A grant during the read below clears the flag again.
    if (this.#full) return;
    this.#full = true;
    const current = (await this.#limiter.currentReservoir()) ?? 0;
    // Grants between the read and the write only lower the reservoir: the cap stays respected.
    const add = Math.min(due, this.#burst - current);
    if (add !== 0) await this.#limiter.incrementReservoir(add);
    if (current + add < this.#burst) this.#full = false;
  }

  // Relative, so a grant made between the read and the write is not undone.
  async #lowerTo(cap: number): Promise<void> {
    this.#full = false;
    const current = (await this.#limiter.currentReservoir()) ?? 0;
    if (current > cap) await this.#limiter.incrementReservoir(cap - current);
  }

  // Refills, corrections and pauses read and then write the reservoir: one at a time.
  #exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.#busy.then(task);
    this.#busy = run.catch(() => undefined);
    return run;
  }
}
