import { describe, expect, it } from 'vitest';
import { PlatformError, RetriesExhaustedError } from '../../src/adapters/resilience/platform-error.js';
import { backoffDelay, type RetryPolicy, retry } from '../../src/adapters/resilience/retry.js';
import { TradectlError, ValidationError } from '../../src/core/errors.js';

const context = { platform: 'shopify', account: 'shop1', operation: 'orders.json' };

function transient(
  message = 'platform error 503',
  extra: Partial<{ retryAfterMs: number; throttled: boolean }> = {},
) {
  return new PlatformError('TRADECTL_PLATFORM_UNAVAILABLE', message, {
    ...context,
    kind: 'transient',
    ...extra,
  });
}

/** A policy whose waits are recorded instead of slept, with jitter pinned by `random`. */
function recording(overrides: Partial<RetryPolicy> = {}) {
  const waits: number[] = [];
  const policy: Partial<RetryPolicy> = {
    retries: 4,
    baseMs: 100,
    maxMs: 1000,
    random: () => 0.999_999,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  };
  return { waits, policy };
}

/** Fails with each error in turn, then succeeds; counts the calls. */
function failing(...errors: unknown[]) {
  let calls = 0;
  const fn = async () => {
    calls++;
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { fn, calls: () => calls };
}

describe('retry', () => {
  it('retries retriable errors with exponential backoff capped at maxMs', async () => {
    const { waits, policy } = recording({ retries: 6 });
    const { fn, calls } = failing(
      transient(),
      transient(),
      transient(),
      transient(),
      transient(),
      transient(),
    );
    await expect(retry(fn, policy)).resolves.toBe('ok');
    expect(calls()).toBe(7);
    // random() just under 1: each wait is just under its ceiling 100, 200, 400, 800, then 1000.
    expect(waits).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('draws each wait uniformly below the ceiling (full jitter)', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(3, { ...policy, random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { ...policy, random: () => 0.5 })).toBe(200);
    expect(backoffDelay(10, { ...policy, random: () => 0.5 })).toBe(500);
  });

  it('never retries an error that is not retriable', async () => {
    for (const error of [
      new ValidationError('bad order', [{ path: 'id', message: 'missing' }]),
      new PlatformError('TRADECTL_PLATFORM_AUTH', 'revoked', { ...context, kind: 'config' }),
      new TypeError('a bug'),
      new TradectlError('TRADECTL_X', 'not marked', { kind: 'transient', retriable: false }),
    ]) {
      const { waits, policy } = recording();
      const { fn, calls } = failing(error);
      await expect(retry(fn, policy)).rejects.toBe(error);
      expect(calls()).toBe(1);
      expect(waits).toEqual([]);
    }
  });

  it('waits at least the Retry-After of a throttled answer', async () => {
    const { waits, policy } = recording({ random: () => 0 });
    const throttled = transient('throttled', { retryAfterMs: 2000, throttled: true });
    const { fn } = failing(throttled, transient());
    await expect(retry(fn, policy)).resolves.toBe('ok');
    expect(waits).toEqual([2000, 0]);
  });

  it('gives up with TRADECTL_RETRIES_EXHAUSTED keeping the attempts and the last cause', async () => {
    const { waits, policy } = recording({ retries: 2 });
    const last = transient('third failure');
    const { fn, calls } = failing(transient('first'), transient('second'), last);
    const error = await retry(fn, policy).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    const exhausted = error as RetriesExhaustedError;
    expect(exhausted.code).toBe('TRADECTL_RETRIES_EXHAUSTED');
    expect(exhausted.attempts).toBe(3);
    expect(exhausted.lastError).toBe(last);
    expect(exhausted.cause).toBe(last);
    expect(exhausted.retriable).toBe(false);
    expect(exhausted.kind).toBe('transient');
    expect(exhausted.details).toMatchObject({
      attempts: 3,
      lastCode: 'TRADECTL_PLATFORM_UNAVAILABLE',
      account: 'shop1',
    });
    expect(calls()).toBe(3);
    expect(waits.length).toBe(2);
  });

  it('hands a Retry-After longer than maxRetryAfterMs back to the scheduler instead of waiting', async () => {
    const { waits, policy } = recording({ maxRetryAfterMs: 60_000 });
    const { fn } = failing(transient('throttled', { retryAfterMs: 3_600_000, throttled: true }));
    const error = (await retry(fn, policy).catch((caught: unknown) => caught)) as RetriesExhaustedError;
    expect(error.code).toBe('TRADECTL_RETRIES_EXHAUSTED');
    expect(error.details.retryAfterMs).toBe(3_600_000);
    expect(waits).toEqual([]);
  });

  it('stops at once when the signal aborts, during a wait or before an attempt', async () => {
    const controller = new AbortController();
    const reason = new Error('shutdown');
    const { fn, calls } = failing(transient(), transient());
    const policy: Partial<RetryPolicy> = {
      sleep: async () => {
        controller.abort(reason);
        throw reason;
      },
    };
    await expect(retry(fn, policy, controller.signal)).rejects.toBe(reason);
    expect(calls()).toBe(1);
    await expect(retry(fn, policy, controller.signal)).rejects.toBe(reason);
    expect(calls()).toBe(1);
  });

  it('reports each retry before waiting', async () => {
    const seen: { attempt: number; delayMs: number }[] = [];
    const { policy } = recording({
      random: () => 0.5,
      onRetry: ({ attempt, delayMs }) => seen.push({ attempt, delayMs }),
    });
    const { fn } = failing(transient(), transient());
    await retry(fn, policy);
    expect(seen).toEqual([
      { attempt: 1, delayMs: 50 },
      { attempt: 2, delayMs: 100 },
    ]);
  });
});
