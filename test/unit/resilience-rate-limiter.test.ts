import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter, type RateLimiter } from '../../src/adapters/resilience/rate-limiter.js';
import { takeTokensArgs } from '../../src/adapters/resilience/redis-bucket.js';
import { limiterBucketKey } from '../../src/adapters/resilience/redis-keys.js';
import { rateHeaderObserver, usedOfSizeObserver } from '../../src/adapters/resilience/usage-headers.js';

// Bottleneck reads Date.now and runs on setTimeout/setInterval: fake timers drive it exactly, so
// these tests count grants against simulated time instead of racing the wall clock.
describe('rate limiter (in-process token bucket)', () => {
  let limiter: RateLimiter | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
  });
  afterEach(async () => {
    if (limiter) await settle(limiter.stop());
    limiter = undefined;
    vi.useRealTimers();
  });

  /** Bottleneck yields through setTimeout(0) inside every call: move simulated time until `promise` settles. */
  async function settle<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    for (let step = 0; !done && step < 10_000; step++) await vi.advanceTimersByTimeAsync(1);
    return promise;
  }

  function make(limits: Record<string, { ratePerSecond: number; burst: number }>, extra = {}) {
    limiter = createRateLimiter({ platform: 'shopify', account: 'shop1', limits, ...extra });
    return limiter;
  }

  /** Schedules `count` calls at once and records when (simulated ms) each one ran. */
  function flood(target: RateLimiter, operation: string, count: number) {
    const start = Date.now();
    const ranAt: number[] = [];
    const done = Array.from({ length: count }, () =>
      target.schedule(operation, async () => {
        ranAt.push(Date.now() - start);
      }),
    );
    // Calls still queued when a test stops its limiter are dropped: expected, not unhandled.
    for (const call of done) call.catch(() => undefined);
    return { ranAt, done };
  }

  it('grants the burst at once, then no more than the rate allows, and keeps up with the rate', async () => {
    const target = make({ default: { ratePerSecond: 10, burst: 5 } });
    const { ranAt, done } = flood(target, 'orders.json', 40);
    await vi.advanceTimersByTimeAsync(20);
    expect(ranAt.length).toBe(5);
    for (let t = 70; t <= 3020; t += 50) {
      await vi.advanceTimersByTimeAsync(50);
      // Never more than burst + rate × elapsed, at any moment.
      expect(ranAt.length).toBeLessThanOrEqual(5 + Math.floor((10 * t) / 1000));
    }
    // …and close to it: 5 + 30 allowed by 3 s.
    expect(ranAt.length).toBeGreaterThanOrEqual(Math.floor(0.9 * 35));
    await vi.advanceTimersByTimeAsync(1000);
    await settle(Promise.all(done));
    expect(ranAt.length).toBe(40);
  });

  it('keeps one bucket per operation class: a listed operation does not drain the default', async () => {
    const target = make({
      getOrders: { ratePerSecond: 0.0167, burst: 2 },
      default: { ratePerSecond: 5, burst: 3 },
    });
    expect(target.classOf('getOrders')).toBe('getOrders');
    expect(target.classOf('getOrderItems')).toBe('default');
    const orders = flood(target, 'getOrders', 4);
    const items = flood(target, 'getOrderItems', 3);
    await vi.advanceTimersByTimeAsync(100);
    expect(orders.ranAt.length).toBe(2);
    expect(items.ranAt.length).toBe(3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(orders.ranAt.length).toBe(3);
    await settle(target.stop());
    await Promise.allSettled(orders.done);
  });

  it('applies the account override and the scale factor to the documented limits', () => {
    const target = make(
      { getOrders: { ratePerSecond: 0.0167, burst: 20 } },
      { overrides: { burst: 10 }, scale: 100 },
    );
    expect(target.limitOf('getOrders')).toEqual({ ratePerSecond: 1.67, burst: 10 });
    expect(target.limitOf('unlisted')).toEqual({ ratePerSecond: 100, burst: 10 });
  });

  it('lowers the tokens left to what a Shopify call-limit header reports', async () => {
    const target = make({ default: { ratePerSecond: 2, burst: 40 } });
    const correction = usedOfSizeObserver('X-Shopify-Shop-Api-Call-Limit')({
      'x-shopify-shop-api-call-limit': '37/40',
    });
    expect(correction).toEqual({ remaining: 3, burst: 40 });
    await settle(target.correct('orders.json', correction!));
    const { ranAt } = flood(target, 'orders.json', 10);
    await vi.advanceTimersByTimeAsync(10);
    expect(ranAt.length).toBe(3);
    const snapshot = await settle(target.snapshot());
    expect(snapshot.buckets[0]).toMatchObject({
      bucket: 'shopify:shop1:default',
      backend: 'local',
      tokens: 0,
    });
    expect(snapshot.buckets[0]!.queued + snapshot.buckets[0]!.running).toBe(7);
  });

  it('follows the rate an Amazon x-amzn-RateLimit-Limit header reports', async () => {
    const target = make({ getOrder: { ratePerSecond: 0.5, burst: 2 } });
    const correction = rateHeaderObserver('x-amzn-RateLimit-Limit')({ 'x-amzn-ratelimit-limit': '5.0' });
    expect(correction).toEqual({ ratePerSecond: 5 });
    await settle(target.correct('getOrder', correction!));
    const { ranAt } = flood(target, 'getOrder', 20);
    await vi.advanceTimersByTimeAsync(2000);
    // 2 at once + 5/s for 2 s: at 0.5/s it would have been 3.
    expect(ranAt.length).toBeGreaterThanOrEqual(11);
    expect(ranAt.length).toBeLessThanOrEqual(12);
    expect((await settle(target.snapshot())).buckets[0]!.ratePerSecond).toBe(5);
  });

  it('pauses a 429 without Retry-After for one token at the corrected rate, not the documented one', async () => {
    const target = make({ getOrder: { ratePerSecond: 0.0056, burst: 2 } });
    await settle(target.correct('getOrder', { ratePerSecond: 5 }));
    const pausedAt = Date.now();
    await settle(target.penalise('getOrder'));
    // 1 / 5 per second = 200 ms; the documented 0.0056/s would have paused for 179 s.
    expect((await settle(target.snapshot())).buckets[0]!.pausedUntil).toBe(pausedAt + 200);
  });

  it('sends nothing while paused after a 429 and resumes afterwards', async () => {
    const target = make({ default: { ratePerSecond: 10, burst: 10 } });
    const pausedAt = Date.now();
    await settle(target.penalise('orders.json', 2000));
    const floodAt = Date.now();
    const { ranAt } = flood(target, 'orders.json', 5);
    await vi.advanceTimersByTimeAsync(1900);
    expect(ranAt).toEqual([]);
    expect((await settle(target.snapshot())).buckets[0]!.pausedUntil).toBe(pausedAt + 2000);
    // Nothing accrued during the pause: 10/s from its end, 5 calls by 500 ms after it.
    await vi.advanceTimersByTimeAsync(700);
    expect(ranAt.length).toBe(5);
    expect(floodAt + Math.min(...ranAt)).toBeGreaterThanOrEqual(pausedAt + 2000);
  });

  it('stops waiting for a token when the caller aborts', async () => {
    const target = make({ default: { ratePerSecond: 1, burst: 1 } });
    await settle(target.schedule('x', async () => 'first'));
    const controller = new AbortController();
    const fn = vi.fn(async () => 'second');
    const waiting = target.schedule('x', fn, { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    await vi.advanceTimersByTimeAsync(2000);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('shared bucket script arguments', () => {
  it('passes whole milliseconds, the weight, the rate and the burst, in the order the script reads them', () => {
    expect(takeTokensArgs(1_767_225_600_123.9, 2, { ratePerSecond: 0.0167, burst: 20 })).toEqual([
      1_767_225_600_123, 2, 0.0167, 20,
    ]);
  });

  it("keeps an account's buckets in one Redis Cluster slot", () => {
    expect(limiterBucketKey('tradectl:', 'amazon', 'eu1', 'getOrders')).toBe(
      'tradectl:limiter:{amazon:eu1}:getOrders',
    );
  });
});
