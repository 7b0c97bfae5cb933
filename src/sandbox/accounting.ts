import type { FaultAction } from './faults.js';
import type { BucketStats, LimitSpec, SandboxPlatform, SandboxStats } from './types.js';

/**
 * Request accounting: what each client did to each rate-limit bucket, second by second. The
 * limiter's own refusals (`throttled`: a request arrived when the bucket was empty) are kept
 * apart from injected 429s, so "did any client exceed the limit" has a clear answer.
 */

interface Counters {
  platform: SandboxPlatform;
  account: string;
  bucket: string;
  limit: LimitSpec;
  scale: number;
  operations: Record<string, number>;
  allowed: number;
  throttled: number;
  forced429: number;
  injected5xx: number;
  dropped: number;
  malformedRecords: number;
  firstAt: number | null;
  lastAt: number | null;
  seconds: Map<number, [number, number]>;
}

const KEEP_SECONDS = 600;

export class Accounting {
  private readonly buckets = new Map<string, Counters>();
  private readonly authFailures: Record<string, number> = {};
  private readonly tokenRequests: Record<string, number> = {};
  private malformed: SandboxStats['malformed'] = [];

  /** A request reached a bucket (admitted or refused). */
  request(
    target: { platform: SandboxPlatform; account: string; bucket: string; limit: LimitSpec; scale: number },
    operation: string,
    admitted: boolean,
    now: number,
  ): void {
    const counters = this.counters(target);
    counters.limit = target.limit;
    counters.scale = target.scale;
    counters.operations[operation] = (counters.operations[operation] ?? 0) + 1;
    if (admitted) counters.allowed += 1;
    else counters.throttled += 1;
    counters.firstAt ??= now;
    counters.lastAt = now;
    const second = Math.floor(now / 1000);
    const slot = counters.seconds.get(second) ?? [0, 0];
    slot[admitted ? 0 : 1] += 1;
    counters.seconds.set(second, slot);
    if (counters.seconds.size > KEEP_SECONDS) {
      counters.seconds.delete(counters.seconds.keys().next().value!);
    }
  }

  /** An admitted request was then failed by an injected fault. */
  fault(target: { platform: SandboxPlatform; account: string; bucket: string }, outcome: FaultAction): void {
    const counters = this.buckets.get(key(target));
    if (!counters) return;
    if (outcome === 'forced429') counters.forced429 += 1;
    else if (outcome === 'injected5xx') counters.injected5xx += 1;
    else counters.dropped += 1;
  }

  malformedRecord(
    target: { platform: SandboxPlatform; account: string; bucket: string } | null,
    entry: SandboxStats['malformed'][number],
  ): void {
    if (target) {
      const counters = this.buckets.get(key(target));
      if (counters) counters.malformedRecords += 1;
    }
    this.malformed.push(entry);
    if (this.malformed.length > 10_000) this.malformed = this.malformed.slice(-10_000);
  }

  authFailure(platform: SandboxPlatform): void {
    this.authFailures[platform] = (this.authFailures[platform] ?? 0) + 1;
  }

  tokenRequest(platform: SandboxPlatform): void {
    this.tokenRequests[platform] = (this.tokenRequests[platform] ?? 0) + 1;
  }

  reset(): void {
    this.buckets.clear();
    this.malformed = [];
    for (const record of [this.authFailures, this.tokenRequests]) {
      for (const name of Object.keys(record)) delete record[name];
    }
  }

  snapshot(now: number, updates: SandboxStats['updates']): SandboxStats {
    const buckets = [...this.buckets.values()].map(toStats);
    return {
      now: new Date(now).toISOString(),
      exceeded: buckets.some((bucket) => bucket.throttled > 0),
      buckets,
      authFailures: { ...this.authFailures },
      tokenRequests: { ...this.tokenRequests },
      malformed: [...this.malformed],
      updates,
    };
  }

  private counters(target: {
    platform: SandboxPlatform;
    account: string;
    bucket: string;
    limit: LimitSpec;
    scale: number;
  }): Counters {
    const id = key(target);
    let counters = this.buckets.get(id);
    if (!counters) {
      counters = {
        ...target,
        operations: {},
        allowed: 0,
        throttled: 0,
        forced429: 0,
        injected5xx: 0,
        dropped: 0,
        malformedRecords: 0,
        firstAt: null,
        lastAt: null,
        seconds: new Map(),
      };
      this.buckets.set(id, counters);
    }
    return counters;
  }
}

function key(target: { platform: string; account: string; bucket: string }): string {
  return `${target.platform}\u0000${target.account}\u0000${target.bucket}`;
}

function toStats(counters: Counters): BucketStats {
  const busySeconds =
    counters.firstAt === null || counters.lastAt === null ? 0 : (counters.lastAt - counters.firstAt) / 1000;
  const budget =
    counters.limit.kind === 'bucket'
      ? counters.limit.burst + counters.limit.rate * busySeconds
      : counters.limit.quota;
  const perSecond = [...counters.seconds.entries()].map(
    ([second, [allowed, throttled]]) => [second, allowed, throttled] as [number, number, number],
  );
  return {
    platform: counters.platform,
    account: counters.account,
    bucket: counters.bucket,
    limit: counters.limit,
    scale: counters.scale,
    operations: { ...counters.operations },
    allowed: counters.allowed,
    throttled: counters.throttled,
    forced429: counters.forced429,
    injected5xx: counters.injected5xx,
    dropped: counters.dropped,
    malformedRecords: counters.malformedRecords,
    firstAt: counters.firstAt === null ? null : new Date(counters.firstAt).toISOString(),
    lastAt: counters.lastAt === null ? null : new Date(counters.lastAt).toISOString(),
    peakPerSecond: perSecond.reduce((peak, [, allowed]) => Math.max(peak, allowed), 0),
    budget,
    utilisation: counters.limit.kind === 'bucket' ? counters.allowed / budget : null,
    perSecond,
  };
}
