import { Counter, type Registry } from 'prom-client';
import type { IntentOutcome } from './intent-apply.js';

/**
 * Counters of the order stock drainer: the in-memory OrderStockStats (the worker's exit summary,
 * tests) and the Prometheus exporter below, both wired by the worker. A line counted twice is
 * possible when two drainers race on it (both see Redis's one answer): the counts are for
 * alerting, the intents table is the record.
 */
export interface OrderStockMetrics {
  record(outcome: IntentOutcome, labels: { platform: string; account: string }, units: number): void;
}

export type OrderStockCounts = Record<IntentOutcome, number> & {
  /** Units taken from Redis by deducts (oversold lines included, for what they did take). */
  unitsDeducted: number;
  /** Units given back by releases. */
  unitsReleased: number;
};

export function emptyCounts(): OrderStockCounts {
  return {
    deducted: 0,
    oversold: 0,
    unmapped: 0,
    unknown_sku: 0,
    released: 0,
    deferred: 0,
    failed: 0,
    unitsDeducted: 0,
    unitsReleased: 0,
  };
}

export function addOutcome(counts: OrderStockCounts, outcome: IntentOutcome, units: number): void {
  counts[outcome]++;
  if (outcome === 'deducted' || outcome === 'oversold') counts.unitsDeducted += units;
  if (outcome === 'released') counts.unitsReleased += units;
}

/**
 * The counts per `platform:account` (the sink's key format), in memory: what the worker's exit
 * summary shows for each account. Since the process started, whoever wrote the intents.
 */
export class OrderStockStats implements OrderStockMetrics {
  readonly #accounts = new Map<string, OrderStockCounts>();

  record(outcome: IntentOutcome, labels: { platform: string; account: string }, units: number): void {
    const key = `${labels.platform}:${labels.account}`;
    let counts = this.#accounts.get(key);
    if (!counts) {
      counts = emptyCounts();
      this.#accounts.set(key, counts);
    }
    addOutcome(counts, outcome, units);
  }

  /** Every account added up. */
  totals(): OrderStockCounts {
    const totals = emptyCounts();
    for (const counts of this.#accounts.values()) {
      for (const name of Object.keys(totals) as (keyof OrderStockCounts)[]) totals[name] += counts[name];
    }
    return totals;
  }

  /** A copy per `platform:account`: later records do not change it. */
  byAccount(): Map<string, OrderStockCounts> {
    return new Map([...this.#accounts].map(([key, counts]) => [key, { ...counts }]));
  }
}

/** Sends every outcome to each of `targets` (the in-memory stats and the Prometheus exporter). */
export function teeOrderStockMetrics(...targets: OrderStockMetrics[]): OrderStockMetrics {
  return {
    record(outcome, labels, units) {
      for (const target of targets) target.record(outcome, labels, units);
    },
  };
}

/** Prometheus counters `tradectl_order_stock_lines_total` and `..._units_total`, by outcome and platform. */
export function prometheusOrderStockMetrics(registry: Registry): OrderStockMetrics {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  const lines =
    existing<Counter<'outcome' | 'platform'>>('tradectl_order_stock_lines_total') ??
    new Counter({
      name: 'tradectl_order_stock_lines_total',
      help: 'Order line stock intents handled, by outcome (deducted, oversold, unmapped, unknown_sku, released, deferred, failed)',
      labelNames: ['outcome', 'platform'] as const,
      registers: [registry],
    });
  const units =
    existing<Counter<'outcome' | 'platform'>>('tradectl_order_stock_units_total') ??
    new Counter({
      name: 'tradectl_order_stock_units_total',
      help: 'Units moved in Redis by order stock intents, by outcome',
      labelNames: ['outcome', 'platform'] as const,
      registers: [registry],
    });
  return {
    record(outcome, labels, moved) {
      lines.inc({ outcome, platform: labels.platform });
      if (moved > 0) units.inc({ outcome, platform: labels.platform }, moved);
    },
  };
}
