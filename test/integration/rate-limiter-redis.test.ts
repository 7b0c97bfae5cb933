import { Redis } from 'ioredis';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthRefreshAuth } from '../../src/adapters/resilience/auth.js';
import { createRateLimiter, type RateLimiter } from '../../src/adapters/resilience/rate-limiter.js';
import { takeTokensArgs } from '../../src/adapters/resilience/redis-bucket.js';
import { limiterBucketKey } from '../../src/adapters/resilience/redis-keys.js';
import { runLuaScript, TAKE_TOKENS } from '../../src/adapters/resilience/redis-scripts.js';
import { RedisTokenStore } from '../../src/adapters/resilience/token-store.js';
import { TradectlError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { REDIS_URL, testConfig } from '../helpers/services.js';

// Several processes share one bucket through Redis (lua/take-tokens-1.lua). Each "process" here
// is a limiter with its own Redis connection; grants are counted over a scaled window.
describe('shared rate limiter and token store on Redis', () => {
  const config = testConfig();
  const prefix = config.redis.keyPrefix;
  const connections: Redis[] = [];
  const limiters: RateLimiter[] = [];
  let admin: Redis;

  function connect(): Redis {
    const redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
    connections.push(redis);
    return redis;
  }

  function limiter(account: string, rate: number, burst: number): RateLimiter {
    const created = createRateLimiter({
      platform: 'amazon',
      account,
      limits: { getOrders: { ratePerSecond: rate, burst } },
      redis: connect(),
      keyPrefix: prefix,
      maxConcurrent: 4,
    });
    limiters.push(created);
    return created;
  }

  beforeAll(() => {
    admin = connect();
    nock.disableNetConnect();
  });

  afterAll(async () => {
    nock.enableNetConnect();
    await Promise.all(limiters.map((l) => l.stop()));
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await Promise.all(connections.map((c) => c.quit()));
  });

  it('keeps two processes taking from one bucket within it, exactly, at every moment', async () => {
    // The script itself, driven by an explicit clock from two connections in turn: every grant
    // decision is known, so the bound is checked exactly rather than through timer jitter.
    const key = limiterBucketKey(prefix, 'amazon', 'script', 'getOrders');
    const clients = [connect(), connect()];
    const limit = { ratePerSecond: 20, burst: 5 };
    const start = 1_800_000_000_000;
    let granted = 0;
    for (let t = 0; t <= 2000; t += 5) {
      const allowed = limit.burst + Math.floor((limit.ratePerSecond * t) / 1000);
      // Both processes take until refused, turn about.
      for (let refused = 0; refused < clients.length; ) {
        refused = 0;
        for (const client of clients) {
          const reply = (await runLuaScript(
            client,
            TAKE_TOKENS,
            [key],
            takeTokensArgs(start + t, 1, limit),
          )) as [number, number];
          if (reply[0] === 1) granted++;
          else refused++;
          expect(granted).toBeLessThanOrEqual(allowed);
        }
      }
      // Fractions of a token add up in floating point: a grant may land one 5 ms step late.
      expect(granted).toBeGreaterThanOrEqual(allowed - 1);
    }
    expect(granted).toBe(limit.burst + limit.ratePerSecond * 2);
  });

  it('two limiters sharing one bucket never exceed it together, and use nearly all of it', async () => {
    const rate = 40;
    const burst = 10;
    const a = limiter('shared', rate, burst);
    const b = limiter('shared', rate, burst);
    const grants: string[] = [];
    const runFor = 2500;
    const started = Date.now();
    const worker = async (target: RateLimiter, by: string) => {
      while (Date.now() - started < runFor) {
        await target.schedule('getOrders', async () => {
          grants.push(by);
        });
      }
    };
    await Promise.all([worker(a, 'a'), worker(b, 'b'), worker(a, 'a'), worker(b, 'b')]);
    const elapsed = Date.now() - started;
    // Every grant was decided inside [started, started + elapsed]: at most burst + rate × elapsed.
    const budget = burst + (rate * elapsed) / 1000;
    expect(grants.length).toBeLessThanOrEqual(Math.floor(budget));
    expect(grants.length / budget).toBeGreaterThanOrEqual(0.9);
    expect(grants.filter((by) => by === 'a').length).toBeGreaterThan(10);
    expect(grants.filter((by) => by === 'b').length).toBeGreaterThan(10);
  });

  it('shares corrections and 429 pauses between processes', async () => {
    const a = limiter('pause', 5, 5);
    const b = limiter('pause', 5, 5);
    // A says the platform has no tokens left: B waits for the next one (1/5 s).
    let started = Date.now();
    await a.correct('getOrders', { remaining: 0 });
    await b.schedule('getOrders', async () => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
    // A was throttled for 300 ms: B sends nothing before the pause ends.
    started = Date.now();
    await a.penalise('getOrders', 300);
    await b.schedule('getOrders', async () => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
    expect((await a.snapshot()).buckets[0]!.tokens).toBeLessThan(1);
  });

  it('keeps working when its key disappears (the case bottleneck 2.19.5 cannot recover from on Redis 7)', async () => {
    const a = limiter('vanish', 100, 3);
    await a.schedule('getOrders', async () => undefined);
    const key = limiterBucketKey(prefix, 'amazon', 'vanish', 'getOrders');
    expect(await admin.pttl(key)).toBeGreaterThan(0);
    await admin.del(key);
    await expect(a.schedule('getOrders', async () => 'still ok')).resolves.toBe('still ok');
    const [bucket] = (await a.snapshot()).buckets;
    expect(bucket).toMatchObject({ backend: 'redis', burst: 3 });
    expect(bucket!.tokens).toBeLessThanOrEqual(3);
  });

  it('refreshes a token once across processes: the second finds it in the store under the lock', async () => {
    let tokenRequests = 0;
    nock('https://api.amazon.test')
      .post('/auth/o2/token')
      .times(2)
      .delay(100)
      .reply(() => {
        tokenRequests++;
        return [200, { access_token: `Atza|${tokenRequests}`, expires_in: 3600 }];
      });
    const make = () =>
      new OAuthRefreshAuth({
        platform: 'amazon',
        account: 'lock',
        tokenUrl: 'https://api.amazon.test/auth/o2/token',
        clientId: 'client',
        clientSecret: new Secret('secret'),
        refreshToken: new Secret('Atzr|configured'),
        header: 'x-amz-access-token',
        prefix: '',
        store: new RedisTokenStore({ redis: connect(), keyPrefix: prefix, lockPollMs: 20 }),
      });
    const first = make();
    const second = make();
    const request = { operation: 'getOrders' };
    const results = await Promise.all([
      first.authorize(request),
      second.authorize(request),
      first.authorize(request),
    ]);
    expect(tokenRequests).toBe(1);
    expect(results.map((r) => (r.headers as Record<string, string>)['x-amz-access-token'])).toEqual([
      'Atza|1',
      'Atza|1',
      'Atza|1',
    ]);
    nock.cleanAll();
  });

  it('reads stored tokens as Secrets and keeps them out of its errors', async () => {
    const store = new RedisTokenStore({ redis: connect(), keyPrefix: prefix });
    const account = { platform: 'etsy', account: 'redact' };
    await store.write(account, {
      accessToken: new Secret('etsy-access-1'),
      refreshToken: new Secret('etsy-refresh-1'),
      expiresAt: 1,
      seed: 's',
    });
    const record = await store.read(account);
    expect(record?.refreshToken?.reveal()).toBe('etsy-refresh-1');
    expect(JSON.stringify(record)).not.toContain('etsy-');
    // Redis refusing a read (a key of the wrong type) or losing the connection mid-write: the
    // errors name the failure, never a token, and carry no cause (ioredis puts the command there).
    const broken = { platform: 'etsy', account: 'broken' };
    await admin.lpush(`${prefix}auth:{etsy:broken}`, 'not a hash');
    const readError = await store.read(broken).catch((caught: unknown) => caught);
    const closed = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
    await closed.quit();
    const writeError = await new RedisTokenStore({ redis: closed, keyPrefix: prefix })
      .write(account, {
        accessToken: new Secret('etsy-access-2'),
        refreshToken: new Secret('etsy-refresh-2'),
      })
      .catch((caught: unknown) => caught);
    for (const error of [readError, writeError]) {
      expect(error).toBeInstanceOf(TradectlError);
      expect((error as TradectlError).code).toBe('TRADECTL_TOKEN_STORE');
      expect((error as TradectlError).cause).toBeUndefined();
      expect(`${JSON.stringify(error)} ${(error as Error).message}`).not.toContain('etsy-');
    }
    expect((await store.read(account))?.refreshToken?.reveal()).toBe('etsy-refresh-1');
  });
});
