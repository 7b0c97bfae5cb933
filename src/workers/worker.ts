import type { Registry } from 'prom-client';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { OrderStockCounts, OrderStockStats } from '../core/order-stock/order-stock-metrics.js';
import { registerWorkerHeartbeat, type WorkerHeartbeat } from '../core/worker-registry.js';
import type { ReadinessCheck, ReadinessReport } from './http-api.js';
import type { OrderSink, SinkCounters } from './order-sink.js';
import { WorkerContext, type WorkerTuning } from './worker-context.js';
import { WorkerMetrics } from './worker-metrics.js';
import {
  type RoleHandle,
  startApiRole,
  startLedgerRole,
  startPushRole,
  startSinkRole,
  startSweeperRole,
  startSyncRole,
} from './worker-role-starters.js';
import { checkRoleSet, type WorkerRole } from './worker-roles.js';
import { RunTally, type WorkerAccountRow } from './worker-summary.js';

export interface WorkerOptions extends WorkerTuning {
  config: Config;
  logger: Logger;
  roles: readonly WorkerRole[];
  /** Default: a new registry (one per worker, served by /metrics). */
  registry?: Registry;
}

/** What the worker logs (and `--json` prints) once every role runs. */
export interface WorkerStartInfo {
  roles: WorkerRole[];
  via: 'kafka' | 'inline';
  /** The API's address, null without the api role. */
  api: string | null;
  /** `platform:account` of every scheduled account (sync role). */
  accounts: string[];
  /** Sink consumer group, null without the sink role. */
  groupId: string | null;
}

export type StepState = 'running' | 'done' | 'failed';

/** What the worker did, for the exit summary. */
export interface WorkerReport {
  roles: WorkerRole[];
  accounts: WorkerAccountRow[];
  /** The sink of this process, totals since start (null without the sink role). */
  sink: SinkCounters | null;
  /** Stock intents its sink settled, totals since start (null without the sink role or with orderStock off). */
  stock: OrderStockCounts | null;
  /** Shutdown steps and their state: `running` ones were abandoned if the process exits now. */
  steps: Record<string, StepState>;
}

/**
 * The long-running worker (docs/worker.md): starts its roles in dependency order (api first so
 * probes answer during start-up, sink before sync so the in-process bus has its consumer), and
 * shuts them down in reverse: readiness first, then the scheduler (running syncs abort between
 * pages), then the sink, ledger and sweeper finish what is in flight, then the bus, the API and
 * the connections. Bounding the whole shutdown in time is the caller's (worker-shutdown.ts).
 */
export class Worker {
  readonly roles: readonly WorkerRole[];
  readonly metrics: WorkerMetrics;
  readonly #ctx: WorkerContext;
  readonly #logger: Logger;
  readonly #tally = new RunTally();
  readonly #handles = new Map<WorkerRole, RoleHandle>();
  readonly #steps = new Map<string, StepState>();
  #sink: OrderSink | undefined;
  #stock: OrderStockStats | null = null;
  #heartbeat: WorkerHeartbeat | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    const { config, logger } = options;
    this.roles = options.roles;
    this.#logger = logger;
    this.metrics = new WorkerMetrics({ clock: options.clock, logger, registry: options.registry });
    this.#ctx = new WorkerContext({ config, logger, metrics: this.metrics, tuning: options });
  }

  /** True between the end of start() and the first shutdown signal (what /readyz reports). */
  get ready(): boolean {
    return this.#started && this.#stopping === undefined;
  }

  async start(): Promise<WorkerStartInfo> {
    const ctx = this.#ctx;
    checkRoleSet(this.roles, ctx.via);
    const has = (role: WorkerRole) => this.roles.includes(role);
    // The bus gets most of the shutdown budget for the batch in flight; the rest is for closing.
    const busStopMs = Math.max(1000, Math.floor(ctx.config.worker.shutdownTimeoutMs * 0.6));
    let api: string | null = null;
    try {
      if (has('api')) {
        const handle = await startApiRole(ctx, () => this.readiness());
        this.#handles.set('api', handle);
        api = handle.url;
      }
      if (has('sink')) {
        const handle = await startSinkRole(ctx, busStopMs);
        this.#sink = handle.sink;
        this.#stock = handle.stock;
        this.#handles.set('sink', handle);
      }
      if (has('sync')) this.#handles.set('sync', await startSyncRole(ctx, this.#tally, busStopMs));
      if (has('ledger')) this.#handles.set('ledger', await startLedgerRole(ctx));
      if (has('sweeper')) this.#handles.set('sweeper', await startSweeperRole(ctx));
      if (has('push')) this.#handles.set('push', await startPushRole(ctx));
    } catch (error) {
      this.#logger.error({ err: error }, 'worker start-up failed; closing what was opened');
      await this.shutdown('start-up failed');
      throw error;
    }
    const info: WorkerStartInfo = {
      roles: [...this.roles],
      via: ctx.via,
      api,
      accounts: (this.#handles.get('sync')?.info?.accounts as string[] | undefined) ?? [],
      groupId: has('sink') ? ctx.config.kafka.sinkGroupId : null,
    };
    try {
      // `tradectl status` lists running workers from these heartbeats.
      this.#heartbeat = await registerWorkerHeartbeat({
        redis: await ctx.redis(),
        keyPrefix: ctx.config.redis.keyPrefix,
        logger: this.#logger,
        roles: info.roles,
        info: { via: info.via, ...(api ? { api } : {}) },
        clock: ctx.clock,
      });
    } catch (error) {
      await this.shutdown('start-up failed');
      throw error;
    }
    this.#started = true;
    this.metrics.setReady(true);
    const roles = Object.fromEntries([...this.#handles].map(([role, handle]) => [role, handle.info ?? {}]));
    this.#logger.info({ ...info, details: roles }, `worker started: ${info.roles.join(', ')}`);
    return info;
  }

  /** /readyz: 503 while starting or shutting down, else every opened dependency must answer. */
  async readiness(): Promise<ReadinessReport> {
    if (!this.ready) {
      const message = this.#stopping ? 'shutting down' : 'starting';
      return { ok: false, checks: { worker: { ok: false, message } } };
    }
    const checks: Record<string, ReadinessCheck> = {
      worker: { ok: true },
      ...(await this.#ctx.checkDependencies()),
    };
    for (const [role, handle] of this.#handles) {
      const check = handle.readiness?.();
      if (check) checks[role] = check;
    }
    return { ok: Object.values(checks).every((check) => check.ok), checks };
  }

  /**
   * Graceful shutdown, each step logged with its duration. Idempotent: a second call returns the
   * same promise. Never throws: a step that fails is logged and the next one runs.
   */
  shutdown(reason: string): Promise<void> {
    this.#stopping ??= this.#shutdown(reason);
    return this.#stopping;
  }

  /** Steps still running: what is abandoned if the process exits now. */
  pendingSteps(): string[] {
    return [...this.#steps].filter(([, state]) => state === 'running').map(([step]) => step);
  }

  report(): WorkerReport {
    return {
      roles: [...this.roles],
      accounts: this.#tally.rows({
        sink: this.#sink?.byAccount() ?? null,
        stock: this.#stock?.byAccount() ?? null,
      }),
      sink: this.#sink?.totals() ?? null,
      stock: this.#stock?.totals() ?? null,
      steps: Object.fromEntries(this.#steps),
    };
  }

  async #shutdown(reason: string): Promise<void> {
    const started = performance.now();
    this.metrics.setReady(false);
    this.#logger.info({ reason }, 'worker shutting down: /readyz answers 503 from now on');
    for (const handle of this.#handles.values()) handle.draining?.();
    await this.#step('sync', this.#handles.get('sync'));
    await Promise.all(
      (['sink', 'ledger', 'sweeper', 'push'] as const).map((role) =>
        this.#step(role, this.#handles.get(role)),
      ),
    );
    await this.#step('bus', { stop: () => this.#ctx.stopBus() });
    await this.#step('api', this.#handles.get('api'));
    const heartbeat = this.#heartbeat;
    await this.#step('heartbeat', heartbeat && { stop: () => heartbeat.stop() });
    await this.#step('connections', { stop: () => this.#ctx.close() });
    this.#logger.info({ ms: Math.round(performance.now() - started) }, 'worker stopped');
  }

  async #step(name: string, handle: Pick<RoleHandle, 'stop'> | undefined): Promise<void> {
    if (!handle) return;
    const started = performance.now();
    this.#steps.set(name, 'running');
    try {
      await handle.stop();
      this.#steps.set(name, 'done');
      this.#logger.info(
        { step: name, ms: Math.round(performance.now() - started) },
        `shutdown: ${name} done`,
      );
    } catch (error) {
      this.#steps.set(name, 'failed');
      this.#logger.warn({ err: error, step: name }, `shutdown: ${name} failed; going on`);
    }
  }
}
