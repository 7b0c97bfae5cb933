import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketplaceAdapter, OrderPage } from '../../src/adapters/types.js';
import { accountLeaseKey, createAccountLeases } from '../../src/core/account-lease.js';
import { type CheckpointStore, createCheckpointStore } from '../../src/core/checkpoint-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { createSyncWindowLog, type SyncWindowLog } from '../../src/core/sync-window-log.js';
import { SyncRunner } from '../../src/workers/sync-runner.js';
import { REDIS_URL, uniqueName } from '../helpers/services.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';
import { accountOrders, recordingBus, shopifyAccount } from '../helpers/sync-fakes.js';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const TIMING = {
  lookbackMs: 120_000,
  safetyLagMs: 150_000,
  chunkMs: 86_400_000,
  initialBackfillMs: 86_400_000,
};

let fixture: StoreFixture;
let redis: Redis;
let checkpoints: CheckpointStore;
let windowLog: SyncWindowLog;
let keyPrefix: string;

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 1, tablesPerDatabase: 1 });
  redis = new Redis(REDIS_URL);
  checkpoints = createCheckpointStore({ pools: fixture.pools, router: fixture.router });
  windowLog = createSyncWindowLog({ pools: fixture.pools, router: fixture.router });
  keyPrefix = `${uniqueName('lease')}:`;
});

afterAll(async () => {
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await fixture.close();
});

const leasesFor = (owner: string, ttlMs = 60_000) =>
  createAccountLeases({ redis, keyPrefix, logger: silentLogger(), owner, ttlMs, clock: () => NOW });

const account = (id: string) => shopifyAccount(id);

/** Two pages; the second waits for `gate`, so a run can be held in the middle of its chunk. */
function gatedAdapter(id: string, gate: Promise<void>, reached: () => void): MarketplaceAdapter {
  const orders = accountOrders(id, 4);
  return {
    platform: 'shopify',
    account: id,
    async *listOrders(): AsyncIterable<OrderPage> {
      yield { orders: orders.slice(0, 2), rejected: [], nextCursor: 'page-2' };
      reached();
      await gate;
      yield { orders: orders.slice(2), rejected: [], nextCursor: null };
    },
    getOrder: async () => null,
    updateInventory: async () => ({ status: 'applied' }),
    submitTracking: async () => ({ status: 'applied' }),
  };
}

const bus = recordingBus();

function runnerFor(owner: string, clock = () => NOW): SyncRunner {
  return new SyncRunner({
    bus,
    checkpoints,
    windowLog,
    leases: leasesFor(owner),
    dlq: { put: async () => undefined },
    logger: silentLogger(),
    clock,
  });
}

function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const atGate = new Promise<void>((resolve) => {
    reached = resolve;
  });
  return { opened, open, atGate, reached };
}

describe('account sync lease', () => {
  it('hands the lease to one holder at a time, each with a larger fencing token', async () => {
    const first = await leasesFor('host-a:1').acquire('ebay', 'lease-1');
    expect(first.acquired).toBe(true);
    const second = await leasesFor('host-b:2').acquire('ebay', 'lease-1');
    expect(second).toEqual({
      acquired: false,
      holder: { owner: 'host-a:1', fencingToken: 1, expiresInMs: expect.any(Number) },
    });
    if (!first.acquired) throw new Error('unreachable');
    expect(await first.lease.release()).toBe(true);
    const third = await leasesFor('host-b:2').acquire('ebay', 'lease-1');
    expect(third.acquired && third.lease.fencingToken).toBe(2);
    if (third.acquired) await third.lease.release();
  });

  it('marks a lease taken over as lost and aborts its signal', async () => {
    const held = await leasesFor('host-a:1').acquire('ebay', 'lease-2');
    if (!held.acquired) throw new Error('expected the lease');
    // The holder paused past its ttl: the key expired and another process took the lease.
    await redis.del(accountLeaseKey(keyPrefix, 'ebay', 'lease-2'));
    const other = await leasesFor('host-b:2').acquire('ebay', 'lease-2');
    expect(other.acquired).toBe(true);
    expect(await held.lease.renew()).toBe(false);
    expect(held.lease.signal.aborted).toBe(true);
    expect(() => held.lease.assertHeld()).toThrow(
      expect.objectContaining({ code: 'TRADECTL_SYNC_LEASE_LOST' }),
    );
    if (other.acquired) await other.lease.release();
  });
});

describe('sync runner under contention', () => {
  it('lets one runner sync an account while a second one skips it, naming the holder', async () => {
    const held = gate();
    const target = {
      account: account('busy'),
      timing: TIMING,
      adapter: gatedAdapter('busy', held.opened, held.reached),
    };
    const first = runnerFor('host-a:1').syncAccount(target);
    await held.atGate;
    const second = await runnerFor('host-b:2').syncAccount({
      ...target,
      adapter: gatedAdapter('busy', Promise.resolve(), () => {}),
    });
    held.open();
    const done = await first;
    expect(done).toMatchObject({
      status: 'ok',
      fetched: 4,
      published: 4,
      checkpoint: '2026-03-10T11:57:30.000Z',
    });
    expect(second).toMatchObject({
      status: 'skipped',
      fetched: 0,
      holder: { owner: 'host-a:1', fencingToken: done.fencingToken },
    });
    expect(await checkpoints.get('shopify', 'busy')).toMatchObject({
      cursorTime: '2026-03-10T11:57:30.000Z',
    });
  });

  it('keeps a runner that lost its lease while paused from moving the checkpoint (stale fencing token)', async () => {
    const paused = gate();
    const target = { account: account('paused'), timing: TIMING };
    // A takes the lease and pauses in the middle of its chunk (a long GC, a frozen VM).
    const stale = runnerFor('host-a:1').syncAccount({
      ...target,
      adapter: gatedAdapter('paused', paused.opened, paused.reached),
    });
    await paused.atGate;
    // Its lease expires; B takes the account over and syncs it to a later point.
    await redis.del(accountLeaseKey(keyPrefix, 'shopify', 'paused'));
    const later = NOW + 3_600_000;
    const takeover = await runnerFor('host-b:2', () => later).syncAccount({
      ...target,
      adapter: gatedAdapter('paused', Promise.resolve(), () => {}),
    });
    expect(takeover.status).toBe('ok');
    expect(takeover.fencingToken).toBeGreaterThan(0);
    // A wakes up without having noticed (its renewal timer has not fired) and finishes its chunk.
    paused.open();
    const woke = await stale;
    expect(woke.status).toBe('failed');
    expect(woke.error).toMatchObject({ code: 'TRADECTL_FENCED' });
    expect(woke.fencingToken).toBeLessThan(takeover.fencingToken!);
    expect(await checkpoints.get('shopify', 'paused')).toEqual({
      cursorTime: '2026-03-10T12:57:30.000Z',
      cursorId: '',
      fencingToken: takeover.fencingToken,
    });
    // Only the takeover's window is in the audit log.
    const windows = await windowLog.list({ platform: 'shopify', account: 'paused' });
    expect(windows.map((entry) => entry.fencingToken)).toEqual([takeover.fencingToken]);
  });
});
