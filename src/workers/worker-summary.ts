import type { BreakerState } from '../adapters/resilience/breaker.js';
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
  checkpoint: Instant | null;
  lastStatus: SyncStatus | null;
  lastError: SyncErrorSummary | null;
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

  /** Rows in the order accounts were first seen, joined with the sink's counters when given. */
  rows(sink: ReadonlyMap<string, SinkCounters> | null = null): WorkerAccountRow[] {
    return [...this.#rows.entries()].map(([key, row]) => {
      const counters = sink?.get(key);
      const fromSink = (value: number | undefined) => (sink === null ? null : (value ?? 0));
      return {
        ...row,
        new: fromSink(counters?.inserted),
        updated: fromSink(counters?.updated),
        unchanged: fromSink(counters?.unchanged),
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
  'checkpoint',
  'last error',
] as const;

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
    row.checkpoint ?? '-',
    row.lastError ? `${row.lastError.code}: ${row.lastError.message}` : '',
  ];
}
