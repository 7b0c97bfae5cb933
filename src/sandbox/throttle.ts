import type { LimitSpec, SandboxPlatform } from './types.js';

/**
 * Documented default limits, per platform and bucket. Shopify REST is one leaky bucket per
 * app+store shared by every call (40 requests, leaking 2/s: the same arithmetic as a token
 * bucket of burst 40 refilled at 2/s). Amazon has one token bucket per operation (rates from the
 * usage-plan tables of the models in ../shared/reference/amazon). eBay publishes daily call
 * quotas per API, not per-second rates.
 */
export const DEFAULT_LIMITS: Readonly<Record<SandboxPlatform, Readonly<Record<string, LimitSpec>>>> = {
  shopify: { rest: { kind: 'bucket', rate: 2, burst: 40 } },
  amazon: {
    searchOrders: { kind: 'bucket', rate: 0.0056, burst: 20 },
    getOrder: { kind: 'bucket', rate: 0.5, burst: 30 },
    confirmShipment: { kind: 'bucket', rate: 2, burst: 10 },
    patchListingsItem: { kind: 'bucket', rate: 5, burst: 5 },
  },
  ebay: {
    fulfillment: { kind: 'daily', quota: 100_000 },
    inventory: { kind: 'daily', quota: 2_000_000 },
  },
};

export interface TakeResult {
  ok: boolean;
  /** The limit in force, rate already scaled. */
  limit: LimitSpec;
  /** Tokens (or calls) left after this request. */
  remaining: number;
  /** When refused: ms until one token is back. */
  retryAfterMs: number;
}

interface BucketState {
  tokens: number;
  last: number;
  day: number;
  used: number;
}

// A client pacing exactly at the rate may land a hair early through float rounding.
const EPSILON = 1e-6;
const DAY_MS = 86_400_000;

export interface ThrottleOptions {
  limits?: Partial<Record<SandboxPlatform, Record<string, LimitSpec>>>;
  scale: Record<SandboxPlatform, number>;
  /** A request arriving up to this many ms before its token is due is still admitted. Default 0. */
  toleranceMs?: number;
}

/** The throttle engine: one bucket per (platform, account, bucket name). */
export class Throttle {
  private readonly states = new Map<string, BucketState>();
  private readonly limits: Record<SandboxPlatform, Record<string, LimitSpec>>;

  constructor(private readonly options: ThrottleOptions) {
    this.limits = {
      shopify: { ...DEFAULT_LIMITS.shopify, ...options.limits?.shopify },
      amazon: { ...DEFAULT_LIMITS.amazon, ...options.limits?.amazon },
      ebay: { ...DEFAULT_LIMITS.ebay, ...options.limits?.ebay },
    };
  }

  scaleOf(platform: SandboxPlatform): number {
    return this.options.scale[platform];
  }

  /** The limit of a bucket with its rate multiplied by the platform's scale. */
  limit(platform: SandboxPlatform, bucket: string): LimitSpec {
    const spec = this.limits[platform][bucket];
    if (!spec) throw new Error(`no limit defined for ${platform} bucket ${bucket}`);
    return spec.kind === 'bucket' ? { ...spec, rate: spec.rate * this.scaleOf(platform) } : spec;
  }

  /** Takes one token if there is one. */
  take(platform: SandboxPlatform, account: string, bucket: string, now: number): TakeResult {
    const limit = this.limit(platform, bucket);
    const state = this.refill(platform, account, bucket, limit, now);
    if (limit.kind === 'daily') {
      if (state.used >= limit.quota)
        return { ok: false, limit, remaining: 0, retryAfterMs: DAY_MS - (now % DAY_MS) };
      state.used += 1;
      return { ok: true, limit, remaining: limit.quota - state.used, retryAfterMs: 0 };
    }
    const grace = ((this.options.toleranceMs ?? 0) / 1000) * limit.rate;
    if (state.tokens + EPSILON + grace < 1) {
      return {
        ok: false,
        limit,
        remaining: state.tokens,
        retryAfterMs: ((1 - state.tokens) / limit.rate) * 1000,
      };
    }
    state.tokens = Math.max(0, state.tokens - 1);
    return { ok: true, limit, remaining: state.tokens, retryAfterMs: 0 };
  }

  /** The bucket's state without taking anything (for headers on requests that skip the limiter). */
  peek(platform: SandboxPlatform, account: string, bucket: string, now: number): TakeResult {
    const limit = this.limit(platform, bucket);
    const state = this.refill(platform, account, bucket, limit, now);
    const remaining = limit.kind === 'daily' ? limit.quota - state.used : state.tokens;
    return { ok: remaining >= 1, limit, remaining, retryAfterMs: 0 };
  }

  private refill(
    platform: SandboxPlatform,
    account: string,
    bucket: string,
    limit: LimitSpec,
    now: number,
  ): BucketState {
    const key = `${platform}\u0000${account}\u0000${bucket}`;
    let state = this.states.get(key);
    if (!state) {
      state = {
        tokens: limit.kind === 'bucket' ? limit.burst : 0,
        last: now,
        day: Math.floor(now / DAY_MS),
        used: 0,
      };
      this.states.set(key, state);
    }
    if (limit.kind === 'bucket') {
      const elapsed = Math.max(0, now - state.last);
      state.tokens = Math.min(limit.burst, state.tokens + (elapsed / 1000) * limit.rate);
    } else if (Math.floor(now / DAY_MS) !== state.day) {
      // Quotas reset at a UTC day boundary here (eBay's reset at midnight US Pacific).
      state.day = Math.floor(now / DAY_MS);
      state.used = 0;
    }
    state.last = Math.max(state.last, now);
    return state;
  }
}
