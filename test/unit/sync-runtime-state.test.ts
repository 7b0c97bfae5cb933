import { afterEach, describe, expect, it } from 'vitest';
import { PlatformBreaker } from '../../src/adapters/resilience/breaker.js';
import type { MarketplaceAdapter } from '../../src/adapters/types.js';
import { silentLogger } from '../../src/core/logger.js';
import type { RuntimeStateWriter } from '../../src/core/runtime-state.js';
import { RunReporter } from '../../src/workers/run-reporter.js';
import { emptyResult } from '../../src/workers/sync-result.js';
import { SyncRunner, type SyncTarget } from '../../src/workers/sync-runner.js';
import { recordingBus, shopifyAccount } from '../helpers/sync-fakes.js';

type Call = [string, ...unknown[]];

function recordingWriter(): RuntimeStateWriter & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    owner: 'test:1',
    calls,
    breaker: async (...args) => void calls.push(['breaker', ...args]),
    limiter: async (...args) => void calls.push(['limiter', ...args]),
    running: async (...args) => void calls.push(['running', ...args]),
    runFinished: async (...args) => void calls.push(['runFinished', ...args]),
  };
}

const unexpected = () => Promise.reject(new Error('not expected in this test'));
const breakers: PlatformBreaker[] = [];
afterEach(() => {
  for (const breaker of breakers.splice(0)) breaker.shutdown();
});

function target(): SyncTarget & { resilience: { breaker: PlatformBreaker } } {
  const breaker = new PlatformBreaker({ platform: 'shopify', account: 'us', logger: silentLogger() });
  breakers.push(breaker);
  return {
    account: shopifyAccount('us'),
    adapter: {} as MarketplaceAdapter,
    timing: { lookbackMs: 0, safetyLagMs: 0, chunkMs: 3_600_000, initialBackfillMs: 3_600_000 } as never,
    resilience: { breaker, stats: { snapshot: () => [] } as never },
  };
}

describe('runtime state written by the sync runner', () => {
  it('reports every breaker change of an account it syncs, once per change, between runs too', async () => {
    const writer = recordingWriter();
    const runner = new SyncRunner({
      bus: recordingBus(),
      checkpoints: { get: unexpected, advance: unexpected },
      windowLog: { record: unexpected },
      // Another process holds the lease: the run is skipped and reports nothing of its own.
      leases: {
        acquire: async () => ({
          acquired: false,
          holder: { owner: 'other', fencingToken: 3, expiresInMs: 9000 },
        }),
        holder: unexpected,
      },
      dlq: { put: unexpected },
      logger: silentLogger(),
      runtimeState: writer,
    });
    const account = target();
    expect((await runner.syncAccount(account)).status).toBe('skipped');
    await runner.syncAccount(account);
    expect(writer.calls).toEqual([]);
    account.resilience.breaker.emit('stateChange', {
      platform: 'shopify',
      account: 'us',
      from: 'closed',
      to: 'open',
    });
    account.resilience.breaker.emit('stateChange', {
      platform: 'shopify',
      account: 'us',
      from: 'open',
      to: 'halfOpen',
    });
    expect(writer.calls).toEqual([
      ['breaker', 'shopify', 'us', 'open'],
      ['breaker', 'shopify', 'us', 'halfOpen'],
    ]);
  });

  it('reports a run: started, progress at most once a second, then the outcome and error', async () => {
    const writer = recordingWriter();
    let now = 1_000_000;
    const result = emptyResult('shopify', 'us', '2026-03-01T00:00:00.000Z');
    const limiter = {
      snapshot: async () => ({
        buckets: [
          {
            bucket: 'shopify:us:default',
            backend: 'local',
            ratePerSecond: 2,
            burst: 40,
            tokens: 3,
            queued: 5,
            running: 1,
            pausedUntil: null,
          },
        ],
      }),
    };
    const breaker = { state: 'closed' as const };
    const reporter = new RunReporter(writer, { resilience: { breaker, limiter } }, result, () => now);
    result.fencingToken = 7;
    await reporter.started();
    expect(writer.calls.map((call) => call[0]).sort()).toEqual(['breaker', 'limiter', 'running']);
    expect(writer.calls.find((call) => call[0] === 'running')).toEqual([
      'running',
      'shopify',
      'us',
      { since: '2026-03-01T00:00:00.000Z', fencingToken: 7, chunksDone: 0, chunks: 0, fetched: 0 },
    ]);
    writer.calls.length = 0;

    result.fetched = 50;
    reporter.progress();
    now += 999;
    reporter.progress();
    expect(writer.calls).toEqual([]);
    now += 1;
    reporter.progress();
    result.status = 'failed';
    result.error = {
      code: 'TRADECTL_PLATFORM_AUTH',
      kind: 'config',
      message: 'revoked',
      hint: 're-authorise',
    };
    result.finishedAt = '2026-03-01T00:00:05.000Z';
    await reporter.finished();
    const names = writer.calls.map((call) => call[0]);
    // The progress write finished before the outcome was written.
    expect(names.slice(0, 2).sort()).toEqual(['limiter', 'running']);
    expect(writer.calls.find((call) => call[0] === 'runFinished')).toEqual([
      'runFinished',
      'shopify',
      'us',
      {
        startedAt: '2026-03-01T00:00:00.000Z',
        finishedAt: '2026-03-01T00:00:05.000Z',
        outcome: 'failed',
        fetched: 50,
        published: 0,
        rejected: 0,
        checkpoint: null,
        error: { code: 'TRADECTL_PLATFORM_AUTH', kind: 'config', message: 'revoked', hint: 're-authorise' },
      },
    ]);
  });
});
