import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BreakerStateChange, PlatformBreaker } from '../../src/adapters/resilience/breaker.js';
import { PlatformError } from '../../src/adapters/resilience/platform-error.js';
import { memoryLogger } from '../helpers/log-sink.js';

const context = { platform: 'ebay', account: 'us1', operation: 'getOrders' };
const unavailable = () =>
  new PlatformError('TRADECTL_PLATFORM_UNAVAILABLE', 'platform error 503', { ...context, kind: 'transient' });
const throttled = () =>
  new PlatformError('TRADECTL_PLATFORM_THROTTLED', 'throttled', {
    ...context,
    kind: 'transient',
    throttled: true,
  });
const rejected = () =>
  new PlatformError('TRADECTL_PLATFORM_REJECTED', 'request rejected (400)', { ...context, kind: 'data' });
const revoked = () => new PlatformError('TRADECTL_PLATFORM_AUTH', 'revoked', { ...context, kind: 'config' });

describe('platform breaker', () => {
  let breaker: PlatformBreaker;
  let log: ReturnType<typeof memoryLogger>;
  let changes: BreakerStateChange[];

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    log = memoryLogger();
    changes = [];
    breaker = new PlatformBreaker({
      platform: 'ebay',
      account: 'us1',
      logger: log.logger,
      options: {
        volumeThreshold: 4,
        errorThresholdPercentage: 50,
        resetTimeout: 1000,
        rollingCountTimeout: 10_000,
      },
    });
    breaker.on('stateChange', (change) => changes.push(change));
  });
  afterEach(() => {
    breaker.shutdown();
    vi.useRealTimers();
  });

  async function failWith(error: () => Error, times: number) {
    for (let i = 0; i < times; i++) {
      await expect(breaker.fire(() => Promise.reject(error()), 'getOrders')).rejects.toThrow();
    }
  }

  it('opens after the threshold of transient failures and then fails fast without calling', async () => {
    await failWith(unavailable, 3);
    expect(breaker.state).toBe('closed');
    await failWith(unavailable, 1);
    expect(breaker.state).toBe('open');
    const action = vi.fn(async () => 'never');
    const error = (await breaker
      .fire(action, 'getOrder')
      .catch((caught: unknown) => caught)) as PlatformError;
    expect(action).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(PlatformError);
    expect([error.code, error.retriable, error.operation]).toEqual([
      'TRADECTL_BREAKER_OPEN',
      false,
      'getOrder',
    ]);
    expect(error.retryAfterMs).toBe(1000);
    expect(breaker.snapshot()).toMatchObject({
      state: 'open',
      probeAt: Date.now() + 1000,
      stats: { fires: 5, failures: 4, rejects: 1 },
    });
  });

  it('does not count throttling, revoked credentials or rejected requests as failures', async () => {
    await failWith(throttled, 10);
    await failWith(rejected, 10);
    await failWith(revoked, 10);
    await failWith(() => new TypeError('a bug'), 10);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().stats.failures).toBe(0);
  });

  it('lets one probe through after resetTimeout and closes again when it succeeds', async () => {
    await failWith(unavailable, 4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(breaker.state).toBe('halfOpen');
    await expect(breaker.fire(async () => 'recovered')).resolves.toBe('recovered');
    expect(breaker.state).toBe('closed');
    expect(changes.map((change) => `${change.from}->${change.to}`)).toEqual([
      'closed->open',
      'open->halfOpen',
      'halfOpen->closed',
    ]);
  });

  it('opens again when the half-open probe fails', async () => {
    await failWith(unavailable, 4);
    await vi.advanceTimersByTimeAsync(1000);
    await failWith(unavailable, 1);
    expect(breaker.state).toBe('open');
  });

  it('logs every state change at warn with the platform and account', async () => {
    await failWith(unavailable, 4);
    const warnings = log.lines.filter((line) => line.level === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({
        platform: 'ebay',
        account: 'us1',
        msg: 'circuit breaker closed -> open',
        breaker: expect.objectContaining({ from: 'closed', to: 'open' }),
      }),
    ]);
    expect(JSON.parse(JSON.stringify(breaker))).toMatchObject({
      platform: 'ebay',
      account: 'us1',
      state: 'open',
    });
  });
});
