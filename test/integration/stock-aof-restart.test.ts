import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetriable } from '../../src/core/errors.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

// A Redis of this test's own (another port, its own directory), with the AOF fsynced on every
// write, so it can be killed without touching the shared one.
let dir: string;
let port: number;
let server: ChildProcess | undefined;
let fixture: StockFixture;

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startRedis(): Promise<void> {
  server = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
      ...['--appendonly', 'yes', '--appendfsync', 'always', '--appenddirname', 'aof'],
    ],
    { stdio: 'ignore' },
  );
  // Poll with throw-away clients until it answers and has loaded the AOF (LOADING before that).
  for (let attempt = 0; ; attempt++) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if (/loading:0/.test(await probe.info('persistence'))) return;
    } catch (error) {
      if (attempt > 200) throw error;
    } finally {
      probe.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function runId(info: string): string {
  return /run_id:(\w+)/.exec(info)?.[1] ?? '';
}

async function killRedis(): Promise<void> {
  const running = server;
  if (!running) return;
  server = undefined;
  const exited = once(running, 'exit');
  running.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tradectl-aof-'));
  port = await freePort();
  await startRedis();
  fixture = await createStockFixture(`redis://127.0.0.1:${port}`);
});

afterAll(async () => {
  await fixture?.close();
  await killRedis();
  await rm(dir, { recursive: true, force: true });
});

describe('Redis killed and restarted from its AOF', () => {
  it('keeps every acknowledged change, deducts retried operations once, and MySQL ends equal to Redis', async () => {
    const service = fixture.service();
    await service.set({ operationId: 'stock', sku: 'AOF', expectedVersion: 0, available: 1000 });
    await service.reserve({ reservationId: 'held', lines: [{ sku: 'AOF', quantity: 5 }], ttlMs: 3_600_000 });
    const drain = fixture.drain({ consumer: 'aof-drain', maxBackoffMs: 200 });
    drain.start();

    let sold = 0;
    let killAt: () => void = () => undefined;
    const halfway = new Promise<void>((resolve) => {
      killAt = resolve;
    });
    // 20 buyers making 20 purchases of 2 units each, one after another, each with its own
    // operation id, retried with the same id while Redis is away: the kill lands mid-stream.
    const buy = async (operationId: string) => {
      for (;;) {
        try {
          await service.deduct({ operationId, lines: [{ sku: 'AOF', quantity: 2 }] });
          sold += 2;
          if (sold >= 200) killAt();
          return;
        } catch (error) {
          if (!isRetriable(error)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const buyers = Array.from({ length: 20 }, async (_, buyer) => {
      for (let purchase = 0; purchase < 20; purchase++) await buy(`aof-${buyer}-${purchase}`);
    });
    await halfway;
    const before = await fixture.redisStock('AOF');
    const runBefore = runId(await fixture.redis.info('server'));
    const soldAtKill = sold;
    await killRedis();
    await startRedis();
    const after = await fixture.redisStock('AOF');
    // A new server process, started from the AOF alone.
    expect(runId(await fixture.redis.info('server'))).not.toBe(runBefore);
    // Nothing acknowledged before the kill was lost (appendfsync always).
    expect(after!.version).toBeGreaterThanOrEqual(before!.version);
    // The kill came while purchases were still being made.
    expect(soldAtKill).toBeLessThan(800);
    await Promise.all(buyers);
    await drain.stop();

    expect(sold).toBe(800);
    expect(await service.get({ sku: 'AOF' })).toMatchObject({ available: 1000 - 800 - 5, reserved: 5 });
    await fixture.drain({ consumer: 'aof-drain', claimIdleMs: 1 }).drainUntilIdle();
    const sides = await bothSides(fixture, 'AOF');
    expect(sides.mysql).toEqual(sides.redis);
    expect(sides.mysql).toMatchObject({ onHand: 200, reserved: 5 });
    expect(await fixture.ledgerCounts('AOF')).toEqual({ set: 1, reserve: 1, deduct: 400 });
  });
});
