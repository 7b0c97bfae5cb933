import type { Logger } from '../core/logger.js';

/** How a scheduled run ended: `skipped` means another process held the account's lease. */
export type ScheduledRunOutcome = 'ok' | 'failed' | 'skipped';

/** The timer functions the scheduler uses; tests inject fake ones. */
export interface SchedulerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SyncSchedulerOptions<J> {
  /** What to run on the interval (the worker: one sync target per enabled account). */
  jobs: readonly J[];
  /** A job's name in logs and snapshots (`platform:account`); unique. */
  keyOf(job: J): string;
  /**
   * One run of a job (the worker: SyncRunner.syncAccount). `signal` aborts when the scheduler
   * stops; the run should then end between pages. A rejection counts as `failed`.
   */
  run(job: J, signal: AbortSignal): Promise<ScheduledRunOutcome>;
  /** Time between two slots of a job, ms (`sync.intervalSeconds`). */
  intervalMs: number;
  /** Up to this much is added at random to each slot, ms (`sync.jitterSeconds`). */
  jitterMs: number;
  /** Jobs running at once; a job never runs twice at once whatever this is. Default 8. */
  maxConcurrent?: number;
  /**
   * Longest back-off after consecutive failures, in slots: after n failures in a row the next
   * run is min(2^(n-1), maxBackoffSlots) slots after the failed one. Default 8.
   */
  maxBackoffSlots?: number;
  /** Clock, Unix ms. Default `Date.now`. */
  now?: () => number;
  /** Default: the global timers, unref'ed (the scheduler never keeps a process alive by itself). */
  timers?: SchedulerTimers;
  /** Uniform in [0, 1). Default `Math.random`. */
  random?: () => number;
  logger?: Logger;
}

/** One job's state, for logs, tests and `/metrics`. */
export interface ScheduledJobSnapshot {
  key: string;
  running: boolean;
  /** Waiting for a free slot of `maxConcurrent`. */
  queued: boolean;
  /** When the next run is due (Unix ms); null while running, queued, or after stop. */
  nextRunAt: number | null;
  runs: number;
  /** Consecutive failures (0 after a run that did not fail). */
  failures: number;
  /** Slots that passed while a run was still going: folded into one run, never stacked. */
  coalescedSlots: number;
}

interface JobState<J> {
  job: J;
  key: string;
  /** Index of the slot being waited for or run: its time is `origin + slot * interval`. */
  slot: number;
  dueAt: number | null;
  timer: unknown;
  running: boolean;
  queued: boolean;
  runs: number;
  failures: number;
  coalescedSlots: number;
}

const DEFAULT_TIMERS: SchedulerTimers = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs every job on a fixed grid of slots, `start + k * interval`, each slot delayed by its own
 * random jitter. Pure scheduling: no I/O, injected clock and timers (test/unit/sync-scheduler.test.ts).
 *
 * - No drift: the next slot comes from the grid, not from when the last run ended, so run
 *   times and late timers never push the schedule back; jitter is drawn per slot and never
 *   accumulates. The first run of every job is due at start (a worker that starts is behind).
 * - A job never runs twice at once in one process: its next timer is set only when its run ended.
 *   (Two processes are kept apart by the account's Redis lease, not here.)
 * - A run longer than the interval does not stack runs: the slots that passed meanwhile fold into
 *   one run that starts at once, then the grid goes on.
 * - Failures back off: after n failures in a row the next run waits min(2^(n-1), maxBackoffSlots)
 *   slots (1, 2, 4, 8, 8 …), so a platform that is down (or an account whose credentials were
 *   revoked) is not hammered; any run that does not fail resets it.
 * - `stop()` takes no new runs, aborts the running ones (their signal) and waits for them.
 */
export class SyncScheduler<J> {
  readonly #o: SyncSchedulerOptions<J>;
  readonly #now: () => number;
  readonly #timers: SchedulerTimers;
  readonly #random: () => number;
  readonly #maxConcurrent: number;
  readonly #maxBackoffSlots: number;
  readonly #states: JobState<J>[];
  readonly #queue: JobState<J>[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #origin = 0;
  #active = 0;
  #started = false;
  #stopped = false;

  constructor(options: SyncSchedulerOptions<J>) {
    if (!(options.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    if (!(options.jitterMs >= 0)) throw new RangeError('jitterMs must not be negative');
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? DEFAULT_TIMERS;
    this.#random = options.random ?? Math.random;
    this.#maxConcurrent = options.maxConcurrent ?? 8;
    this.#maxBackoffSlots = options.maxBackoffSlots ?? 8;
    if (!Number.isInteger(this.#maxConcurrent) || this.#maxConcurrent < 1)
      throw new RangeError('maxConcurrent must be an integer >= 1');
    const keys = new Set<string>();
    this.#states = options.jobs.map((job) => {
      const key = options.keyOf(job);
      if (keys.has(key)) throw new RangeError(`duplicate job ${key}`);
      keys.add(key);
      return {
        job,
        key,
        slot: 0,
        dueAt: null,
        timer: undefined,
        running: false,
        queued: false,
        runs: 0,
        failures: 0,
        coalescedSlots: 0,
      };
    });
  }

  /** Schedules every job's first run now. Idempotent. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#origin = this.#now();
    for (const state of this.#states) this.#enqueue(state);
    this.#pump();
  }

  /** True once `stop()` was called: no run starts any more. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Runs in progress. */
  get running(): number {
    return this.#active;
  }

  /** Takes no new runs, aborts the running ones, and resolves once they ended. Idempotent. */
  async stop(reason: unknown = new Error('the scheduler stopped')): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      for (const state of this.#states) {
        if (state.timer !== undefined) this.#timers.clearTimeout(state.timer);
        state.timer = undefined;
        state.dueAt = null;
        state.queued = false;
      }
      this.#queue.length = 0;
      this.#abort.abort(reason);
    }
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  snapshot(): ScheduledJobSnapshot[] {
    return this.#states.map((state) => ({
      key: state.key,
      running: state.running,
      queued: state.queued,
      nextRunAt: state.running || state.queued ? null : state.dueAt,
      runs: state.runs,
      failures: state.failures,
      coalescedSlots: state.coalescedSlots,
    }));
  }

  #slotTime(slot: number): number {
    return this.#origin + slot * this.#o.intervalMs;
  }

  #arm(state: JobState<J>, dueAt: number): void {
    state.dueAt = dueAt;
    state.timer = this.#timers.setTimeout(
      () => {
        state.timer = undefined;
        if (this.#stopped) return;
        this.#enqueue(state);
        this.#pump();
      },
      Math.max(0, dueAt - this.#now()),
    );
  }

  #enqueue(state: JobState<J>): void {
    state.queued = true;
    state.dueAt = this.#now();
    this.#queue.push(state);
  }

  #pump(): void {
    while (!this.#stopped && this.#active < this.#maxConcurrent && this.#queue.length > 0) {
      const state = this.#queue.shift()!;
      state.queued = false;
      this.#launch(state);
    }
  }

  #launch(state: JobState<J>): void {
    state.running = true;
    state.dueAt = null;
    this.#active++;
    this.#o.logger?.debug({ job: state.key, slot: state.slot }, 'scheduled sync run starts');
    const done: Promise<void> = this.#runSafely(state).then((outcome) => {
      this.#inFlight.delete(done);
      state.running = false;
      state.runs++;
      this.#active--;
      if (!this.#stopped) {
        this.#reschedule(state, outcome);
        this.#pump();
      }
    });
    this.#inFlight.add(done);
  }

  async #runSafely(state: JobState<J>): Promise<ScheduledRunOutcome> {
    try {
      return await this.#o.run(state.job, this.#abort.signal);
    } catch (error) {
      this.#o.logger?.warn({ err: error, job: state.key }, 'scheduled sync run threw; counted as failed');
      return 'failed';
    }
  }

  #reschedule(state: JobState<J>, outcome: ScheduledRunOutcome): void {
    const now = this.#now();
    const ran = state.slot;
    // The latest slot whose time has come; >= ran, since a run never starts before its slot.
    const latest = Math.max(ran, Math.floor((now - this.#origin) / this.#o.intervalMs));
    if (outcome === 'failed') {
      state.failures++;
      const step = Math.min(2 ** Math.min(state.failures - 1, 30), this.#maxBackoffSlots);
      state.slot = Math.max(ran + step, latest + 1);
      this.#arm(state, this.#slotTime(state.slot) + this.#jitter());
      return;
    }
    state.failures = 0;
    if (latest > ran) {
      // Slots passed while this run was going: one run now stands for all of them.
      state.coalescedSlots += latest - ran;
      state.slot = latest;
      this.#enqueue(state);
      return;
    }
    state.slot = ran + 1;
    this.#arm(state, this.#slotTime(state.slot) + this.#jitter());
  }

  #jitter(): number {
    return this.#o.jitterMs > 0 ? Math.floor(this.#random() * this.#o.jitterMs) : 0;
  }
}
