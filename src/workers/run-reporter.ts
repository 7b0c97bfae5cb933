import type { LimiterBucketInput, RuntimeBreakerState, RuntimeStateWriter } from '../core/runtime-state.js';
import type { AccountSyncResult } from './sync-result.js';

/** The part of a SyncTarget a report reads. */
export interface ReportedTarget {
  resilience?:
    | {
        breaker: { readonly state: RuntimeBreakerState };
        limiter?: { snapshot(): Promise<{ buckets: readonly LimiterBucketInput[] }> } | undefined;
      }
    | undefined;
}

/**
 * What one run reports to the runtime state: the breaker and limiter at its start, its progress
 * (at most once a second, with the limiter queue), and the finished run. Skipped runs report
 * nothing: the lease holder's run is the one in progress.
 */
export class RunReporter {
  static readonly PROGRESS_EVERY_MS = 1000;
  readonly writer: RuntimeStateWriter | undefined;
  readonly target: ReportedTarget;
  readonly result: AccountSyncResult;
  readonly clock: () => number;
  #lastProgress = 0;
  #pending: Promise<void> = Promise.resolve();

  constructor(
    writer: RuntimeStateWriter | undefined,
    target: ReportedTarget,
    result: AccountSyncResult,
    clock: () => number,
  ) {
    this.writer = writer;
    this.target = target;
    this.result = result;
    this.clock = clock;
  }

  async started(): Promise<void> {
    if (!this.writer) return;
    this.#lastProgress = this.clock();
    await Promise.all([this.#running(), this.#breakerAndLimiter()]);
  }

  progress(): void {
    if (!this.writer || this.clock() - this.#lastProgress < RunReporter.PROGRESS_EVERY_MS) return;
    this.#lastProgress = this.clock();
    // Not awaited by the page loop; chained so writes never overtake each other.
    this.#pending = this.#pending.then(() => Promise.all([this.#running(), this.#limiter()])).then(() => {});
  }

  async finished(): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    await this.#pending;
    const { platform, account, error } = this.result;
    await Promise.all([
      this.#breakerAndLimiter(),
      writer.runFinished(platform, account, {
        startedAt: this.result.startedAt,
        finishedAt: this.result.finishedAt,
        outcome: this.result.status === 'ok' ? 'ok' : 'failed',
        fetched: this.result.fetched,
        published: this.result.published,
        rejected: this.result.rejected,
        checkpoint: this.result.checkpoint,
        error: error && {
          code: error.code,
          kind: error.kind,
          message: error.message,
          hint: error.hint ?? null,
        },
      }),
    ]);
  }

  #running(): Promise<void> {
    const { platform, account, startedAt, fencingToken, chunksDone, chunks, fetched } = this.result;
    return this.writer!.running(platform, account, {
      since: startedAt,
      fencingToken,
      chunksDone,
      chunks,
      fetched,
    });
  }

  async #breakerAndLimiter(): Promise<void> {
    const breaker = this.target.resilience?.breaker;
    await Promise.all([
      breaker && this.writer!.breaker(this.result.platform, this.result.account, breaker.state),
      this.#limiter(),
    ]);
  }

  async #limiter(): Promise<void> {
    const limiter = this.target.resilience?.limiter;
    if (!limiter) return;
    let snapshot: { buckets: readonly LimiterBucketInput[] };
    try {
      snapshot = await limiter.snapshot();
    } catch {
      // A Redis bucket that cannot be read now: the next report tries again.
      return;
    }
    await this.writer!.limiter(this.result.platform, this.result.account, snapshot.buckets);
  }
}
