import type { Clock } from './clock.js';

/**
 * Drives live updates at a steady rate on the sandbox clock: each tick applies the events that
 * fell due since the last one. With the system clock a timer ticks it; with a ManualClock the
 * test calls `tick()` after moving the clock.
 */
export class Timeline {
  private last: number;
  private carry = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly clock: Clock,
    private rate: number,
    private readonly apply: (count: number, now: number) => void,
  ) {
    this.last = clock.now();
  }

  setRate(perSecond: number): void {
    this.tick();
    this.rate = Math.max(0, perSecond);
  }

  /** Applies the events due since the previous tick; returns how many. */
  tick(): number {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.carry += (elapsed / 1000) * this.rate;
    const due = Math.floor(this.carry);
    this.carry -= due;
    if (due > 0) this.apply(due, now);
    return due;
  }

  start(intervalMs = 100): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
