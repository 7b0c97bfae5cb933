import type { AccountConfig, Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Platform } from '../core/platforms.js';
import type { AccountRuntimeState } from '../core/runtime-state.js';
import { fromEpochMs, type Instant, toEpochMs } from '../core/time.js';
import type { WorkerStatus } from '../core/worker-registry.js';
import type { PartitionLag } from './consumer-lag.js';
import {
  readKafkaSection,
  readMysqlSection,
  readRedisSection,
  type SectionResult,
  type StatusProblem,
} from './status-sections.js';

export type { StatusProblem } from './status-sections.js';

/**
 * `tradectl status`: one report per configured account, assembled only from shared state, so it
 * works from any machine while workers run and never takes a lease:
 *
 *   MySQL  checkpoints, the last finished window, open DLQ entries
 *   Redis  the lease holder, breaker, limiter queue, current and last run, live workers
 *   Kafka  the sink group's lag on the orders topic (when kafka.brokers is set)
 *
 * The three are read at once, each with its own time budget; a server that cannot be reached is
 * a problem named in the report (the CLI exits 1) and its columns stay empty, the rest is shown.
 */
export interface StatusOptions {
  config: Config;
  logger: Logger;
  platform?: Platform | undefined;
  account?: string | undefined;
  /** Wall clock, Unix ms (lag, staleness). Default `Date.now`. */
  clock?: () => number;
  /** Time budget of each server, ms. Default 8,000. */
  timeoutMs?: number;
}

export interface AccountStatus {
  platform: string;
  account: string;
  enabled: boolean;
  checkpoint: { cursorTime: Instant; updatedAt: Instant; fencingToken: number } | null;
  /** Seconds from the checkpoint to now (never below the safety lag); null before the first sync. */
  lagSeconds: number | null;
  lastWindow: {
    from: Instant;
    to: Instant;
    orders: number;
    rejected: number;
    pages: number;
    requests: number;
    via: 'kafka' | 'inline';
    startedAt: Instant;
    finishedAt: Instant;
  } | null;
  /** Who syncs the account right now; null when nobody does. */
  lease: { owner: string; fencingToken: number; expiresInMs: number } | null;
  breaker: AccountRuntimeState['breaker'];
  limiter: AccountRuntimeState['limiter'];
  running: AccountRuntimeState['running'];
  lastRun: AccountRuntimeState['lastRun'];
  lastError: AccountRuntimeState['lastError'];
  /** Open dead letter entries of the account (null: MySQL not read). */
  dlqOpen: number | null;
}

export interface StatusReport {
  generatedAt: Instant;
  accounts: AccountStatus[];
  /** Live workers (null: Redis not read). */
  workers: WorkerStatus[] | null;
  /** Open entries of every account, including ones no configured account owns. */
  dlq: { open: number } | null;
  /** Null when Kafka is not configured (inline bus) or could not be read. */
  kafka: { topic: string; groupId: string; lag: number; partitions: PartitionLag[] } | null;
  /** Servers that could not be read, and why. Empty: everything was read. */
  problems: StatusProblem[];
}

export async function collectStatus(options: StatusOptions): Promise<StatusReport> {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 8000;
  const accounts = selectConfigured(config, options.platform, options.account);
  const ids = accounts.map((account) => ({ platform: account.platform, account: account.id }));
  const problems: StatusProblem[] = [];
  const settle = async <T>(read: Promise<SectionResult<T>>): Promise<T | null> => {
    const result = await read;
    if (result.ok) return result.value;
    problems.push(result.problem);
    return null;
  };
  const [mysql, redis, kafka] = await Promise.all([
    settle(readMysqlSection({ config, accounts: ids, timeoutMs })),
    settle(readRedisSection({ config, accounts: ids, timeoutMs, clock, logger: options.logger })),
    config.kafka.brokers.length === 0
      ? null
      : settle(readKafkaSection({ config, timeoutMs, logger: options.logger })),
  ]);
  const now = clock();
  return {
    generatedAt: fromEpochMs(now),
    accounts: accounts.map((account, index) => {
      const key = `${account.platform}:${account.id}`;
      const checkpoint = mysql?.checkpoints.get(key) ?? null;
      const state = redis?.states[index];
      const window = mysql?.windows[index] ?? null;
      return {
        platform: account.platform,
        account: account.id,
        enabled: account.enabled,
        checkpoint,
        lagSeconds:
          checkpoint === null
            ? null
            : Math.max(0, Math.floor((now - toEpochMs(checkpoint.cursorTime)) / 1000)),
        lastWindow:
          window === null
            ? null
            : {
                from: window.from,
                to: window.to,
                orders: window.orders,
                rejected: window.rejected,
                pages: window.pages,
                requests: window.requests,
                via: window.via,
                startedAt: window.startedAt,
                finishedAt: window.finishedAt,
              },
        lease: redis?.leases[index] ?? null,
        breaker: state?.breaker ?? null,
        limiter: state?.limiter ?? null,
        // A run whose process died leaves `running` behind; without a lease nobody is running.
        running: redis?.leases[index] ? (state?.running ?? null) : null,
        lastRun: state?.lastRun ?? null,
        lastError: state?.lastError ?? null,
        dlqOpen: mysql ? (mysql.dlqOpen.get(key) ?? 0) : null,
      };
    }),
    workers: redis?.workers ?? null,
    dlq: mysql ? { open: mysql.dlqTotal } : null,
    kafka,
    problems,
  };
}

/** Configured accounts (enabled or not) matching the filters; none is a usage error. */
export function selectConfigured(
  config: Pick<Config, 'accounts'>,
  platform?: Platform,
  account?: string,
): AccountConfig[] {
  const selected = config.accounts.filter(
    (entry) =>
      (platform === undefined || entry.platform === platform) &&
      (account === undefined || entry.id === account),
  );
  if (selected.length === 0 && (platform !== undefined || account !== undefined)) {
    const filters = [platform && `--platform ${platform}`, account && `--account ${account}`].filter(Boolean);
    const known = config.accounts.map((entry) => `${entry.platform}:${entry.id}`);
    throw new UsageError(
      `no configured account matches ${filters.join(' ')}`,
      known.length > 0 ? `configured accounts: ${known.join(', ')}` : 'the configuration has no accounts',
    );
  }
  return selected;
}
