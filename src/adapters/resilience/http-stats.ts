/** The counters every platform call updates. */
export type HttpCounter = 'requests' | 'throttled' | 'retries' | 'failures' | 'authRefreshes';

export interface HttpLabels {
  platform: string;
  account: string;
  operation: string;
}

/**
 * Where the counters go. The worker wires a prom-client registry behind this; the in-memory
 * HttpStats is always there for `tradectl status`.
 */
export interface PlatformHttpMetrics {
  increment(counter: HttpCounter, labels: HttpLabels): void;
}

export interface HttpStatsRow extends HttpLabels {
  /** HTTP requests sent (every attempt, including the repeat after a token refresh). */
  requests: number;
  /** 429s and other throttling answers. */
  throttled: number;
  /** Waits before another attempt. */
  retries: number;
  /** Calls that failed for good (after retries). */
  failures: number;
  /** Repeats after the platform rejected an expired access token. */
  authRefreshes: number;
}

/** Counters per platform/account/operation, in memory. */
export class HttpStats implements PlatformHttpMetrics {
  readonly #rows = new Map<string, HttpStatsRow>();

  increment(counter: HttpCounter, labels: HttpLabels): void {
    const key = `${labels.platform}\u0000${labels.account}\u0000${labels.operation}`;
    let row = this.#rows.get(key);
    if (!row) {
      row = { ...labels, requests: 0, throttled: 0, retries: 0, failures: 0, authRefreshes: 0 };
      this.#rows.set(key, row);
    }
    row[counter] += 1;
  }

  snapshot(): HttpStatsRow[] {
    return [...this.#rows.values()].map((row) => ({ ...row }));
  }
}

/** Sends every increment to each of `targets` (the in-memory stats and an optional exporter). */
export function teeMetrics(...targets: (PlatformHttpMetrics | undefined)[]): PlatformHttpMetrics {
  const present = targets.filter((target): target is PlatformHttpMetrics => target !== undefined);
  return {
    increment(counter, labels) {
      for (const target of present) target.increment(counter, labels);
    },
  };
}
