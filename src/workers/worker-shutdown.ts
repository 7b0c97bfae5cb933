import type { Logger } from '../core/logger.js';

/** Where the signals come from: `process` in production, an EventEmitter in tests. */
export interface SignalSource {
  on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  off(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

export interface SupervisedWorker<I> {
  start(): Promise<I>;
  shutdown(reason: string): Promise<void>;
  /** Steps still running (logged as abandoned when the shutdown is cut short). */
  pendingSteps(): string[];
}

export interface SuperviseOptions<I> {
  worker: SupervisedWorker<I>;
  logger: Logger;
  /** From the first signal to the end of the shutdown (`worker.shutdownTimeoutMs`). */
  timeoutMs: number;
  signals?: SignalSource;
  /** Called once the worker started (the CLI prints its start line). */
  onStarted?: (info: I) => void;
}

export interface SuperviseResult {
  /** 0 after a graceful shutdown; 1 when it was cut short. */
  exitCode: 0 | 1;
  signal: 'SIGTERM' | 'SIGINT';
  outcome: 'graceful' | 'timeout' | 'second-signal';
  /** Shutdown steps still running when it was cut short. */
  abandoned: string[];
  /** From the first signal to the end, ms. */
  ms: number;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Runs a worker until SIGTERM or SIGINT, then shuts it down within `timeoutMs`: the first signal
 * starts the graceful shutdown; the timeout, or a second signal, cuts it short with exit code 1
 * after logging what was abandoned (the caller then exits the process, which ends the rest).
 * Listening starts before the worker does, so a signal during start-up is not lost (nor fatal):
 * the shutdown follows once start-up ends, within the same bound. A start-up failure is thrown.
 */
export async function superviseWorker<I>(options: SuperviseOptions<I>): Promise<SuperviseResult> {
  const { worker, logger } = options;
  const source = options.signals ?? process;
  const received: ('SIGTERM' | 'SIGINT')[] = [];
  let wake: (() => void) | undefined;
  const listeners = SIGNALS.map((signal) => {
    const listener = () => {
      received.push(signal);
      wake?.();
    };
    source.on(signal, listener);
    return [signal, listener] as const;
  });
  const nextSignal = (count: number) =>
    new Promise<void>((resolve) => {
      if (received.length >= count) resolve();
      else
        wake = () => {
          if (received.length >= count) resolve();
        };
    });
  let timer: NodeJS.Timeout | undefined;
  try {
    const starting = worker.start();
    const first = await Promise.race([starting.then(() => false), nextSignal(1).then(() => true)]);
    if (!first) {
      options.onStarted?.(await starting);
      await nextSignal(1);
    }
    const signal = received[0]!;
    const began = performance.now();
    logger.info({ signal, timeoutMs: options.timeoutMs }, `received ${signal}: shutting down`);
    const graceful = (async () => {
      // A failed start-up is thrown to the caller; it already closed what it opened.
      await starting;
      await worker.shutdown(signal);
      return 'graceful' as const;
    })();
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
    });
    const forced = nextSignal(2).then(() => 'second-signal' as const);
    const outcome = await Promise.race([graceful, timeout, forced]);
    const ms = Math.round(performance.now() - began);
    if (outcome === 'graceful') {
      logger.info({ signal, ms }, 'shutdown complete');
      return { exitCode: 0, signal, outcome, abandoned: [], ms };
    }
    const abandoned = worker.pendingSteps();
    logger.error(
      { signal, outcome, ms, abandoned },
      outcome === 'timeout'
        ? `shutdown did not finish within ${options.timeoutMs} ms: exiting with what is still running abandoned`
        : `second ${received[1]}: exiting now with what is still running abandoned`,
    );
    // Unacknowledged batches are redelivered and unfinished chunks fetched again: nothing is
    // lost by exiting here, only redone.
    graceful.catch(() => undefined);
    return { exitCode: 1, signal, outcome, abandoned, ms };
  } finally {
    clearTimeout(timer);
    for (const [signal, listener] of listeners) source.off(signal, listener);
  }
}
