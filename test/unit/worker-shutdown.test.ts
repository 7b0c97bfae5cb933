import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type SupervisedWorker, superviseWorker } from '../../src/workers/worker-shutdown.js';
import { memoryLogger } from '../helpers/log-sink.js';

// superviseWorker with a fake worker whose start and shutdown the test resolves by hand, signals
// from an EventEmitter, and vitest's fake timers for the shutdown bound.

function fakeWorker() {
  const calls: string[] = [];
  let finishStart!: () => void;
  let failStart!: (error: Error) => void;
  let finishShutdown!: () => void;
  const pending = new Set<string>();
  const worker: SupervisedWorker<{ roles: string[] }> = {
    start: () =>
      new Promise((resolve, reject) => {
        calls.push('start');
        finishStart = () => resolve({ roles: ['sync'] });
        failStart = reject;
      }),
    shutdown: (reason) => {
      calls.push(`shutdown:${reason}`);
      pending.add('sink');
      return new Promise<void>((resolve) => {
        finishShutdown = () => {
          pending.delete('sink');
          resolve();
        };
      });
    },
    pendingSteps: () => [...pending],
  };
  return {
    worker,
    calls,
    finishStart: () => finishStart(),
    failStart: (error: Error) => failStart(error),
    finishShutdown: () => finishShutdown(),
  };
}

const tick = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('worker supervision', () => {
  it('shuts down on SIGTERM and exits 0 when the shutdown ends in time; listeners are removed', async () => {
    const fake = fakeWorker();
    const signals = new EventEmitter();
    const logs = memoryLogger('info');
    let started: unknown;
    const result = superviseWorker({
      worker: fake.worker,
      logger: logs.logger,
      timeoutMs: 25_000,
      signals,
      onStarted: (info) => {
        started = info;
      },
    });
    fake.finishStart();
    await tick();
    expect(started).toEqual({ roles: ['sync'] });
    signals.emit('SIGTERM');
    await vi.advanceTimersByTimeAsync(24_000);
    expect(fake.calls).toEqual(['start', 'shutdown:SIGTERM']);
    fake.finishShutdown();
    await expect(result).resolves.toMatchObject({
      exitCode: 0,
      signal: 'SIGTERM',
      outcome: 'graceful',
      abandoned: [],
    });
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
    expect(logs.lines.map((line) => line.msg)).toContain('shutdown complete');
  });

  it('exits 1 after the timeout and logs what was abandoned', async () => {
    const fake = fakeWorker();
    const signals = new EventEmitter();
    const logs = memoryLogger('info');
    const result = superviseWorker({
      worker: fake.worker,
      logger: logs.logger,
      timeoutMs: 25_000,
      signals,
    });
    fake.finishStart();
    await tick();
    signals.emit('SIGINT');
    await vi.advanceTimersByTimeAsync(25_000);
    await expect(result).resolves.toMatchObject({
      exitCode: 1,
      signal: 'SIGINT',
      outcome: 'timeout',
      abandoned: ['sink'],
    });
    const line = logs.lines.find((entry) => entry.outcome === 'timeout');
    expect(line).toMatchObject({ level: 'error', abandoned: ['sink'] });
  });

  it('exits 1 at once on a second signal', async () => {
    const fake = fakeWorker();
    const signals = new EventEmitter();
    const result = superviseWorker({
      worker: fake.worker,
      logger: memoryLogger('info').logger,
      timeoutMs: 25_000,
      signals,
    });
    fake.finishStart();
    await tick();
    signals.emit('SIGTERM');
    await tick();
    signals.emit('SIGTERM');
    await expect(result).resolves.toMatchObject({
      exitCode: 1,
      outcome: 'second-signal',
      abandoned: ['sink'],
    });
  });

  it('keeps a signal that arrives during start-up and shuts down once start-up ends', async () => {
    const fake = fakeWorker();
    const signals = new EventEmitter();
    let startedCalled = false;
    const result = superviseWorker({
      worker: fake.worker,
      logger: memoryLogger('info').logger,
      timeoutMs: 25_000,
      signals,
      onStarted: () => {
        startedCalled = true;
      },
    });
    signals.emit('SIGTERM');
    await tick();
    expect(fake.calls).toEqual(['start']);
    fake.finishStart();
    await tick();
    expect(fake.calls).toEqual(['start', 'shutdown:SIGTERM']);
    fake.finishShutdown();
    await expect(result).resolves.toMatchObject({ exitCode: 0 });
    expect(startedCalled).toBe(false);
  });

  it('throws a start-up failure and removes its listeners', async () => {
    const fake = fakeWorker();
    const signals = new EventEmitter();
    const result = superviseWorker({
      worker: fake.worker,
      logger: memoryLogger('info').logger,
      timeoutMs: 25_000,
      signals,
    });
    fake.failStart(new Error('redis is down'));
    await expect(result).rejects.toThrow('redis is down');
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });
});
