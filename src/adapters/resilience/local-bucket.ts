import Bottleneck from 'bottleneck';
import { linkedSignal } from '../../core/linked-signal.js';
import { sleep } from './sleep.js';
import type { BucketSnapshot, RateLimit, ScheduleOptions, TokenBucket } from './token-bucket.js';
import type { UsageCorrection } from './usage-headers.js';

// A call pacing exactly at the rate may land a hair short of a whole token through float rounding.
const EPSILON = 1e-9;

/**
 * A token bucket held in this process. bottleneck keeps the queue (arrival order) and
 * `maxConcurrent`; the bucket is two plain fields, refilled for exactly the time that passed and
 * capped at the burst at the moment a call asks for a token — the arithmetic of
 * lua/take-tokens-1.lua. One waiter at a time sleeps exactly until its tokens are due.
 *
 * Why not bottleneck's `reservoirIncreaseAmount/Interval` (tried first, bottleneck 2.19.5):
 * - its local store adds the amount on the first heartbeat at least an interval after the last
 *   increase and restarts the interval from that (late) heartbeat, so timer lateness is lost on
 *   every increase: measured 84-91% of the allowed rate at 20-100 requests/s (bench/rate-limiter.ts),
 *   below the 90% the budget-bound backfills need; 88% with heartbeat == interval;
 * - `updateSettings` (needed to follow a rate or bucket size the platform reports) stops the
 *   refill for good: `_startHeartbeat` clears a running heartbeat instead of keeping it
 *   (measured: reservoir 0 a second after updateSettings, 9 without).
 * Why not our own ticks crediting bottleneck's reservoir (the version before this one): the cap
 * was applied on the tick, so a grant between two ticks of a nearly full bucket kept the credit
 * the cap should have clipped (up to a quarter token per tick, more when a tick is late), and
 * the strict sandbox bucket refused about one request per budget-bound backfill at 20/s.
 *
 * A request still on its way counts against the cap: tokens + requests in flight never exceed
 * the burst. The platform takes a token when a request arrives, which is later than our grant
 * (a token fetch, the connection, the event loop in between: 20-80 ms against the sandbox).
 * Capping only the tokens let ours refill up to the burst while the platform's, already full,
 * clipped the same time away, and the next request that travelled faster was refused (measured
 * against the strict sandbox bucket). With requests in flight counted until their answer is
 * back, this bucket never holds more than the platform's, whatever the latencies, provided
 * both start full at the same rate. It costs refill only while the bucket is nearly full.
 */
export class LocalTokenBucket implements TokenBucket {
  readonly #name: string;
  readonly #limiter: Bottleneck;
  readonly #now: () => number;
  readonly #stopping = new AbortController();
  #rate: number;
  #burst: number;
  #tokens: number;
  /** Tokens are counted up to this time; ahead of now during a 429 pause. */
  #countedUntil: number;
  #pausedUntil = 0;
  /** Weight granted and not answered yet: the platform may not have counted it. */
  #inFlight = 0;
  #acquiring: Promise<unknown> = Promise.resolve();

  constructor(options: { name: string; limit: RateLimit; maxConcurrent: number; now?: () => number }) {
    this.#name = options.name;
    this.#rate = options.limit.ratePerSecond;
    this.#burst = options.limit.burst;
    this.#tokens = this.#burst;
    this.#now = options.now ?? Date.now;
    this.#countedUntil = this.#now();
    this.#limiter = new Bottleneck({ id: options.name, maxConcurrent: options.maxConcurrent });
  }

  schedule<T>(fn: () => Promise<T>, options: ScheduleOptions = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    // A weight above the bucket size could never be granted: it takes the whole bucket instead.
    const weight = Math.min(Math.max(options.weight ?? 1, 0), this.#burst);
    const job = this.#limiter.schedule(async () => {
      await this.#serialised(() => this.#acquire(weight, signal));
      try {
        return await fn();
      } finally {
        this.#refill(this.#now());
        this.#inFlight -= weight;
      }
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

  async correct(correction: UsageCorrection): Promise<void> {
    this.#refill(this.#now());
    if (correction.ratePerSecond !== undefined) this.#rate = correction.ratePerSecond;
    if (correction.burst !== undefined) this.#burst = correction.burst;
    this.#tokens = Math.min(this.#tokens, correction.remaining ?? Number.POSITIVE_INFINITY, this.#burst);
  }

  async penalise(ms: number): Promise<void> {
    const now = this.#now();
    this.#refill(now);
    this.#pausedUntil = Math.max(this.#pausedUntil, now + ms);
    // Drained, and nothing accrues before the pause ends.
    this.#tokens = 0;
    this.#countedUntil = Math.max(this.#countedUntil, this.#pausedUntil);
  }

  async snapshot(): Promise<BucketSnapshot> {
    const now = this.#now();
    this.#refill(now);
    const counts = this.#limiter.counts();
    return {
      bucket: this.#name,
      backend: 'local',
      ratePerSecond: this.#rate,
      burst: this.#burst,
      // Whole calls that could go now.
      tokens: Math.floor(this.#tokens + EPSILON),
      queued: counts.RECEIVED + counts.QUEUED,
      running: counts.RUNNING + counts.EXECUTING,
      pausedUntil: this.#pausedUntil > now ? this.#pausedUntil : null,
    };
  }

  async stop(): Promise<void> {
    this.#stopping.abort(new Error(`rate limiter ${this.#name} stopped`));
    await this.#limiter.stop({ dropWaitingJobs: true });
  }

  // One call at a time waits for tokens: grants keep arrival order.
  #serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#acquiring.then(task);
    this.#acquiring = run.catch(() => undefined);
    return run;
  }

  /** Waits until `weight` tokens are there and takes them. */
  async #acquire(weight: number, signal: AbortSignal | undefined): Promise<void> {
    // The limiter's stop signal lives as long as the limiter: linked, not AbortSignal.any.
    const linked = signal ? linkedSignal([signal, this.#stopping.signal]) : null;
    const signals = linked?.signal ?? this.#stopping.signal;
    try {
      for (;;) {
        signals.throwIfAborted();
        const now = this.#now();
        this.#refill(now);
        if (now >= this.#pausedUntil && this.#tokens + EPSILON >= weight) {
          this.#tokens = Math.max(0, this.#tokens - weight);
          this.#inFlight += weight;
          return;
        }
        const waitMs =
          now < this.#pausedUntil
            ? this.#pausedUntil - now
            : Math.ceil(((weight - this.#tokens) * 1000) / this.#rate);
        await sleep(Math.max(1, waitMs), signals);
      }
    } finally {
      linked?.dispose();
    }
  }

  #refill(now: number): void {
    if (now <= this.#countedUntil) return;
    const room = Math.max(0, this.#burst - this.#inFlight);
    const refilled = this.#tokens + ((now - this.#countedUntil) * this.#rate) / 1000;
    // Never lowered here: a smaller room (more in flight) only stops the refill.
    this.#tokens = Math.max(this.#tokens, Math.min(room, refilled));
    this.#countedUntil = now;
  }
}
