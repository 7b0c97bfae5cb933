import type { BreakerState } from '../adapters/resilience/breaker.js';
import type { RejectedRecord } from '../adapters/types.js';
import type { LeaseHolder } from '../core/account-lease.js';
import type { DeadLetterInput } from '../core/bus/dlq.js';
import { isTradectlError, TradectlError } from '../core/errors.js';
import { orderKey } from '../core/order.js';
import type { Platform } from '../core/platforms.js';
import type { SyncWindow } from '../core/sync-window.js';
import type { Instant } from '../core/time.js';

/** What one account's sync run reports, and the helpers that build it (used by sync-runner.ts). */
export type SyncStatus = 'ok' | 'failed' | 'skipped';

export interface SyncProgress {
  platform: string;
  account: string;
  phase: 'leasing' | 'fetching' | 'done' | 'failed' | 'skipped';
  chunksDone: number;
  chunks: number;
  fetched: number;
}

export interface SyncErrorSummary {
  code: string;
  kind: string;
  message: string;
  hint: string | undefined;
}

/** One account's run, as the summary shows it. */
export interface AccountSyncResult {
  platform: string;
  account: string;
  status: SyncStatus;
  /** Orders fetched and mapped. */
  fetched: number;
  /** Orders durably handed off to the bus (only counted for finished hand-offs). */
  published: number;
  /** Records the adapter could not map: sent to the DLQ. */
  rejected: number;
  pages: number;
  chunks: number;
  chunksDone: number;
  requests: number;
  throttled: number;
  retries: number;
  breaker: BreakerState | null;
  /** The checkpoint after the run (null: the account was never checkpointed). */
  checkpoint: Instant | null;
  fencingToken: number | null;
  /** The window covered, or null when the lease was not taken. */
  window: SyncWindow | null;
  /** Who holds the lease when skipped. */
  holder: LeaseHolder | null;
  error: SyncErrorSummary | null;
  startedAt: Instant;
  finishedAt: Instant;
}

export function emptyResult(platform: string, account: string, now: Instant): AccountSyncResult {
  return {
    platform,
    account,
    status: 'failed',
    fetched: 0,
    published: 0,
    rejected: 0,
    pages: 0,
    chunks: 0,
    chunksDone: 0,
    requests: 0,
    throttled: 0,
    retries: 0,
    breaker: null,
    checkpoint: null,
    fencingToken: null,
    window: null,
    holder: null,
    error: null,
    startedAt: now,
    finishedAt: now,
  };
}

/** The DLQ entry of a record the adapter could not map: its reason and the payload as received. */
export function rejectedEntry(platform: Platform, account: string, record: RejectedRecord): DeadLetterInput {
  let original: Buffer;
  try {
    original = Buffer.from(JSON.stringify(record.raw) ?? 'null', 'utf8');
  } catch {
    // A payload JSON cannot hold (it came from JSON, so this is only defensive).
    original = Buffer.from(String(record.raw), 'utf8');
  }
  return {
    key: record.platformOrderId
      ? orderKey({ platform, account, platformOrderId: record.platformOrderId })
      : null,
    reason: `adapter rejected the record: ${record.error.message}`,
    original,
    source: null,
    platform,
    account,
  };
}

/** The error as the summary shows it; an abort by the caller is a cancellation. */
export function summarizeError(error: unknown, signal?: AbortSignal): SyncErrorSummary {
  if (signal?.aborted && !isTradectlError(error)) {
    return { code: 'TRADECTL_SYNC_CANCELLED', kind: 'transient', message: 'cancelled', hint: undefined };
  }
  if (isTradectlError(error)) {
    return { code: error.code, kind: error.kind, message: error.message, hint: error.hint };
  }
  const unexpected = new TradectlError(
    'TRADECTL_SYNC_FAILED',
    `unexpected error: ${(error as Error)?.message ?? String(error)}`,
    { kind: 'internal', cause: error },
  );
  return {
    code: unexpected.code,
    kind: unexpected.kind,
    message: unexpected.message,
    hint: 'run with --debug',
  };
}
