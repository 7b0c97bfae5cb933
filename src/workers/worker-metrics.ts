import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from '../adapters/resilience/breaker.js';
import type { HttpCounter, PlatformHttpMetrics } from '../adapters/resilience/http-stats.js';
import type { OrderBus } from '../core/bus/order-bus.js';
import type { CheckpointRecord } from '../core/checkpoint-store.js';
import type { Logger } from '../core/logger.js';
import type { AccountTarget } from './account-targets.js';
import type { PartitionLag } from './consumer-lag.js';
import type { LedgerLag } from './ledger-lag.js';
import type { OrderSink, SinkCounters } from './order-sink.js';
import type { AccountSyncResult } from './sync-runner.js';

/**
 * The worker's Prometheus metrics (docs/metrics.md), all in one registry served by /metrics.
 * Counters the worker drives itself (runs, HTTP calls, upserts) move as things happen; the rest
 * is read from its sources when scraped (breakers, limiters, checkpoints, sink totals, ledger)
 * or from the last periodic sample (Kafka consumer lag). A source that fails while scraped keeps
 * its last values and is logged at debug: a scrape never fails because MySQL is slow.
 */
export interface WorkerMetricSources {
  /** Scheduled accounts: breaker state, limiter queues, and whose sync lag to show. */
  targets: readonly AccountTarget[];
  /** Every checkpoint (CheckpointStore.list). */
  checkpoints: () => Promise<CheckpointRecord[]>;
  sink: Pick<OrderSink, 'byAccount'>;
  bus: Pick<OrderBus, 'kind' | 'stats'>;
  /** The sink's consumer group (label of the consumer lag). */
  groupId: string;
  ledgerLag: () => Promise<LedgerLag[]>;
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

const HTTP_COUNTERS: Record<HttpCounter, { name: string; help: string }> = {
  requests: {
    name: 'tradectl_platform_requests_total',
    help: 'HTTP requests sent to a marketplace (every attempt), by platform, account and operation',
  },
  throttled: {
    name: 'tradectl_platform_throttled_total',
    help: 'Answers that throttled us (429 and the like), by platform, account and operation',
  },
  retries: {
    name: 'tradectl_platform_retries_total',
    help: 'Waits before another attempt of a marketplace call, by platform, account and operation',
  },
  failures: {
    name: 'tradectl_platform_failures_total',
    help: 'Marketplace calls that failed for good (after retries), by platform, account and operation',
  },
  authRefreshes: {
    name: 'tradectl_platform_token_refreshes_total',
    help: 'Repeats after a marketplace rejected an expired access token',
  },
};

const SINK_RESULTS: Record<Exclude<keyof SinkCounters, 'received'>, string> = {
  inserted: 'inserted',
  updated: 'updated',
  unchanged: 'unchanged',
  superseded: 'superseded',
  deadLettered: 'dead_lettered',
};

export class WorkerMetrics {
  readonly registry: Registry;
  /** The exporter behind every account's PlatformHttp (AccountTargetsOptions.httpMetrics). */
  readonly http: PlatformHttpMetrics;
  readonly #sources: Partial<WorkerMetricSources> = {};
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #runs: Counter<'platform' | 'account' | 'outcome'>;
  readonly #runSeconds: Histogram<'platform'>;
  readonly #fetched: Counter<'platform' | 'account'>;
  readonly #lastSuccess: Gauge<'platform' | 'account'>;
  readonly #upsert: Histogram;
  readonly #consumerLag: Gauge<'group' | 'topic' | 'partition'>;
  readonly #consumerLagSampled: Gauge;
  readonly #ready: Gauge;

  constructor(options: { clock?: () => number; logger: Logger; registry?: Registry }) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger.child({ component: 'metrics' });
    const registers = [registry];
    collectDefaultMetrics({ register: registry, prefix: 'tradectl_' });
    const self = this;

    const httpCounters = Object.fromEntries(
      Object.entries(HTTP_COUNTERS).map(([key, spec]) => [
        key,
        new Counter({ ...spec, labelNames: ['platform', 'account', 'operation'] as const, registers }),
      ]),
    ) as Record<HttpCounter, Counter<'platform' | 'account' | 'operation'>>;
    this.http = { increment: (counter, labels) => httpCounters[counter].inc({ ...labels }) };

    this.#runs = new Counter({
      name: 'tradectl_sync_runs_total',
      help: 'Finished sync runs by outcome: ok, failed, or skipped (another process held the lease)',
      labelNames: ['platform', 'account', 'outcome'] as const,
      registers,
    });
    this.#runSeconds = new Histogram({
      name: 'tradectl_sync_run_duration_seconds',
      help: 'Duration of one sync run of one account',
      labelNames: ['platform'] as const,
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.#fetched = new Counter({
      name: 'tradectl_sync_orders_fetched_total',
      help: 'Orders fetched from a marketplace and handed to the bus',
      labelNames: ['platform', 'account'] as const,
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'tradectl_sync_last_success_timestamp_seconds',
      help: 'Unix time at which the last successful sync run of an account ended',
      labelNames: ['platform', 'account'] as const,
      registers,
    });
    new Gauge({
      name: 'tradectl_sync_lag_seconds',
      help: "Seconds between now and an account's checkpoint (what is synced is at least this old)",
      labelNames: ['platform', 'account'] as const,
      registers,
      async collect() {
        const { targets, checkpoints } = self.#sources;
        if (!targets || !checkpoints) return;
        const rows = await self.#read('checkpoints', checkpoints);
        if (!rows) return;
        const scheduled = new Set(targets.map((target) => `${target.account.platform}:${target.account.id}`));
        const now = self.#clock();
        for (const row of rows) {
          if (!scheduled.has(`${row.platform}:${row.account}`)) continue;
          const lag = (now - Date.parse(row.cursorTime)) / 1000;
          this.set({ platform: row.platform, account: row.account }, Math.max(0, lag));
        }
      },
    });
    new Gauge({
      name: 'tradectl_breaker_state',
      help: "State of an account's circuit breaker: 0 closed, 1 half-open, 2 open",
      labelNames: ['platform', 'account'] as const,
      registers,
      collect() {
        for (const { account, resilience } of self.#sources.targets ?? []) {
          this.set(
            { platform: account.platform, account: account.id },
            BREAKER_VALUE[resilience.breaker.state],
          );
        }
      },
    });
    new Gauge({
      name: 'tradectl_limiter_queued',
      help: "Calls of this process waiting in an account's rate limiter, by bucket (operation class)",
      labelNames: ['platform', 'account', 'bucket'] as const,
      registers,
      async collect() {
        for (const { account, resilience } of self.#sources.targets ?? []) {
          const snapshot = await self.#read('limiter', () => resilience.limiter.snapshot());
          for (const bucket of snapshot?.buckets ?? []) {
            const name = bucket.bucket.split(':').at(-1) ?? bucket.bucket;
            this.set({ platform: account.platform, account: account.id, bucket: name }, bucket.queued);
          }
        }
      },
    });
    this.#upsert = new Histogram({
      name: 'tradectl_sink_upsert_duration_seconds',
      help: "One upsertBatch of the order sink (one account's orders of a batch), commit included",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    new Counter({
      name: 'tradectl_sink_orders_total',
      help: 'Orders the sink of this process handled, by result: inserted, updated, unchanged, superseded, dead_lettered',
      labelNames: ['platform', 'account', 'result'] as const,
      registers,
      collect() {
        const sink = self.#sources.sink;
        if (!sink) return;
        // The sink keeps monotonic totals; the counter is set to them on every scrape.
        this.reset();
        for (const [key, counters] of sink.byAccount()) {
          const [platform = '', account = ''] = key.split(':');
          for (const [field, result] of Object.entries(SINK_RESULTS)) {
            this.inc({ platform, account, result }, counters[field as keyof SinkCounters]);
          }
        }
      },
    });
    new Counter({
      name: 'tradectl_bus_dead_lettered_total',
      help: 'Messages put in the dead letter queue by this process (undecodable ones and those the sink refused)',
      registers,
      collect() {
        const bus = self.#sources.bus;
        if (!bus) return;
        this.reset();
        this.inc(bus.stats().deadLettered);
      },
    });
    new Counter({
      name: 'tradectl_bus_handler_retries_total',
      help: 'Sink batches that failed (database down, deadlock) and were retried',
      registers,
      collect() {
        const bus = self.#sources.bus;
        if (!bus) return;
        this.reset();
        this.inc(bus.stats().handlerRetries);
      },
    });
    this.#consumerLag = new Gauge({
      name: 'tradectl_consumer_lag_messages',
      help: 'Messages not yet stored by the sink group: Kafka high watermark - committed offset per partition (sampled); inline: queued',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers,
      collect() {
        const { bus, groupId } = self.#sources;
        if (bus?.kind !== 'inline' || groupId === undefined) return;
        this.set({ group: groupId, topic: 'inline', partition: 'all' }, bus.stats().lag ?? 0);
      },
    });
    this.#consumerLagSampled = new Gauge({
      name: 'tradectl_consumer_lag_sampled_timestamp_seconds',
      help: 'Unix time of the last successful Kafka consumer lag sample',
      registers,
    });
    new Gauge({
      name: 'tradectl_ledger_lag_entries',
      help: "Stock changes in a tenant's Redis stream not yet applied to MySQL by the ledger drain",
      labelNames: ['tenant'] as const,
      registers,
      async collect() {
        const rows = self.#sources.ledgerLag && (await self.#read('ledger lag', self.#sources.ledgerLag));
        for (const row of rows ?? []) this.set({ tenant: row.tenant }, row.entries);
      },
    });
    new Gauge({
      name: 'tradectl_ledger_lag_seconds',
      help: 'Age of the oldest stock change of a tenant not yet applied to MySQL (0 when none)',
      labelNames: ['tenant'] as const,
      registers,
      async collect() {
        const rows = self.#sources.ledgerLag && (await self.#read('ledger lag', self.#sources.ledgerLag));
        for (const row of rows ?? []) this.set({ tenant: row.tenant }, row.oldestAgeSeconds);
      },
    });
    this.#ready = new Gauge({
      name: 'tradectl_worker_ready',
      help: '1 while the worker is started and not shutting down (what /readyz reports), else 0',
      registers,
    });
    this.#ready.set(0);
  }

  /** Adds sources as the roles start (a worker without a sink role has no sink). */
  watch(sources: Partial<WorkerMetricSources>): void {
    Object.assign(this.#sources, sources);
  }

  recordRun(result: AccountSyncResult, seconds: number): void {
    const labels = { platform: result.platform, account: result.account };
    this.#runs.inc({ ...labels, outcome: result.status });
    this.#runSeconds.observe({ platform: result.platform }, seconds);
    this.#fetched.inc(labels, result.fetched);
    if (result.status === 'ok') this.#lastSuccess.set(labels, Date.parse(result.finishedAt) / 1000);
  }

  observeUpsert(seconds: number): void {
    this.#upsert.observe(seconds);
  }

  /** A Kafka lag sample of the sink group (consumer-lag.ts). */
  setConsumerLag(groupId: string, partitions: readonly PartitionLag[]): void {
    for (const entry of partitions) {
      this.#consumerLag.set(
        { group: groupId, topic: entry.topic, partition: String(entry.partition) },
        entry.lag,
      );
    }
    this.#consumerLagSampled.set(this.#clock() / 1000);
  }

  setReady(ready: boolean): void {
    this.#ready.set(ready ? 1 : 0);
  }

  async #read<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      this.#logger.debug({ err: error }, `metrics: reading ${what} failed; keeping the last values`);
      return undefined;
    }
  }
}
