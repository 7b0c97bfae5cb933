/**
 * The sandbox's sense of time: order times, token expiry, rate-limit refills, the 2-minute rule
 * and late-update visibility all read it. Real time by default; tests pass a ManualClock and
 * move it explicitly, so nothing waits on a real timer.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | string = '2026-03-01T12:00:00.000Z') {
    this.current = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): number {
    if (ms < 0) throw new RangeError('a ManualClock never moves backwards');
    this.current += ms;
    return this.current;
  }

  set(ms: number): void {
    if (ms < this.current) throw new RangeError('a ManualClock never moves backwards');
    this.current = ms;
  }
}
