/**
 * The backfill's rows-per-second limit. After a batch of `rows` started at time t, the next one
 * may start at t + rows / rate. The rate is asked again while waiting (at least every
 * `pollMs`), so `tradectl migrate-shards throttle <rows/s>` takes effect within a second, also
 * in the middle of a long wait; 0 means unlimited.
 */
export interface RateGateOptions {
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  pollMs?: number;
}

export class RateGate {
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #pollMs: number;
  #last: { at: number; rows: number } | undefined;

  constructor(options: RateGateOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? sleepFor;
    this.#pollMs = options.pollMs ?? 1000;
  }

  /**
   * Waits until a batch of `rows` may start under the rate `rate()` returns, then records it.
   * Resolves early (without recording) when `signal` aborts.
   */
  async admit(rows: number, rate: () => Promise<number>, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return;
      const limit = await rate();
      const wait =
        this.#last === undefined || limit <= 0
          ? 0
          : this.#last.at + (this.#last.rows / limit) * 1000 - this.#now();
      if (wait <= 0) break;
      await this.#sleep(Math.min(wait, this.#pollMs), signal);
    }
    this.#last = { at: this.#now(), rows };
  }
}

/**
 * Rows per batch under a rate: at most ten seconds' worth, so a low limit is not one long burst
 * and then a long pause. Not less: every batch touches up to every table of the target, so small
 * batches cost a statement per table for a few rows each.
 */
export function batchSizeFor(batchRows: number, rate: number): number {
  return rate > 0 ? Math.max(1, Math.min(batchRows, Math.floor(rate * 10))) : batchRows;
}

/** The `batch_rows` of a plan made without `--batch`: the backfill picks the size (`defaultBatchRows`). */
export const AUTO_BATCH_ROWS = 0;

/** Rows per target orders table and batch that the server-side copy aims for. */
const ROWS_PER_TABLE = 250;

/**
 * The batch size a plan without `--batch` runs with. Batches that pass through this process
 * stay at 50,000 rows (two of them are held at once). The server-side legacy copy holds no rows
 * here, and each of its batches costs three statements per target table whatever the rows, so
 * it sizes batches by the layout: ~250 rows per orders table (1,000,000 at 16 x 256, 64,000 at
 * 4 x 64), between 50,000 and 1,000,000. Measured at 16 x 256 (docs/migrate-shards.md): 500,000
 * rows a batch copied 15.2k rows/s, 1,000,000 rows 20k rows/s.
 */
export function defaultBatchRows(input: { serverCopy: boolean; orderTables: number }): number {
  if (!input.serverCopy) return 50_000;
  return Math.min(1_000_000, Math.max(50_000, input.orderTables * ROWS_PER_TABLE));
}

/** Sleeps `ms`, or less when `signal` aborts (resolves, never rejects). */
export function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
