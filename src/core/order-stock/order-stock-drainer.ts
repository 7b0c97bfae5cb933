import { forEachBounded } from '../bounded-concurrency.js';
import type { Logger } from '../logger.js';
import type { MysqlPools } from '../mysql-pools.js';
import type { ShardRouter } from '../shard-router.js';
import type { ListingMap } from '../stock/listing-map.js';
import type { StockService } from '../stock/stock-service.js';
import { fromEpochMs } from '../time.js';
import { type Applied, type ApplyContext, applyDeducts, applyRelease, unmapped } from './intent-apply.js';
import type { IntentRow } from './intent-rows.js';
import type { MarketplaceOrderKey } from './intent-sql.js';
import { IntentStore } from './intent-store.js';
import { resolveIntentTargets } from './intent-targets.js';
import {
  addOutcome,
  emptyCounts,
  type OrderStockCounts,
  type OrderStockMetrics,
} from './order-stock-metrics.js';

export interface OrderStockDrainerOptions {
  pools: MysqlPools;
  router: ShardRouter;
  /** Takes and gives back stock (deductAvailableMany, restore). */
  stock: Pick<StockService, 'deductAvailableMany' | 'restore' | 'adjust' | 'get'>;
  /** Maps channel listings to internal SKUs. */
  listings: Pick<ListingMap, 'resolveOrderLines'>;
  logger: Logger;
  /** Unix ms. Default `Date.now`. */
  clock?: () => number;
  /** Release calls in flight per shard database (deducts are pipelined instead). Default 16. */
  concurrency?: number;
  /** First delay after a failed attempt, doubling per attempt, ms. Default 30 s. */
  retryAfterMs?: number;
  /** Longest delay between attempts, ms. Default 10 min. */
  maxBackoffMs?: number;
  /** Attempts before a SKU unknown to Redis is reported and given up. Default 10. */
  unknownSkuAttempts?: number;
  /** Intents per shard database per sweep round. Default 500. */
  sweepBatch?: number;
  /** How often `start()` sweeps, ms. Default 30 s. */
  sweepIntervalMs?: number;
  metrics?: OrderStockMetrics;
}

/**
 * Applies the order stock outbox to Redis: deduct intents through `deductAvailableMany`, release
 * intents through `restore`, each with an operation id derived from the order line, then records
 * the outcome on the intent row. Called by the sink right after its commit (`drainOrders`), and
 * by a periodic sweep for whatever a crash or an outage left pending (`sweep`, `start`).
 *
 * Exactly once: the intent row exists once per line and kind (outbox, unique key); Redis applies
 * an operation id once (and answers a repeat with the first answer); a row leaves `pending` only
 * after Redis answered. A crash anywhere repeats at most the Redis call, which is then a replay.
 */
export class OrderStockDrainer {
  readonly #store: IntentStore;
  readonly #options: OrderStockDrainerOptions;
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #totals = emptyCounts();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: OrderStockDrainerOptions) {
    this.#options = options;
    this.#store = new IntentStore({ pools: options.pools, router: options.router });
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger.child({ component: 'order-stock' });
  }

  /** Outcomes since start. */
  totals(): OrderStockCounts {
    return { ...this.#totals };
  }

  /**
   * Applies the pending intents of these orders (the sink's batch, after its commit), found by
   * the marketplace order: a re-stored order's intents may carry an earlier id.
   */
  async drainOrders(
    orders: readonly (MarketplaceOrderKey & { userId: string })[],
  ): Promise<OrderStockCounts> {
    const byDatabase = new Map<number, MarketplaceOrderKey[]>();
    for (const order of orders) {
      const { database } = this.#options.router.route(order.userId);
      const keys = byDatabase.get(database);
      if (keys) keys.push(order);
      else byDatabase.set(database, [order]);
    }
    const counts = emptyCounts();
    await forEachBounded([...byDatabase], 4, async ([database, keys]) => {
      const rows = await this.#store.pendingOfOrders(database, keys);
      if (rows.length > 0) await this.#process(database, rows, counts);
    });
    return counts;
  }

  /** One round over every shard database: the pending intents that are due. */
  async sweep(): Promise<OrderStockCounts> {
    this.#lastSweep = this.#clock();
    const counts = emptyCounts();
    const databases = Array.from({ length: this.#options.router.layout.databases }, (_, index) => index);
    const now = fromEpochMs(this.#clock());
    await forEachBounded(databases, 4, async (database) => {
      const rows = await this.#store.due(database, now, this.#options.sweepBatch ?? 500);
      if (rows.length > 0) await this.#process(database, rows, counts);
    });
    return counts;
  }

  /** Sweeps when the last sweep is older than the interval (the sink calls it after each batch). */
  async sweepIfDue(): Promise<void> {
    if (this.#clock() - this.#lastSweep < (this.#options.sweepIntervalMs ?? 30_000)) return;
    await this.#guardedSweep();
  }

  /** Sweeps every `sweepIntervalMs` until stop(). */
  start(): void {
    if (this.#timer) return;
    const interval = this.#options.sweepIntervalMs ?? 30_000;
    this.#timer = setInterval(() => void this.#guardedSweep(), interval);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a sweep in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #guardedSweep(): Promise<void> {
    if (this.#running) return;
    this.#running = this.sweep()
      .then((counts) => {
        if (counts.failed + counts.deducted + counts.released + counts.unmapped > 0) {
          this.#logger.info({ ...counts }, 'order stock sweep');
        }
      })
      .catch((error: unknown) =>
        this.#logger.warn({ err: error }, 'order stock sweep failed; retrying later'),
      )
      .finally(() => {
        this.#running = undefined;
      });
    await this.#running;
  }

  async #process(database: number, rows: IntentRow[], counts: OrderStockCounts): Promise<void> {
    const key = (row: { orderId: string; lineId: string }) => `${row.orderId}\u0000${row.lineId}`;
    const deducts = rows.filter((row) => row.kind === 'deduct');
    const releases = rows.filter((row) => row.kind === 'release');
    if (releases.length > 0) {
      // A release waits for its deduct: a deduct still pending is settled first, in this round.
      const seen = new Set(deducts.map(key));
      for (const row of await this.#store.deductsOf(database, releases)) {
        if (row.status === 'pending' && !seen.has(key(row))) deducts.push(row);
      }
    }
    if (deducts.length > 0) await this.#deducts(database, deducts, counts);
    if (releases.length > 0) {
      // Decided from what is committed now, never from what this drainer believes.
      const settled = new Map(
        (await this.#store.deductsOf(database, releases)).map((row) => [key(row), row]),
      );
      const context = this.#context();
      const results: Applied[] = [];
      await forEachBounded(releases, this.#options.concurrency ?? 16, async (row) => {
        results.push(await applyRelease(context, row, settled.get(key(row))));
      });
      await this.#record(database, results, counts);
    }
  }

  async #deducts(database: number, rows: IntentRow[], counts: OrderStockCounts): Promise<void> {
    const context = this.#context();
    const results: Applied[] = [];
    // Rows written with their target (the store resolves new intents before writing them)
    // go to Redis as they are; the rest are resolved now and their targets persisted first.
    const ready = rows.filter((row) => row.tenant !== null);
    const { mapped, unmapped: missing } = await resolveIntentTargets(
      this.#options.listings,
      rows.filter((row) => row.tenant === null),
    );
    for (const { row, reason } of missing) results.push(unmapped(context, row, reason));
    if (mapped.length > 0) ready.push(...(await this.#store.persistTargets(database, mapped)));
    if (ready.length > 0) results.push(...(await applyDeducts(context, ready)));
    await this.#record(database, results, counts);
  }

  /** Issues first, then outcomes: a crash in between reports a line again (ignored), never loses it. */
  async #record(database: number, results: Applied[], counts: OrderStockCounts): Promise<void> {
    const issues = results.flatMap((result) => (result.issue ? [result.issue] : []));
    if (issues.length > 0) await this.#store.insertIssues(issues);
    if (results.length > 0) {
      await this.#store.writeOutcomes(
        database,
        results.map((result) => result.row),
      );
    }
    // One warning per account and kind of problem, with a first example: a batch of a thousand
    // unmapped lines is one log line, the table has every one of them.
    const problems = new Map<string, { count: number; first: Applied }>();
    for (const result of results) {
      const { row, outcome, units } = result;
      addOutcome(counts, outcome, units);
      addOutcome(this.#totals, outcome, units);
      this.#options.metrics?.record(outcome, row, units);
      if (outcome !== 'failed' && !result.issue) continue;
      const id = `${row.platform}\u0000${row.account}\u0000${outcome}`;
      const seen = problems.get(id);
      if (seen) seen.count++;
      else problems.set(id, { count: 1, first: result });
    }
    for (const { count, first } of problems.values()) {
      const { row, outcome, issue } = first;
      const example = { orderId: row.orderId, platformOrderId: row.platformOrderId, lineId: row.lineId };
      const why = issue ? issue.detail : `${row.lastError}; next attempt at ${row.nextAttemptAt}`;
      this.#logger.warn(
        { platform: row.platform, account: row.account, outcome, lines: count, example },
        `order stock: ${count} line(s) ${outcome}, e.g. ${why}`,
      );
    }
  }

  #context(): ApplyContext {
    return {
      stock: this.#options.stock,
      now: this.#clock(),
      retryAfterMs: this.#options.retryAfterMs ?? 30_000,
      maxBackoffMs: this.#options.maxBackoffMs ?? 600_000,
      unknownSkuAttempts: this.#options.unknownSkuAttempts ?? 10,
    };
  }
}
