/**
 * When each SKU is pushed, and when the stream entries that asked for it may be acknowledged.
 * No I/O: `push` does the work, `release` acknowledges; time and timers are injectable.
 *
 * Per SKU:
 * - **Debounce with a ceiling.** A change schedules a push `debounceMs` after the last change,
 *   but never later than `maxDelayMs` after the first change not yet pushed: a burst of 1,000
 *   sales becomes one push every `maxDelayMs` while it lasts plus a trailing one after it ends.
 * - **One push in flight.** A change arriving meanwhile marks the SKU dirty; the trailing push
 *   starts when the one in flight ends (and its debounce has passed). The push reads the
 *   quantity when it runs, so it always sends the latest value, never one computed earlier.
 * - **Retries.** A push that must be repeated (a transient failure, an open breaker) is tried
 *   again after an exponential backoff with jitter (at least the wait the failure asked for),
 *   only for the listings that failed; a change meanwhile replaces the retry with a full push.
 * - **Acknowledgement.** A SKU holds the newest stream entry that changed it. An older entry is
 *   released as soon as a newer one supersedes it (the newer one's push covers it); the newest is
 *   released when a push that started after it was read has finished. An entry naming several
 *   SKUs is released once every one of them let go of it. A SKU with nothing held and nothing to
 *   do is forgotten, so memory follows the SKUs in motion, not the catalogue.
 */

export interface PushJob {
  tenant: string;
  sku: string;
  /** After a partial failure: the listing keys still to push. Undefined: every listing. */
  only: ReadonlySet<string> | undefined;
  /** Aborted when the scheduler drops the SKU (tenant lease lost) or stops. */
  signal: AbortSignal;
}

export type PushOutcome =
  | { status: 'done' }
  | {
      status: 'retry';
      /** Listing keys to push again; all when absent. */
      listings?: readonly string[];
      /** Wait at least this long (Retry-After, until the breaker's probe), ms. */
      afterMs?: number;
    };

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PushSchedulerOptions {
  debounceMs: number;
  maxDelayMs: number;
  /** SKUs pushed at once. */
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  push(job: PushJob): Promise<PushOutcome>;
  /** An entry no SKU holds any more: acknowledge it. */
  release(tenant: string, entryId: string): void;
  /** A change folded into a push already pending. */
  onCoalesced?(): void;
  /** `push` threw (a bug or an outage it did not classify): logged, then retried like a failure. */
  onError?(error: unknown, job: Pick<PushJob, 'tenant' | 'sku'>): void;
  clock?: () => number;
  /** Uniform in [0, 1), for the retry jitter. */
  random?: () => number;
  timers?: Timers;
}

interface SkuState {
  readonly id: string;
  readonly tenant: string;
  readonly sku: string;
  /** Newest stream entry that changed the SKU and no finished push covers yet. */
  held: string | undefined;
  /** Changed (or failed) since the last push started. */
  dirty: boolean;
  firstAt: number;
  lastAt: number;
  retryAt: number;
  attempts: number;
  only: Set<string> | undefined;
  running: AbortController | undefined;
  timer: unknown;
  queued: boolean;
}

const defaultTimers: Timers = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class PushScheduler {
  readonly #o: PushSchedulerOptions;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #timers: Timers;
  readonly #states = new Map<string, SkuState>();
  /** Stream entries still held, by tenant and id, with how many SKUs hold them. */
  readonly #refs = new Map<string, number>();
  /** Due SKUs waiting for a free slot, in the order they fell due. */
  readonly #ready = new Set<SkuState>();
  #running = 0;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: PushSchedulerOptions) {
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? defaultTimers;
  }

  /** SKUs with a push pending, running or an entry held. */
  get tracked(): number {
    return this.#states.size;
  }

  get running(): number {
    return this.#running;
  }

  /**
   * A stream entry that changed these SKUs. An entry already held (delivered twice) is ignored;
   * one that changed nothing to push is released at once.
   */
  entry(tenant: string, entryId: string, skus: readonly string[]): void {
    const ref = refKey(tenant, entryId);
    if (this.#refs.has(ref) || this.#stopped) return;
    const unique = [...new Set(skus)];
    if (unique.length === 0) {
      this.#o.release(tenant, entryId);
      return;
    }
    this.#refs.set(ref, unique.length);
    for (const sku of unique) this.#change(tenant, sku, entryId);
  }

  /** A change with no stream entry behind it (an operator's re-push): push the SKU soon. */
  change(tenant: string, sku: string): void {
    if (!this.#stopped) this.#change(tenant, sku, undefined);
  }

  /**
   * Forgets a tenant's SKUs without releasing their entries (they stay pending in Redis for
   * whoever takes the tenant over) and aborts their pushes in flight.
   */
  dropTenant(tenant: string): void {
    for (const state of [...this.#states.values()]) {
      if (state.tenant !== tenant) continue;
      this.#forget(state);
      state.running?.abort(new Error(`inventory push of tenant ${tenant} handed over`));
    }
    for (const ref of [...this.#refs.keys()]) if (ref.startsWith(`${tenant}\u0000`)) this.#refs.delete(ref);
  }

  /** Starts nothing more; pushes in flight go on (await `idle()`, or `abortAll()` them). */
  stop(): void {
    this.#stopped = true;
    for (const state of this.#states.values()) this.#clearTimer(state);
    this.#ready.clear();
  }

  abortAll(reason: unknown): void {
    for (const state of this.#states.values()) state.running?.abort(reason);
  }

  /** Resolves when no push is in flight. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #change(tenant: string, sku: string, entryId: string | undefined): void {
    const id = `${tenant}\u0000${sku}`;
    let state = this.#states.get(id);
    if (!state) {
      state = {
        id,
        tenant,
        sku,
        held: undefined,
        dirty: false,
        firstAt: 0,
        lastAt: 0,
        retryAt: 0,
        attempts: 0,
        only: undefined,
        running: undefined,
        timer: undefined,
        queued: false,
      };
      this.#states.set(id, state);
    }
    if (entryId !== undefined) {
      const superseded = state.held;
      state.held = entryId;
      if (superseded !== undefined) this.#unref(tenant, superseded);
    }
    const now = this.#clock();
    if (state.dirty) this.#o.onCoalesced?.();
    else {
      state.dirty = true;
      state.firstAt = now;
    }
    state.lastAt = now;
    // A new value goes to every listing, not only those a retry was about.
    state.only = undefined;
    this.#arm(state);
  }

  #dueAt(state: SkuState): number {
    const debounced = Math.min(state.lastAt + this.#o.debounceMs, state.firstAt + this.#o.maxDelayMs);
    return Math.max(debounced, state.retryAt);
  }

  // While a timer is armed the due time only moves later (lastAt grows, firstAt and retryAt stay),
  // so the timer is not reset on every change: when it fires it re-arms for the new due time.
  #arm(state: SkuState): void {
    if (this.#stopped || state.running || state.queued || !state.dirty || state.timer !== undefined) return;
    const wait = this.#dueAt(state) - this.#clock();
    if (wait > 0) {
      state.timer = this.#timers.setTimeout(() => {
        state.timer = undefined;
        if (this.#states.get(state.id) === state) this.#arm(state);
      }, wait);
      return;
    }
    state.queued = true;
    this.#ready.add(state);
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#o.concurrency && this.#ready.size > 0) {
      const state = this.#ready.values().next().value!;
      this.#ready.delete(state);
      state.queued = false;
      this.#start(state);
    }
  }

  #start(state: SkuState): void {
    const covers = state.held;
    const only = state.only;
    const controller = new AbortController();
    state.dirty = false;
    state.only = undefined;
    state.running = controller;
    this.#running++;
    const job: PushJob = { tenant: state.tenant, sku: state.sku, only, signal: controller.signal };
    Promise.resolve()
      .then(() => this.#o.push(job))
      .catch((error: unknown): PushOutcome => {
        if (!controller.signal.aborted) this.#o.onError?.(error, job);
        return { status: 'retry', ...(only ? { listings: [...only] } : {}) };
      })
      .then((outcome) => this.#finish(state, covers, outcome));
  }

  #finish(state: SkuState, covers: string | undefined, outcome: PushOutcome): void {
    this.#running--;
    state.running = undefined;
    if (this.#states.get(state.id) === state) {
      const now = this.#clock();
      if (outcome.status === 'done') {
        state.attempts = 0;
        state.retryAt = 0;
        if (covers !== undefined && state.held === covers) {
          state.held = undefined;
          this.#unref(state.tenant, covers);
        }
      } else {
        state.attempts++;
        state.retryAt = now + this.#backoff(state.attempts, outcome.afterMs);
        if (!state.dirty) {
          state.dirty = true;
          state.firstAt = now;
          state.lastAt = now;
          state.only = outcome.listings ? new Set(outcome.listings) : undefined;
        }
      }
      if (!state.dirty && state.held === undefined) this.#states.delete(state.id);
      else this.#arm(state);
    }
    this.#pump();
    if (this.#running === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  // Exponential, with jitter over its upper half so retries of many SKUs spread out.
  #backoff(attempt: number, atLeastMs = 0): number {
    const ceiling = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(attempt - 1, 30));
    const jittered = Math.floor(ceiling / 2 + (this.#random() * ceiling) / 2);
    return Math.max(jittered, Math.min(atLeastMs, this.#o.retryMaxMs));
  }

  #unref(tenant: string, entryId: string): void {
    const ref = refKey(tenant, entryId);
    const count = this.#refs.get(ref);
    if (count === undefined) return;
    if (count > 1) this.#refs.set(ref, count - 1);
    else {
      this.#refs.delete(ref);
      this.#o.release(tenant, entryId);
    }
  }

  #forget(state: SkuState): void {
    this.#clearTimer(state);
    this.#ready.delete(state);
    state.queued = false;
    this.#states.delete(state.id);
  }

  #clearTimer(state: SkuState): void {
    if (state.timer === undefined) return;
    this.#timers.clearTimeout(state.timer);
    state.timer = undefined;
  }
}

function refKey(tenant: string, entryId: string): string {
  return `${tenant}\u0000${entryId}`;
}
