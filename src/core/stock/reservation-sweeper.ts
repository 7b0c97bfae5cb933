import type { Logger } from '../logger.js';
import type { StockService } from './stock-service.js';

export interface ReservationSweeperOptions {
  service: StockService;
  logger: Logger;
  /** Time between sweeps, ms. Default 1 s: how late an expired hold may return its stock at most. */
  intervalMs?: number;
  /** Reservations per tenant per sweep. Default 500; a full batch sweeps again at once. */
  batch?: number;
}

/**
 * The worker's periodic call to `StockService.expireReservations`. Each expired reservation
 * returns its stock exactly once whoever sweeps (several workers may run this; deducts and
 * reserves also sweep on the spot before answering a shortage), so this loop only bounds how long
 * an expired hold keeps stock from being sold. The timer is unref'ed; `stop()` waits for a sweep
 * in flight.
 */
export class ReservationSweeper {
  readonly #o: Required<ReservationSweeperOptions>;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #stopped = true;

  constructor(options: ReservationSweeperOptions) {
    this.#o = { intervalMs: 1000, batch: 500, ...options };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  /** One sweep of every tenant; resolves with the number of reservations expired. */
  async sweepOnce(): Promise<number> {
    const result = await this.#o.service.expireReservations({ limit: this.#o.batch });
    return result.expired;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      let again = this.#o.intervalMs;
      this.#inFlight = this.sweepOnce()
        .then((expired) => {
          if (expired >= this.#o.batch) again = 0;
        })
        .catch((error: unknown) => {
          this.#o.logger.warn({ err: error }, 'reservation sweep failed; trying again');
        })
        .finally(() => {
          this.#inFlight = undefined;
          this.#schedule(again);
        });
    }, delayMs);
    this.#timer.unref();
  }
}
