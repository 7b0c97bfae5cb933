import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { Config } from '../../src/core/config.js';
import { TradectlError } from '../../src/core/errors.js';
import { createIdGenerator } from '../../src/core/id-generator.js';
import { silentLogger } from '../../src/core/logger.js';
import { MAX_WORKER_ID, parseSnowflake } from '../../src/core/snowflake.js';
import {
  acquireWorkerIdLease,
  type WorkerIdLease,
  workerLeaseKey,
  workerWatermarkKey,
} from '../../src/core/worker-id-lease.js';
import { REDIS_URL, testConfig } from '../helpers/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/lease-worker-id.ts', import.meta.url));
const logger = silentLogger();

let redis: Redis;
const prefixes: string[] = [];

/** A config with its own Redis key prefix, so tests never see each other's leases. */
function freshConfig(): Config {
  const config = testConfig();
  prefixes.push(config.redis.keyPrefix);
  return config;
}

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof TradectlError) return error.code;
    throw error;
  }
  return undefined;
}

interface Child {
  process: ChildProcessWithoutNullStreams;
  lines: Interface;
  nextLine(): Promise<string>;
}

function startChild(keyPrefix: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, REDIS_URL, keyPrefix], { cwd: ROOT });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  return {
    process: child,
    lines,
    nextLine: async () => {
      const { value, done } = await iterator.next();
      if (done) throw new Error(`child exited early: ${stderr}`);
      return value as string;
    },
  };
}

describe('worker id lease in Redis', () => {
  it('gives two processes started at once different worker ids', async () => {
    const config = freshConfig();
    const children = [startChild(config.redis.keyPrefix), startChild(config.redis.keyPrefix)];
    try {
      // Both are loaded before either leases, so the two acquisitions really race.
      expect(await Promise.all(children.map((child) => child.nextLine()))).toEqual(['ready', 'ready']);
      for (const child of children) child.process.stdin.write('go\n');
      const reports = (await Promise.all(children.map((child) => child.nextLine()))).map(
        (line) => JSON.parse(line) as { workerId: number; ids: string[] },
      );
      // Both hold their lease at this point.
      expect(reports.map((report) => report.workerId).sort()).toEqual([0, 1]);
      const all = new Set(reports.flatMap((report) => report.ids));
      expect(all.size).toBe(4000);
      for (const report of reports) {
        expect(new Set(report.ids.map((id) => parseSnowflake(id).workerId))).toEqual(
          new Set([report.workerId]),
        );
      }
      for (const child of children) child.process.stdin.write('release\n');
      expect(await Promise.all(children.map((child) => child.nextLine()))).toEqual(['released', 'released']);
      await Promise.all(children.map((child) => once(child.process, 'exit')));
      expect(await redis.exists(workerLeaseKey(config.redis.keyPrefix, 0))).toBe(0);
      expect(await redis.exists(workerLeaseKey(config.redis.keyPrefix, 1))).toBe(0);
    } finally {
      for (const child of children) child.process.kill();
    }
  });

  it('gives 20 leases in one process 20 distinct worker ids, lowest first', async () => {
    const config = freshConfig();
    const leases: WorkerIdLease[] = [];
    for (let i = 0; i < 20; i++) {
      leases.push(await acquireWorkerIdLease({ redis, keyPrefix: config.redis.keyPrefix, logger }));
    }
    expect(leases.map((lease) => lease.workerId)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const lease of leases) expect(await lease.release(Date.now())).toBe(true);
  });

  it('lets only one of several acquirers that all saw the same id free take it', async () => {
    const config = freshConfig();
    // Started together, all existence probes run before any acquisition: SET NX must arbitrate.
    const leases = await Promise.all(
      Array.from({ length: 10 }, () =>
        acquireWorkerIdLease({ redis, keyPrefix: config.redis.keyPrefix, logger }),
      ),
    );
    expect(new Set(leases.map((lease) => lease.workerId)).size).toBe(10);
    for (const lease of leases) await lease.release(Date.now());
  });

  it('frees the id on release, and the next owner starts after the last timestamp issued', async () => {
    const config = freshConfig();
    const first = await createIdGenerator({ config, redis, logger });
    expect(first.workerId).toBe(0);
    const lastId = first.generator.next();
    await first.close();
    expect(await redis.exists(workerLeaseKey(config.redis.keyPrefix, 0))).toBe(0);
    const watermark = Number(await redis.get(workerWatermarkKey(config.redis.keyPrefix, 0)));
    expect(watermark).toBe(parseSnowflake(lastId).timestampMs);

    const second = await createIdGenerator({ config, redis, logger });
    expect(second.workerId).toBe(0);
    expect(second.lease?.startAfterMs).toBe(watermark);
    const nextId = second.generator.next();
    expect(parseSnowflake(nextId).timestampMs).toBeGreaterThan(watermark);
    await second.close();
    expect(codeOf(() => second.generator.next())).toBe('TRADECTL_ID_GENERATOR_CLOSED');
  });

  it('detects a lease taken over by someone else on renewal and stops issuing ids', async () => {
    const config = freshConfig();
    const handle = await createIdGenerator({
      config,
      redis,
      logger,
      lease: { ttlMs: 2000, renewIntervalMs: 50, safetyMarginMs: 200 },
    });
    handle.generator.next();
    const lost = once(handle.lease!, 'lost');
    // What another process does after our lease expired during a long pause.
    await redis.set(workerLeaseKey(config.redis.keyPrefix, handle.workerId), 'someone-else', 'PX', 60_000);
    const [error] = (await lost) as [TradectlError];
    expect(error.code).toBe('TRADECTL_WORKER_LEASE_LOST');
    expect(handle.lease!.lost).toBe(true);
    expect(codeOf(() => handle.generator.next())).toBe('TRADECTL_WORKER_LEASE_LOST');
    await handle.close();
    // Releasing a lost lease leaves the new owner's key alone.
    expect(await redis.get(workerLeaseKey(config.redis.keyPrefix, handle.workerId))).toBe('someone-else');
  });

  it('stops issuing past its validity after a pause and resumes once a renewal succeeds', async () => {
    const config = freshConfig();
    let skewMs = 0;
    const clock = () => Date.now() + skewMs;
    const handle = await createIdGenerator({
      config,
      redis,
      logger,
      clock,
      lease: { ttlMs: 60_000, renewIntervalMs: 20_000, safetyMarginMs: 1000 },
    });
    handle.generator.next();
    // A pause longer than the lease: the process may no longer own its id and must not assume it.
    skewMs = 60_000;
    expect(codeOf(() => handle.generator.next())).toBe('TRADECTL_WORKER_LEASE_EXPIRED');
    // Redis says we still own it (its ttl did not run out in real time): ids flow again.
    expect(await handle.lease!.renew()).toBe(true);
    expect(parseSnowflake(handle.generator.next()).workerId).toBe(handle.workerId);
    await handle.close();
  });

  it('refuses to issue when the previous owner of the id ran ahead of our clock', async () => {
    const config = freshConfig();
    const ahead = await createIdGenerator({ config, redis, logger, clock: () => Date.now() + 5000 });
    ahead.generator.next();
    await ahead.close();
    const behind = await createIdGenerator({ config, redis, logger });
    expect(behind.workerId).toBe(ahead.workerId);
    expect(codeOf(() => behind.generator.next())).toBe('TRADECTL_CLOCK_ROLLBACK');
    await behind.close();
  });

  it('reports exhaustion when all 1,024 worker ids are held', async () => {
    const config = freshConfig();
    const pipeline = redis.pipeline();
    for (let id = 0; id <= MAX_WORKER_ID; id++) {
      pipeline.set(workerLeaseKey(config.redis.keyPrefix, id), 'other', 'PX', 60_000);
    }
    await pipeline.exec();
    await expect(
      acquireWorkerIdLease({ redis, keyPrefix: config.redis.keyPrefix, logger }),
    ).rejects.toMatchObject({
      code: 'TRADECTL_WORKER_IDS_EXHAUSTED',
      retriable: true,
    });
  });

  it('tradectl ids new leases a worker id for the run and releases it before returning', async () => {
    const config = freshConfig();
    const dir = await mkdtemp(join(tmpdir(), 'tradectl-ids-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ redis: { url: REDIS_URL, keyPrefix: config.redis.keyPrefix } }));
      let stdout = '';
      let stderr = '';
      const sink = (append: (text: string) => void) =>
        new Writable({
          write(chunk, _encoding, done) {
            append(String(chunk));
            done();
          },
        });
      const io = {
        stdout: sink((text) => {
          stdout += text;
        }),
        stderr: sink((text) => {
          stderr += text;
        }),
        env: {},
      };
      expect(await runCli(['ids', 'new', '--count', '3', '--config', file], io)).toBe(0);
      expect(stderr).toBe('');
      const ids = stdout.trim().split('\n');
      expect(ids.map((id) => parseSnowflake(id).workerId)).toEqual([0, 0, 0]);
      expect(await redis.exists(workerLeaseKey(config.redis.keyPrefix, 0))).toBe(0);
      expect(Number(await redis.get(workerWatermarkKey(config.redis.keyPrefix, 0)))).toBe(
        parseSnowflake(ids[2]!).timestampMs,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
