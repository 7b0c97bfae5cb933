import type { AccountResilience } from '../adapters/resilience/account-resilience.js';
import type { MarketplaceAdapter } from '../adapters/types.js';
import type { AccountLease, AccountLeases } from '../core/account-lease.js';
import type { DeadLetterQueue } from '../core/bus/dlq.js';
import type { OrderBus } from '../core/bus/order-bus.js';
import type { CheckpointStore } from '../core/checkpoint-store.js';
import type { AccountConfig } from '../core/config.js';
import { type LinkedSignal, linkedSignal } from '../core/linked-signal.js';
import type { Logger } from '../core/logger.js';
import type { RuntimeStateWriter } from '../core/runtime-state.js';
import { checkpointAfter, planWindows, type SyncTiming, type SyncWindow } from '../core/sync-window.js';
import type { SyncWindowLog } from '../core/sync-window-log.js';
import { fromEpochMs, type Instant } from '../core/time.js';
import { HandedOffVersions } from './handed-off-versions.js';
import { RunReporter } from './run-reporter.js';
import { handOffChunk } from './sync-chunk.js';
import { type AccountSyncResult, emptyResult, type SyncProgress, summarizeError } from './sync-result.js';

export type { AccountSyncResult, SyncErrorSummary, SyncProgress, SyncStatus } from './sync-result.js';
export { summarizeError } from './sync-result.js';

/**
 * Syncs one account once (docs/sync.md):
 *
 *   lease -> checkpoint -> for each chunk of [checkpoint - lookback, now - lag]:
 *     pages -> publish envelopes / DLQ rejected records -> every hand-off resolved
 *     -> fenced checkpoint write -> sync_windows row
 *
 * A chunk's checkpoint moves only after every order of the chunk was handed off (Kafka acked,
 * or stored by the inline bus's sink). Any error ends the account's run with the checkpoint at
 * the last finished chunk; the next run fetches the rest again. Config errors (revoked
 * credentials) are reported as such: the account needs an operator, not another run.
 */

export interface SyncRunnerOptions {
  bus: OrderBus;
  checkpoints: Pick<CheckpointStore, 'get' | 'advance'>;
  windowLog: Pick<SyncWindowLog, 'record'>;
  leases: AccountLeases;
  /** Where records the adapter could not map go, with their reason and raw payload. */
  dlq: Pick<DeadLetterQueue, 'put'>;
  logger: Logger;
  /** Wall clock, Unix ms: windows, fetchedAt, audit times. Default `Date.now`. */
  clock?: () => number;
  /** Hand-offs of a chunk in flight while the next pages are fetched. Default 4. */
  maxHandoffsInFlight?: number;
  /** Page size asked of the adapters (each caps it at its platform's maximum). Default: the maximum. */
  pageSize?: number;
  /**
   * Where `tradectl status` reads runs, breakers and limiter queues from (src/core/runtime-state.ts).
   * Best effort: its failures never fail a run. None: nothing is reported.
   */
  runtimeState?: RuntimeStateWriter | undefined;
}

export interface SyncTarget {
  account: AccountConfig;
  adapter: MarketplaceAdapter;
  timing: SyncTiming;
  /** The account's resilience, for request counters, the breaker state and (status) the limiter. */
  resilience?: Pick<AccountResilience, 'stats' | 'breaker'> & Partial<Pick<AccountResilience, 'limiter'>>;
}

export interface SyncRunInput {
  since?: Instant | undefined;
  until?: Instant | undefined;
  /** Stops the run between pages (the current chunk's checkpoint does not move). */
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: SyncProgress) => void) | undefined;
}

export class SyncRunner {
  readonly #o: SyncRunnerOptions;
  readonly #clock: () => number;
  // Breakers whose state changes are already reported (each once, for the runner's lifetime).
  readonly #observed = new WeakSet<object>();
  // Versions handed off by this runner, so re-read lookbacks are not published again.
  readonly #handedOff = new HandedOffVersions();

  constructor(options: SyncRunnerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** Never throws: every outcome, failures included, is in the result. */
  async syncAccount(target: SyncTarget, input: SyncRunInput = {}): Promise<AccountSyncResult> {
    const { platform, id: account } = target.account;
    const logger = this.#o.logger.child({ platform, account });
    const result = emptyResult(platform, account, this.#now());
    const before = requestTotals(target);
    const report = new RunReporter(this.#o.runtimeState, target, result, this.#clock);
    this.#observeBreaker(target);
    const progress = (phase: SyncProgress['phase']) => {
      input.onProgress?.({
        platform,
        account,
        phase,
        chunksDone: result.chunksDone,
        chunks: result.chunks,
        fetched: result.fetched,
      });
      if (phase === 'fetching') report.progress();
    };
    progress('leasing');
    let lease: AccountLease | undefined;
    let linked: LinkedSignal | undefined;
    try {
      const acquired = await this.#o.leases.acquire(platform, account);
      if (!acquired.acquired) {
        result.status = 'skipped';
        result.holder = acquired.holder;
        logger.info({ holder: acquired.holder }, 'another process holds the sync lease: skipped');
        progress('skipped');
        return result;
      }
      lease = acquired.lease;
      result.fencingToken = lease.fencingToken;
      await report.started();
      const stored = await this.#o.checkpoints.get(platform, account);
      result.checkpoint = stored?.cursorTime ?? null;
      const plan = planWindows({
        now: this.#clock(),
        timing: target.timing,
        checkpoint: result.checkpoint,
        since: input.since,
        until: input.until,
      });
      result.window = { from: plan.from, to: plan.to };
      this.#handedOff.forgetBefore(`${platform}:${account}`, plan.from);
      result.chunks = plan.chunks.length;
      if (plan.clamped)
        logger.info({ to: plan.to }, '--until is later than now minus the safety lag: pulled back');
      progress('fetching');
      // The caller's signal may live as long as the process: linked, not AbortSignal.any.
      linked = input.signal ? linkedSignal([lease.signal, input.signal]) : undefined;
      const signal = linked?.signal ?? lease.signal;
      for (const chunk of plan.chunks) {
        await this.#syncChunk({
          target,
          lease,
          chunk,
          result,
          signal,
          logger,
          onPage: () => progress('fetching'),
        });
        result.chunksDone++;
        progress('fetching');
      }
      result.status = 'ok';
      progress('done');
    } catch (error) {
      result.status = 'failed';
      result.error = summarizeError(lease?.lost ? lease.signal.reason : error, input.signal);
      const level = result.error.kind === 'config' ? 'error' : 'warn';
      logger[level](
        { err: error, checkpoint: result.checkpoint },
        result.error.kind === 'config'
          ? 'account stopped: it needs an operator (see the hint)'
          : 'sync run failed; the checkpoint stays at the last finished chunk',
      );
      progress('failed');
    } finally {
      linked?.dispose();
      await lease?.release();
      const after = requestTotals(target);
      result.requests = after.requests - before.requests;
      result.throttled = after.throttled - before.throttled;
      result.retries = after.retries - before.retries;
      result.breaker = target.resilience?.breaker.state ?? null;
      result.finishedAt = this.#now();
      if (lease) await report.finished();
    }
    return result;
  }

  #observeBreaker(target: SyncTarget): void {
    const writer = this.#o.runtimeState;
    const breaker = target.resilience?.breaker;
    if (!writer || !breaker || this.#observed.has(breaker)) return;
    this.#observed.add(breaker);
    // Also between runs: an open breaker turns half-open on its own timer.
    breaker.on('stateChange', (change) => void writer.breaker(change.platform, change.account, change.to));
  }

  async #syncChunk(input: {
    target: SyncTarget;
    lease: AccountLease;
    chunk: SyncWindow;
    result: AccountSyncResult;
    signal: AbortSignal;
    logger: Logger;
    onPage: () => void;
  }): Promise<void> {
    const { target, lease, chunk, result, signal } = input;
    const { platform, id: account } = target.account;
    const startedAt = this.#now();
    const requestsBefore = requestTotals(target).requests;
    const listing = await handOffChunk({
      platform,
      account,
      adapter: target.adapter,
      bus: this.#o.bus,
      dlq: this.#o.dlq,
      chunk,
      lease,
      signal,
      now: () => this.#now(),
      logger: input.logger,
      pageSize: this.#o.pageSize,
      maxInFlight: this.#o.maxHandoffsInFlight ?? 4,
      onPage: (page) => {
        result.pages++;
        result.fetched += page.orders;
        result.rejected += page.rejected;
        input.onPage();
      },
      onPublished: (count) => {
        result.published += count;
      },
      handedOff: this.#handedOff,
    });
    // The fenced write is what really protects the checkpoint; this only fails earlier.
    lease.assertHeld();
    const next = checkpointAfter(chunk, result.checkpoint);
    if (next !== null) {
      await this.#o.checkpoints.advance({
        platform,
        account,
        cursorTime: next,
        cursorId: '',
        fencingToken: lease.fencingToken,
      });
      result.checkpoint = next;
    }
    await this.#o.windowLog.record({
      platform,
      account,
      from: chunk.from,
      to: chunk.to,
      orders: listing.orders,
      rejected: listing.rejected,
      pages: listing.pages,
      requests: requestTotals(target).requests - requestsBefore,
      lastUpdatedAt: listing.high?.updatedAt ?? null,
      lastOrderId: listing.high?.platformOrderId ?? null,
      checkpointMoved: next !== null,
      fencingToken: lease.fencingToken,
      via: this.#o.bus.kind,
      startedAt,
      finishedAt: this.#now(),
    });
  }

  #now(): Instant {
    return fromEpochMs(this.#clock());
  }
}

function requestTotals(target: SyncTarget): { requests: number; throttled: number; retries: number } {
  const totals = { requests: 0, throttled: 0, retries: 0 };
  for (const row of target.resilience?.stats.snapshot() ?? []) {
    totals.requests += row.requests;
    totals.throttled += row.throttled;
    totals.retries += row.retries;
  }
  return totals;
}
