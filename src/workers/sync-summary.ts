import type { BreakerState } from '../adapters/resilience/breaker.js';
import type { Instant } from '../core/time.js';
import type { SinkCounters } from './order-sink.js';
import type { AccountSyncResult, SyncErrorSummary, SyncStatus } from './sync-runner.js';

/**
 * The summary of a `tradectl sync` run, as pure functions (test/unit/sync-summary.test.ts).
 *
 * new/updated/unchanged come from the sink. Through the inline bus the sink in this process
 * stored exactly what this run published, so they are this run's figures. Through Kafka the
 * sink's consumer group may share partitions with other processes and this process may store
 * older backlog, so they are left out (null): fetched and published are the run's own figures.
 */
export interface AccountSummaryRow {
  platform: string;
  account: string;
  status: SyncStatus;
  fetched: number;
  published: number;
  new: number | null;
  updated: number | null;
  unchanged: number | null;
  /** Records that could not be stored: rejected by the adapter, or quarantined by the sink. */
  failed: number;
  requests: number;
  throttled: number;
  retries: number;
  breaker: BreakerState | null;
  chunks: number;
  chunksDone: number;
  window: { from: Instant; to: Instant } | null;
  checkpoint: Instant | null;
  fencingToken: number | null;
  /** Why the account was skipped (lease holder) or failed. */
  note: string | null;
  error: SyncErrorSummary | null;
}

export type SyncOutcome = 'ok' | 'partial' | 'failed';

export interface SyncSummary {
  via: 'kafka' | 'inline';
  outcome: SyncOutcome;
  accounts: AccountSummaryRow[];
  totals: Omit<
    AccountSummaryRow,
    | 'platform'
    | 'account'
    | 'status'
    | 'breaker'
    | 'window'
    | 'checkpoint'
    | 'fencingToken'
    | 'note'
    | 'error'
    | 'chunks'
    | 'chunksDone'
  > & {
    ok: number;
    failedAccounts: number;
    skipped: number;
  };
  /** A problem of the run as a whole (Kafka: published orders not all stored in time). */
  error: SyncErrorSummary | null;
}

/**
 * Joins the runner's results with the sink's counters (`platform:account` -> counters, or null
 * through Kafka). Outcome: `failed` when no account succeeded and at least one failed (or the
 * run as a whole failed), `partial` when some failed and others succeeded, else `ok`. A skipped
 * account (another process holds its lease and is syncing it) is not a failure.
 */
export function summarizeSync(input: {
  via: 'kafka' | 'inline';
  results: readonly AccountSyncResult[];
  sink: ReadonlyMap<string, SinkCounters> | null;
  error?: SyncErrorSummary | null;
}): SyncSummary {
  const accounts = input.results.map((result): AccountSummaryRow => {
    const sink = input.sink?.get(`${result.platform}:${result.account}`);
    const fromSink = (value: number | undefined) => (input.sink === null ? null : (value ?? 0));
    return {
      platform: result.platform,
      account: result.account,
      status: result.status,
      fetched: result.fetched,
      published: result.published,
      new: fromSink(sink?.inserted),
      updated: fromSink(sink?.updated),
      unchanged: fromSink(sink?.unchanged),
      failed: result.rejected + (sink?.deadLettered ?? 0),
      requests: result.requests,
      throttled: result.throttled,
      retries: result.retries,
      breaker: result.breaker,
      chunks: result.chunks,
      chunksDone: result.chunksDone,
      window: result.window,
      checkpoint: result.checkpoint,
      fencingToken: result.fencingToken,
      note: noteOf(result),
      error: result.error,
    };
  });
  const sum = (pick: (row: AccountSummaryRow) => number | null) =>
    accounts.reduce((total, row) => total + (pick(row) ?? 0), 0);
  const failedAccounts = accounts.filter((row) => row.status === 'failed').length;
  const ok = accounts.filter((row) => row.status === 'ok').length;
  const error = input.error ?? null;
  const outcome: SyncOutcome =
    error !== null || (failedAccounts > 0 && ok === 0) ? 'failed' : failedAccounts > 0 ? 'partial' : 'ok';
  return {
    via: input.via,
    outcome,
    accounts,
    totals: {
      fetched: sum((row) => row.fetched),
      published: sum((row) => row.published),
      new: input.sink === null ? null : sum((row) => row.new),
      updated: input.sink === null ? null : sum((row) => row.updated),
      unchanged: input.sink === null ? null : sum((row) => row.unchanged),
      failed: sum((row) => row.failed),
      requests: sum((row) => row.requests),
      throttled: sum((row) => row.throttled),
      retries: sum((row) => row.retries),
      ok,
      failedAccounts,
      skipped: accounts.filter((row) => row.status === 'skipped').length,
    },
    error,
  };
}

function noteOf(result: AccountSyncResult): string | null {
  if (result.status === 'skipped') {
    return result.holder
      ? `lease held by ${result.holder.owner} (token ${result.holder.fencingToken})`
      : 'lease held by another process';
  }
  if (result.error) return `${result.error.code}: ${result.error.message}`;
  return null;
}

/** Table cells of the human summary, in `SUMMARY_HEADERS` order. */
export const SUMMARY_HEADERS = [
  'platform',
  'account',
  'status',
  'fetched',
  'published',
  'new',
  'updated',
  'unchanged',
  'failed',
  'requests',
  'throttled',
  'retries',
  'breaker',
  'checkpoint',
  'note',
] as const;

export function summaryCells(row: AccountSummaryRow): (string | number)[] {
  const optional = (value: number | null) => (value === null ? '-' : value);
  return [
    row.platform,
    row.account,
    row.status,
    row.fetched,
    row.published,
    optional(row.new),
    optional(row.updated),
    optional(row.unchanged),
    row.failed,
    row.requests,
    row.throttled,
    row.retries,
    row.breaker ?? '-',
    row.checkpoint ?? '-',
    row.note ?? '',
  ];
}
