import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { Logger } from '../../core/logger.js';
import { PLATFORM_ERROR_CODES, PlatformError } from './platform-error.js';

/** Thresholds of a platform account's breaker (opossum options of the same names). */
export interface BreakerOptions {
  /** Failure share of the calls in the window, in %, above which the breaker opens. Default 50. */
  errorThresholdPercentage?: number;
  /** Calls in the window before the breaker may open at all. Default 10. */
  volumeThreshold?: number;
  /** How long an open breaker fails fast before letting one probe through (half-open), ms. Default 30,000. */
  resetTimeout?: number;
  /** Length of the rolling window the failure share is measured over, ms. Default 60,000. */
  rollingCountTimeout?: number;
  /** Buckets of that window. Default 10. */
  rollingCountBuckets?: number;
}

export const DEFAULT_BREAKER_OPTIONS: Required<BreakerOptions> = {
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeout: 30_000,
  rollingCountTimeout: 60_000,
  rollingCountBuckets: 10,
};

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerStateChange {
  platform: string;
  account: string;
  from: BreakerState;
  to: BreakerState;
}

/** A breaker's state for `tradectl status` and metrics. */
export interface BreakerSnapshot {
  platform: string;
  account: string;
  state: BreakerState;
  /** When an open breaker lets its next probe through (Unix ms), else null. */
  probeAt: number | null;
  stats: { fires: number; successes: number; failures: number; rejects: number };
}

type Action = () => Promise<unknown>;

/**
 * The circuit breaker of one platform account (opossum). Only transient platform failures
 * (5xx, network, timeouts) count: throttling is the limiter's business, revoked credentials and
 * rejected requests say nothing about the platform's health. An open breaker fails fast with
 * TRADECTL_BREAKER_OPEN (not retriable: the retry loop stops, the sync scheduler comes back
 * later); after `resetTimeout` one probe goes through and closes it again on success.
 *
 * Emits `stateChange` and logs every change at warn. Its timers are unref'ed (opossum's own).
 */
export class PlatformBreaker extends EventEmitter<{ stateChange: [BreakerStateChange] }> {
  readonly platform: string;
  readonly account: string;
  readonly #breaker: CircuitBreaker<[Action], unknown>;
  readonly #resetTimeout: number;
  readonly #now: () => number;
  #state: BreakerState = 'closed';
  #openedAt: number | null = null;

  constructor(options: {
    platform: string;
    account: string;
    logger: Logger;
    options?: BreakerOptions | undefined;
    now?: () => number;
  }) {
    super();
    this.platform = options.platform;
    this.account = options.account;
    this.#now = options.now ?? Date.now;
    const settings = { ...DEFAULT_BREAKER_OPTIONS, ...options.options };
    this.#resetTimeout = settings.resetTimeout;
    this.#breaker = new CircuitBreaker<[Action], unknown>((action: Action) => action(), {
      ...settings,
      name: `${options.platform}:${options.account}`,
      // axios has the request timeout; a breaker timeout would also cut calls waiting for a token.
      timeout: false,
      errorFilter: (error: unknown) => !countsAsFailure(error),
    });
    const logger = options.logger.child({ platform: options.platform, account: options.account });
    const change = (to: BreakerState) => {
      const from = this.#state;
      if (from === to) return;
      this.#state = to;
      this.#openedAt = to === 'open' ? this.#now() : this.#openedAt;
      logger.warn(
        { breaker: { from, to, stats: this.snapshot().stats } },
        `circuit breaker ${from} -> ${to}`,
      );
      this.emit('stateChange', { platform: this.platform, account: this.account, from, to });
    };
    this.#breaker.on('open', () => change('open'));
    this.#breaker.on('halfOpen', () => change('halfOpen'));
    this.#breaker.on('close', () => change('closed'));
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Runs `action` through the breaker; fails fast with TRADECTL_BREAKER_OPEN while it is open. */
  async fire<T>(action: () => Promise<T>, operation = 'request'): Promise<T> {
    try {
      return (await this.#breaker.fire(action)) as T;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN') throw this.#openError(operation, code);
      throw error;
    }
  }

  snapshot(): BreakerSnapshot {
    const stats = this.#breaker.stats;
    return {
      platform: this.platform,
      account: this.account,
      state: this.#state,
      probeAt: this.#state === 'open' && this.#openedAt !== null ? this.#openedAt + this.#resetTimeout : null,
      stats: {
        fires: stats.fires,
        successes: stats.successes,
        failures: stats.failures,
        rejects: stats.rejects,
      },
    };
  }

  toJSON(): BreakerSnapshot {
    return this.snapshot();
  }

  /** Stops the breaker's timers; every later call fails fast. */
  shutdown(): void {
    this.#breaker.shutdown();
  }

  #openError(operation: string, code: string): PlatformError {
    const probeAt = this.snapshot().probeAt;
    const retryAfterMs = probeAt === null ? undefined : Math.max(0, probeAt - this.#now());
    return new PlatformError(
      PLATFORM_ERROR_CODES.breakerOpen,
      code === 'ESHUTDOWN' ? 'circuit breaker shut down' : 'circuit breaker open: failing fast',
      {
        platform: this.platform,
        account: this.account,
        operation,
        kind: 'transient',
        retriable: false,
        retryAfterMs,
      },
    );
  }
}

/** Only transient platform failures count against a platform's health. */
export function countsAsFailure(error: unknown): boolean {
  return error instanceof PlatformError && error.kind === 'transient' && !error.throttled;
}
