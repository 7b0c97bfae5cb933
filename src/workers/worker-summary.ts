import type { BreakerState, BreakerStateChange } from '../adapters/resilience/breaker.js';
import { emptyCounts, type OrderStockCounts } from '../core/order-stock/order-stock-metrics.js';
import type { Instant } from '../core/time.js';
import type { SinkCounters } from './order-sink.js';
import type { AccountSyncResult, SyncErrorSummary, SyncStatus } from './sync-runner.js';

/** One account's runs since the worker started, as its exit summary shows them. */
export interface WorkerAccountRow {
  platform: string;
  account: string;
  runs: number;
  ok: number;
  failed: number;
  skipped: number;
  fetched: number;
  published: number;
  /** Records the adapter could not map (sent to the DLQ). */
  rejected: number;
  /** Stored by the sink of this process (null without the sink role). */
  new: number | null;
  updated: number | null;
  unchanged: number | null;
  requests: number;
  throttled: number;
  retries: number;
  breaker: BreakerState | null;
  /** Times the account's breaker opened (from closed or half-open) since the worker started. */
  breakerTrips: number;
  /**
   * Stock intents of the account's order lines settled by this process (null without the sink
   * role, or with `orderStock.enabled` off): lines deducted, oversold, unmapped..., units taken.
   */
  stock: OrderStockCounts | null;
  checkpoint: Instant | null;
  lastStatus: SyncStatus | null;
  lastError: SyncErrorSummary | null;
}

/** What RunTally.watchBreaker listens to (a PlatformBreaker). */
export interface WatchedBreaker {
  readonly platform: string;
  readonly account: string;
  on(event: 'stateChange', listener: (change: BreakerStateChange) => void): unknown;
}

/** What the summary joins to the run results, per `platform:account`; null: that role does not run here. */
export interface TallyJoin {
  sink?: ReadonlyMap<string, SinkCounters> | null;
  stock?: ReadonlyMap<string, OrderStockCounts> | null;
}

/** Adds up every account's run results (pure; the worker feeds it from the scheduler). */
export class RunTally {
  readonly #rows = new Map<string, WorkerAccountRow>();

  /** Accounts listed before their first run ends, so the summary shows every scheduled one. */
  constructor(accounts: readonly { platform: string; id: string }[] = []) {
    for (const account of accounts) this.#row(account.platform, account.id);
  }

  record(result: AccountSyncResult): void {
    const row = this.#row(result.platform, result.account);
    row.runs++;
    row[result.status]++;
    row.fetched += result.fetched;
    row.published += result.published;
    row.rejected += result.rejected;
    row.requests += result.requests;
    row.throttled += result.throttled;
    row.retries += result.retries;
    row.breaker = result.breaker ?? row.breaker;
    row.checkpoint = result.checkpoint ?? row.checkpoint;
    row.lastStatus = result.status;
    row.lastError = result.error;
  }

  /**
   * Counts the account's breaker trips from its state changes, also those between runs (the
   * push role calls through the same breaker) and those of runs cut short by the shutdown.
   */
  watchBreaker(breaker: WatchedBreaker): void {
    const row = this.#row(breaker.platform, breaker.account);
    breaker.on('stateChange', (change) => {
      row.breaker = change.to;
      if (change.to === 'open') row.breakerTrips++;
    });
  }

  /** Rows in the order accounts were first seen, joined with the sink's and stock counters when given. */
  rows(join: TallyJoin = {}): WorkerAccountRow[] {
    const sink = join.sink ?? null;
    const stock = join.stock ?? null;
    return [...this.#rows.entries()].map(([key, row]) => {
      const counters = sink?.get(key);
      const fromSink = (value: number | undefined) => (sink === null ? null : (value ?? 0));
      const settled = stock?.get(key);
      return {
        ...row,
        new: fromSink(counters?.inserted),
        updated: fromSink(counters?.updated),
        unchanged: fromSink(counters?.unchanged),
        stock: stock === null ? null : { ...(settled ?? emptyCounts()) },
      };
    });
  }

  #row(platform: string, account: string): WorkerAccountRow {
    const key = `${platform}:${account}`;
    let row = this.#rows.get(key);
    if (!row) {
      row = {
        platform,
        account,
        runs: 0,
        ok: 0,
        failed: 0,
        skipped: 0,
        fetched: 0,
        published: 0,
        rejected: 0,
        new: null,
        updated: null,
        unchanged: null,
        requests: 0,
        throttled: 0,
        retries: 0,
        breaker: null,
        breakerTrips: 0,
        stock: null,
        checkpoint: null,
        lastStatus: null,
        lastError: null,
      };
      this.#rows.set(key, row);
    }
    return row;
  }
}

export const WORKER_SUMMARY_HEADERS = [
  'platform',
  'account',
  'runs',
  'ok',
  'failed',
  'skipped',
  'fetched',
  'published',
  'new',
  'updated',
  'unchanged',
  'rejected',
  'requests',
  'throttled',
  'retries',
  'breaker',
  'trips',
  'stock lines',
  'stock units',
  'checkpoint',
  'last error',
] as const;

/** Order lines whose stock was taken: fully, or (oversold) as far as there was stock. */
export function stockLinesDeducted(stock: OrderStockCounts): number {
  return stock.deducted + stock.oversold;
}

/** `120 lines deducted (180 units), 3 unmapped`: problems only when there are some. */
export function describeStock(stock: OrderStockCounts): string {
  const problems = (['oversold', 'unmapped', 'unknown_sku', 'failed'] as const)
    .filter((outcome) => stock[outcome] > 0)
    .map((outcome) => `${stock[outcome]} ${outcome.replace('_', ' ')}`);
  const deducted = `${stockLinesDeducted(stock)} lines deducted (${stock.unitsDeducted} units)`;
  return [deducted, ...problems].join(', ');
}

export function workerSummaryCells(row: WorkerAccountRow): (string | number)[] {
  const optional = (value: number | null) => (value === null ? '-' : value);
  return [
    row.platform,
    row.account,
    row.runs,
    row.ok,
    row.failed,
    row.skipped,
    row.fetched,
    row.published,
    optional(row.new),
    optional(row.updated),
    optional(row.unchanged),
    row.rejected,
    row.requests,
    row.throttled,
    row.retries,
    row.breaker ?? '-',
    row.breakerTrips,
    row.stock ? stockLinesDeducted(row.stock) : '-',
    row.stock ? row.stock.unitsDeducted : '-',
    row.checkpoint ?? '-',
    row.lastError ? `${row.lastError.code}: ${row.lastError.message}` : '',
  ];
}
