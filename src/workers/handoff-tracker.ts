/**
 * The hand-offs of one chunk still in flight (publishes to the bus, DLQ writes). The sync runner
 * keeps fetching pages while earlier pages are being handed off, up to `maxInFlight`, instead of
 * waiting for each page's hand-off before fetching the next: fetch and store overlap. The chunk's
 * checkpoint is written only after `drain()`, i.e. after every hand-off resolved.
 *
 * A failed hand-off is remembered (never an unhandled rejection) and thrown by the next
 * `waitForRoom()` or `drain()`: the chunk stops and its checkpoint does not move.
 */
export class HandoffTracker {
  readonly #maxInFlight: number;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(maxInFlight: number) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('maxInFlight must be >= 1');
    this.#maxInFlight = maxInFlight;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  add(handoff: Promise<unknown>): void {
    const tracked: Promise<void> = handoff.then(
      () => {
        this.#inFlight.delete(tracked);
      },
      (error: unknown) => {
        this.#inFlight.delete(tracked);
        this.#failure ??= { error };
      },
    );
    this.#inFlight.add(tracked);
  }

  /**
   * Resolves once fewer than `maxInFlight` hand-offs are pending; throws the first failure, or the
   * signal's reason when it aborts first (a hand-off waiting on a database that is down must not
   * keep a cancelled run alive; the bus rejects it when it stops).
   */
  async waitForRoom(signal?: AbortSignal): Promise<void> {
    this.#throwIfFailed();
    while (this.#inFlight.size >= this.#maxInFlight) {
      await this.#race(Promise.race(this.#inFlight), signal);
      this.#throwIfFailed();
    }
  }

  /** Resolves once every hand-off resolved; throws the first failure (after all settled) or the abort. */
  async drain(signal?: AbortSignal): Promise<void> {
    while (this.#inFlight.size > 0) await this.#race(Promise.all(this.#inFlight), signal);
    this.#throwIfFailed();
  }

  async #race(pending: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) {
      await pending;
      return;
    }
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([pending, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
