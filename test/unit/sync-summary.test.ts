import { describe, expect, it } from 'vitest';
import { emptyCounters, type SinkCounters } from '../../src/workers/order-sink.js';
import type { AccountSyncResult } from '../../src/workers/sync-runner.js';
import { SUMMARY_HEADERS, summarizeSync, summaryCells } from '../../src/workers/sync-summary.js';

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

const authError = {
  code: 'TRADECTL_PLATFORM_AUTH',
  kind: 'config',
  message: 'refresh token revoked',
  hint: 're-authorise the account',
};

describe('summarizeSync', () => {
  it('joins the runner figures with the sink counters per account (inline)', () => {
    const summary = summarizeSync({
      via: 'inline',
      results: [
        result({
          platform: 'shopify',
          account: 'us',
          fetched: 120,
          published: 118,
          rejected: 2,
          requests: 3,
          retries: 1,
        }),
        result({ platform: 'ebay', account: 'de', fetched: 10, published: 10, requests: 1, throttled: 1 }),
      ],
      sink: sink({
        'shopify:us': { inserted: 100, updated: 15, unchanged: 3, deadLettered: 1 },
        'ebay:de': { unchanged: 10 },
      }),
    });
    expect(summary.outcome).toBe('ok');
    expect(summary.accounts[0]).toMatchObject({ new: 100, updated: 15, unchanged: 3, failed: 3 });
    expect(summary.accounts[1]).toMatchObject({ new: 0, updated: 0, unchanged: 10, failed: 0 });
    expect(summary.totals).toEqual({
      fetched: 130,
      published: 128,
      new: 100,
      updated: 15,
      unchanged: 13,
      failed: 3,
      requests: 4,
      throttled: 1,
      retries: 1,
      ok: 2,
      failedAccounts: 0,
      skipped: 0,
    });
  });

  it('leaves the sink figures out through Kafka', () => {
    const summary = summarizeSync({
      via: 'kafka',
      results: [result({ platform: 'amazon', account: 'na', fetched: 5, published: 5, rejected: 1 })],
      sink: null,
    });
    expect(summary.accounts[0]).toMatchObject({ new: null, updated: null, unchanged: null, failed: 1 });
    expect(summary.totals).toMatchObject({ new: null, updated: null, unchanged: null, published: 5 });
    expect(summaryCells(summary.accounts[0]!)[SUMMARY_HEADERS.indexOf('new')]).toBe('-');
  });

  it.each([
    { name: 'all ok', statuses: ['ok', 'ok'], outcome: 'ok' },
    { name: 'some failed, the rest ok', statuses: ['ok', 'failed'], outcome: 'partial' },
    { name: 'all failed', statuses: ['failed', 'failed'], outcome: 'failed' },
    { name: 'skipped (lease held elsewhere) is not a failure', statuses: ['skipped', 'ok'], outcome: 'ok' },
    { name: 'only skipped', statuses: ['skipped'], outcome: 'ok' },
    { name: 'failed and skipped, none ok', statuses: ['failed', 'skipped'], outcome: 'failed' },
  ] as const)('outcome: $name', ({ statuses, outcome }) => {
    const summary = summarizeSync({
      via: 'inline',
      results: statuses.map((status, index) =>
        result({
          platform: 'shopify',
          account: `a${index}`,
          status,
          error: status === 'failed' ? authError : null,
        }),
      ),
      sink: new Map(),
    });
    expect(summary.outcome).toBe(outcome);
  });

  it('fails the run when Kafka did not store what it published in time', () => {
    const summary = summarizeSync({
      via: 'kafka',
      results: [result({ platform: 'shopify', account: 'us', published: 3 })],
      sink: null,
      error: { code: 'TRADECTL_SYNC_DRAIN_TIMEOUT', kind: 'transient', message: 'still 3', hint: undefined },
    });
    expect(summary.outcome).toBe('failed');
  });

  it('says who holds the lease of a skipped account and why one failed', () => {
    const summary = summarizeSync({
      via: 'inline',
      results: [
        result({
          platform: 'shopify',
          account: 'us',
          status: 'skipped',
          holder: { owner: 'host-b:42:abc', fencingToken: 7, expiresInMs: 20_000 },
        }),
        result({ platform: 'amazon', account: 'na', status: 'failed', error: authError }),
      ],
      sink: new Map(),
    });
    expect(summary.accounts.map((row) => row.note)).toEqual([
      'lease held by host-b:42:abc (token 7)',
      'TRADECTL_PLATFORM_AUTH: refresh token revoked',
    ]);
    expect(summary.totals).toMatchObject({ ok: 0, failedAccounts: 1, skipped: 1 });
  });

  it('gives one cell per header', () => {
    const summary = summarizeSync({
      via: 'inline',
      results: [result({ platform: 'ebay', account: 'x' })],
      sink: new Map(),
    });
    expect(summaryCells(summary.accounts[0]!)).toHaveLength(SUMMARY_HEADERS.length);
  });
});
