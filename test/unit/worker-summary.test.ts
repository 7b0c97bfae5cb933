import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PlatformBreaker } from '../../src/adapters/resilience/breaker.js';
import { PlatformError } from '../../src/adapters/resilience/platform-error.js';
import type { CliIo } from '../../src/cli/output.js';
import { runWorkerCommand } from '../../src/cli/worker.js';
import { parseConfig } from '../../src/core/config.js';
import { OrderStockStats, teeOrderStockMetrics } from '../../src/core/order-stock/order-stock-metrics.js';
import { emptyCounters, type SinkCounters } from '../../src/workers/order-sink.js';
import type { AccountSyncResult } from '../../src/workers/sync-runner.js';
import type { WorkerReport } from '../../src/workers/worker.js';
import {
  describeStock,
  RunTally,
  WORKER_SUMMARY_HEADERS,
  workerSummaryCells,
} from '../../src/workers/worker-summary.js';
import { Collector } from '../helpers/collector.js';
import { memoryLogger } from '../helpers/log-sink.js';

function result(
  overrides: Partial<AccountSyncResult> & Pick<AccountSyncResult, 'platform' | 'account'>,
): AccountSyncResult {
  return {
    status: 'ok',
    fetched: 0,
    published: 0,
    rejected: 0,
    pages: 0,
    chunks: 1,
    chunksDone: 1,
    requests: 0,
    throttled: 0,
    retries: 0,
    breaker: 'closed',
    checkpoint: '2026-03-10T11:57:30.000Z',
    fencingToken: 1,
    window: { from: '2026-03-10T11:48:00.000Z', to: '2026-03-10T11:57:30.000Z' },
    holder: null,
    error: null,
    startedAt: '2026-03-10T12:00:00.000Z',
    finishedAt: '2026-03-10T12:00:01.000Z',
    ...overrides,
  };
}

const sink = (entries: Record<string, Partial<SinkCounters>>) =>
  new Map(Object.entries(entries).map(([key, counters]) => [key, { ...emptyCounters(), ...counters }]));

const cells = (row: ReturnType<RunTally['rows']>[number]) =>
  Object.fromEntries(WORKER_SUMMARY_HEADERS.map((header, index) => [header, workerSummaryCells(row)[index]]));

describe('worker exit summary', () => {
  it('adds up runs and joins the sink and the stock outcomes per account', () => {
    const tally = new RunTally();
    tally.record(result({ platform: 'shopify', account: 'us', fetched: 80, published: 80, requests: 4 }));
    tally.record(
      result({ platform: 'shopify', account: 'us', fetched: 40, published: 38, rejected: 2, requests: 3 }),
    );
    tally.record(
      result({ platform: 'ebay', account: 'de', fetched: 5, published: 5, requests: 2, retries: 1 }),
    );
    // What the drainer reports per line: quantity 3 deducted, 2 of 5 oversold, one unmapped, and
    // a line of an account this worker does not sync (another worker's, through Kafka).
    const stock = new OrderStockStats();
    const prometheus: string[] = [];
    const metrics = teeOrderStockMetrics(stock, { record: (outcome) => prometheus.push(outcome) });
    metrics.record('deducted', { platform: 'shopify', account: 'us' }, 3);
    metrics.record('oversold', { platform: 'shopify', account: 'us' }, 2);
    metrics.record('unmapped', { platform: 'shopify', account: 'us' }, 0);
    metrics.record('deducted', { platform: 'amazon', account: 'na' }, 1);
    expect(prometheus).toEqual(['deducted', 'oversold', 'unmapped', 'deducted']);

    const rows = tally.rows({
      sink: sink({ 'shopify:us': { inserted: 100, updated: 18 }, 'ebay:de': { unchanged: 5 } }),
      stock: stock.byAccount(),
    });
    expect(rows.map((row) => `${row.platform}:${row.account}`)).toEqual(['shopify:us', 'ebay:de']);
    expect(cells(rows[0]!)).toMatchObject({
      runs: 2,
      fetched: 120,
      published: 118,
      new: 100,
      updated: 18,
      unchanged: 0,
      rejected: 2,
      requests: 7,
      trips: 0,
      'stock lines': 2,
      'stock units': 5,
    });
    expect(rows[0]!.stock).toMatchObject({ deducted: 1, oversold: 1, unmapped: 1, unitsDeducted: 5 });
    // Synced, nothing sold yet: zeros, not "-".
    expect(cells(rows[1]!)).toMatchObject({ 'stock lines': 0, 'stock units': 0, retries: 1 });
    expect(stock.totals()).toMatchObject({ deducted: 2, oversold: 1, unmapped: 1, unitsDeducted: 6 });
  });

  it('shows "-" for what this process does not run (no sink role, order stock off)', () => {
    const tally = new RunTally([{ platform: 'amazon', id: 'na' }]);
    const [row] = tally.rows();
    expect(row).toMatchObject({ runs: 0, new: null, stock: null, breakerTrips: 0 });
    expect(workerSummaryCells(row!)).toHaveLength(WORKER_SUMMARY_HEADERS.length);
    expect(cells(row!)).toMatchObject({
      new: '-',
      breaker: '-',
      trips: 0,
      'stock lines': '-',
      'stock units': '-',
      checkpoint: '-',
    });
    // Sink role on, order stock off: the sink columns show, the stock ones do not.
    expect(tally.rows({ sink: new Map(), stock: null })[0]).toMatchObject({ new: 0, stock: null });
  });

  it('says what happened to the stock in one line, problems only when there are some', () => {
    const stock = new OrderStockStats();
    const labels = { platform: 'ebay', account: 'de' };
    stock.record('deducted', labels, 2);
    stock.record('deducted', labels, 1);
    expect(describeStock(stock.totals())).toBe('2 lines deducted (3 units)');
    stock.record('oversold', labels, 1);
    stock.record('unknown_sku', labels, 0);
    stock.record('unmapped', labels, 0);
    stock.record('unmapped', labels, 0);
    stock.record('released', labels, 2);
    expect(describeStock(stock.totals())).toBe(
      '3 lines deducted (4 units), 1 oversold, 2 unmapped, 1 unknown sku',
    );
  });
});

describe('worker exit summary: breaker trips', () => {
  const unavailable = () =>
    new PlatformError('TRADECTL_PLATFORM_UNAVAILABLE', 'platform error 503', {
      platform: 'ebay',
      account: 'de',
      operation: 'getOrders',
      kind: 'transient',
    });
  let breaker: PlatformBreaker;

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 2, 10, 12) });
    breaker = new PlatformBreaker({
      platform: 'ebay',
      account: 'de',
      logger: memoryLogger().logger,
      options: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeout: 1000 },
    });
  });
  afterEach(() => {
    breaker.shutdown();
    vi.useRealTimers();
  });

  const fail = () => breaker.fire(() => Promise.reject(unavailable())).catch(() => undefined);

  it('counts every opening of the breaker, also a failed probe, and shows its state now', async () => {
    const tally = new RunTally();
    tally.watchBreaker(breaker);
    await fail();
    await fail();
    expect(breaker.state).toBe('open');
    // Calls rejected while it is open are no new trips.
    await fail();
    expect(tally.rows()[0]).toMatchObject({ breaker: 'open', breakerTrips: 1 });
    vi.advanceTimersByTime(1000);
    expect(tally.rows()[0]).toMatchObject({ breaker: 'halfOpen', breakerTrips: 1 });
    await fail();
    expect(cells(tally.rows()[0]!)).toMatchObject({ breaker: 'open', trips: 2 });
    vi.advanceTimersByTime(1000);
    await breaker.fire(async () => 'ok');
    expect(cells(tally.rows()[0]!)).toMatchObject({ breaker: 'closed', trips: 2 });
    // A run that ends later reports the same state; the trips stay.
    tally.record(result({ platform: 'ebay', account: 'de', status: 'failed', breaker: 'closed' }));
    expect(tally.rows()[0]).toMatchObject({ runs: 1, failed: 1, breakerTrips: 2 });
  });
});

describe('tradectl worker: what it prints when it stops', () => {
  async function stop(report: WorkerReport, options: { json?: boolean; tty?: boolean }) {
    const io = { stdout: new Collector(options.tty), stderr: new Collector(), env: {} } satisfies CliIo;
    const signals = new EventEmitter();
    const run = runWorkerCommand(options, {
      io,
      loadConfig: async () => parseConfig({ log: { level: 'silent' } }, {}),
      setExitCode: () => {},
      signals,
      createWorker: () => ({
        start: async () => {
          // The signal arrives once the worker runs.
          setImmediate(() => signals.emit('SIGTERM'));
          return { roles: ['sync', 'sink'], via: 'inline', api: null, accounts: [], groupId: null };
        },
        shutdown: async () => {},
        pendingSteps: () => [],
        report: () => report,
      }),
    });
    await run;
    return { stdout: io.stdout.text, stderr: io.stderr.text };
  }

  const tally = new RunTally();
  tally.record(
    result({ platform: 'shopify', account: 'us-store', fetched: 120, published: 120, requests: 9 }),
  );
  const stock = new OrderStockStats();
  stock.record('deducted', { platform: 'shopify', account: 'us-store' }, 2);
  stock.record('deducted', { platform: 'shopify', account: 'us-store' }, 1);
  stock.record('unmapped', { platform: 'shopify', account: 'us-store' }, 0);
  const report: WorkerReport = {
    roles: ['sync', 'sink'],
    accounts: tally.rows({ sink: sink({ 'shopify:us-store': { inserted: 120 } }), stock: stock.byAccount() }),
    sink: { ...emptyCounters(), received: 120, inserted: 120 },
    stock: stock.totals(),
    steps: { sync: 'done', sink: 'done' },
  };

  it('prints the table with breaker trips and stock columns, and the stock on the stderr line', async () => {
    const { stdout, stderr } = await stop(report, { tty: true });
    const [header, row] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/ BREAKER {2}TRIPS {2}STOCK LINES {2}STOCK UNITS {2}CHECKPOINT/);
    // Each number right-aligned under its header.
    const under = (name: string) =>
      row!
        .slice(0, header!.indexOf(name) + name.length)
        .split(' ')
        .at(-1);
    expect([under('TRIPS'), under('STOCK LINES'), under('STOCK UNITS')]).toEqual(['0', '2', '3']);
    expect(row).toMatch(/ closed +0 +2 +3 {2}2026-03-10T11:57:30\.000Z$/);
    expect(stderr).toMatch(
      /^worker stopped after SIGTERM \(graceful, \d+ ms\); sink: 120 new, 0 updated, 0 unchanged, 0 to the DLQ; stock: 2 lines deducted \(3 units\), 1 unmapped\n$/,
    );
  });

  it('prints the same in the --json stopped event', async () => {
    const { stdout } = await stop(report, { json: true });
    const [started, stopped] = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(started).toMatchObject({ event: 'started', roles: ['sync', 'sink'] });
    expect(stopped).toMatchObject({
      event: 'stopped',
      exitCode: 0,
      stock: { deducted: 2, unitsDeducted: 3 },
    });
    expect(stopped.accounts[0]).toMatchObject({
      breakerTrips: 0,
      stock: { deducted: 2, oversold: 0, unmapped: 1, unitsDeducted: 3 },
    });
  });
});
