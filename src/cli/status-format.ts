import { type Instant, toEpochMs } from '../core/time.js';
import type { AccountStatus, StatusReport } from '../workers/status-report.js';
import type { Cell } from './output.js';

/** How `tradectl status` shows a report on a terminal (pure, so tests can pin it down). */

export const ACCOUNT_HEADERS = [
  'platform',
  'account',
  'checkpoint',
  'lag',
  'last window',
  'lease',
  'breaker',
  'queue',
  'last run',
  'dlq',
] as const;

export function accountCells(row: AccountStatus, now: number): Cell[] {
  return [
    row.platform,
    row.enabled ? row.account : `${row.account} (disabled)`,
    row.checkpoint ? shortTime(row.checkpoint.cursorTime) : 'never synced',
    row.lagSeconds === null ? null : duration(row.lagSeconds),
    row.lastWindow
      ? `${row.lastWindow.orders} orders, ${ago(row.lastWindow.finishedAt, now)} (${row.lastWindow.via})`
      : null,
    row.lease
      ? `${row.lease.owner} #${row.lease.fencingToken}${row.running ? `, ${row.running.fetched} fetched` : ''}`
      : 'free',
    row.breaker?.state ?? null,
    row.limiter ? `${row.limiter.queued} queued` : null,
    lastRun(row, now),
    row.dlqOpen,
  ];
}

function lastRun(row: AccountStatus, now: number): string | null {
  const run = row.lastRun;
  if (!run) return row.lastError ? `error ${ago(row.lastError.at, now)}: ${row.lastError.code}` : null;
  const text = `${run.outcome} ${ago(run.finishedAt, now)}, ${run.published} published`;
  return run.error ? `${text}: ${run.error.code}` : text;
}

export const WORKER_HEADERS = ['worker', 'roles', 'started', 'last seen'] as const;

export function workerCells(worker: NonNullable<StatusReport['workers']>[number], now: number): Cell[] {
  return [
    worker.id,
    worker.roles.join(','),
    ago(worker.startedAt, now),
    `${ago(worker.lastSeenAt, now)}${worker.stale ? ' (stale)' : ''}`,
  ];
}

/** The lines under the tables: DLQ and Kafka totals, errors worth a second look. */
export function summaryLines(report: StatusReport, now: number): string[] {
  const lines: string[] = [];
  if (report.dlq) {
    lines.push(
      report.dlq.open === 0
        ? 'dead letter queue: empty'
        : `dead letter queue: ${report.dlq.open} open (tradectl dlq list)`,
    );
  }
  if (report.kafka) {
    lines.push(
      `kafka: sink group ${report.kafka.groupId} is ${report.kafka.lag} message(s) behind on ${report.kafka.topic}`,
    );
  }
  for (const row of report.accounts) {
    const error = row.lastError;
    // Only errors newer than the last good run: an old, healed one is history, not news.
    if (error && !(row.lastRun?.outcome === 'ok' && row.lastRun.finishedAt > error.at)) {
      lines.push(`${row.platform}:${row.account}: ${error.code} ${ago(error.at, now)}: ${error.message}`);
      if (error.hint) lines.push(`  hint: ${error.hint}`);
    }
  }
  return lines;
}

/** `45s`, `12m05s`, `3h07m`, `2d04h`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

export function ago(instant: Instant, now: number): string {
  return `${duration((now - toEpochMs(instant)) / 1000)} ago`;
}

/** `2026-03-01 10:00:00Z`: seconds are enough on a terminal; --json has the milliseconds. */
function shortTime(instant: Instant): string {
  return `${instant.slice(0, 10)} ${instant.slice(11, 19)}Z`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
