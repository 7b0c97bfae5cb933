import type { Clock } from './clock.js';
import type { Transition } from './model.js';

/** The platforms the sandbox speaks. */
export const SANDBOX_PLATFORMS = ['shopify', 'amazon', 'ebay'] as const;
export type SandboxPlatform = (typeof SANDBOX_PLATFORMS)[number];

export function isSandboxPlatform(value: unknown): value is SandboxPlatform {
  return typeof value === 'string' && (SANDBOX_PLATFORMS as readonly string[]).includes(value);
}

/**
 * Faults injected into one platform's API calls (token endpoints are spared unless
 * `faultTokenEndpoints`). Rates are fractions of requests in [0, 1]; drop, 5xx and 429 are drawn
 * from one roll, so they never overlap and each happens at its configured rate.
 */
export interface FaultConfig {
  /** Fraction answered 500 or 503 with the platform's error envelope. */
  error5xx?: number;
  /** Fraction answered 429 although the rate limit had room ("429 storm"). */
  rate429?: number;
  /** Fraction whose connection is destroyed before a complete response. */
  drop?: number;
  /** Added delay per request, in ms (real time, whatever the clock). */
  latencyMs?: number;
  /** Up to this many ms more, uniformly. */
  latencyJitterMs?: number;
  /** Fraction of order records in list/get responses served with one broken field. */
  malformed?: number;
  /** Lifetime of access tokens issued from now on (Amazon, eBay), in seconds. */
  tokenLifetimeSec?: number;
  /** The next N API calls are answered 429 (a switch, counted down). */
  force429Next?: number;
  /**
   * Probability that serving a page which has a next page updates an order of the window right
   * away (one already served or one still ahead), so the next page sees a changed list.
   */
  paginationMutation?: number;
}

/** Documented limit of one bucket: a token bucket (rate/s, burst) or a daily quota. */
export type LimitSpec = { kind: 'bucket'; rate: number; burst: number } | { kind: 'daily'; quota: number };

export interface SandboxOptions {
  /** Port to listen on; 0 picks a free one. Default 8700. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Seed of every random choice. Default 1. */
  seed?: number;
  /** Orders generated per account at start. Default 1000. */
  ordersPerAccount?: number;
  /** How far back initial orders reach, in days. Default 30. */
  historyDays?: number;
  /** Accounts per platform: `{ shopify: 2 }` or `"shopify:2,amazon:2,ebay:2"` (the default). */
  accounts?: Partial<Record<SandboxPlatform, number>> | string;
  /** Time source. Default: the system clock. */
  clock?: Clock;
  /** Multiplies every refill rate (not bursts): one factor, or one per platform. Default 1. */
  rateScale?: number | Partial<Record<SandboxPlatform, number>>;
  /** Live updates (and new orders) per second across all accounts, on the clock. Default 0. */
  updatesPerSecond?: number;
  /** Fraction of updates that become visible late (with an older update time). Default 0.1. */
  lateFraction?: number;
  /** Largest visibility delay of a late update, per platform, in ms. */
  visibilityLagMs?: Partial<Record<SandboxPlatform, number>>;
  /** Amazon refuses `*Before` later than now minus this. Default 120000 (the documented 2 min). */
  amazonBeforeLagMs?: number;
  /** Access token lifetime in seconds. Defaults: Amazon 3600, eBay 7200. */
  tokenLifetimeSec?: Partial<Record<'amazon' | 'ebay', number>>;
  /** Faults per platform at start; change them later with setFaults. */
  faults?: Partial<Record<SandboxPlatform, FaultConfig>>;
  /** Replaces documented limits: `{ amazon: { searchOrders: { kind: 'bucket', rate: 1, burst: 5 } } }`. */
  limits?: Partial<Record<SandboxPlatform, Record<string, LimitSpec>>>;
  /**
   * A request arriving up to this many ms before its token is due is still admitted, so
   * scheduling jitter on a busy test machine does not read as a client exceeding the limit.
   * Default 0 (strict, like a platform).
   */
  throttleToleranceMs?: number;
  /** Apply faults to token endpoints too. Default false. */
  faultTokenEndpoints?: boolean;
}

/** One account the sandbox serves, with everything a client needs to reach it. */
export interface SandboxAccount {
  platform: SandboxPlatform;
  /** Account id (as in config/sandbox.yaml). */
  account: string;
  /** API base URL: the sandbox root (paths are the platform's own). */
  baseUrl: string;
  /** Token endpoint (Amazon LWA, eBay identity); absent for Shopify. */
  tokenUrl?: string;
  /** Fake credentials the sandbox accepts for this account. */
  credentials: Record<string, string>;
  currency: string;
  /** Amazon marketplace id or eBay marketplace (EBAY_US…). */
  marketplaceId?: string;
  /** Shopify shop domain and IANA zone (timestamps carry its offset). */
  shopDomain?: string;
  timeZone?: string;
  /** Amazon selling partner id (Listings Items path). */
  sellerId?: string;
  /** Shopify location id for inventory_levels/set. */
  locationId?: number;
}

/** Counters of one rate-limit bucket of one account. */
export interface BucketStats {
  platform: SandboxPlatform;
  account: string;
  bucket: string;
  /** The limit in force, rates already multiplied by the scale. */
  limit: LimitSpec;
  scale: number;
  /** Requests per operation that reached this bucket. */
  operations: Record<string, number>;
  /** Admitted by the limiter (including those then failed by an injected fault). */
  allowed: number;
  /** Refused by the limiter: the bucket was empty. Any of these means a client exceeded the limit. */
  throttled: number;
  /** Injected 429s (storms), not the limiter's. */
  forced429: number;
  injected5xx: number;
  dropped: number;
  malformedRecords: number;
  firstAt: string | null;
  lastAt: string | null;
  /** Most requests admitted within one clock second. */
  peakPerSecond: number;
  /** burst + rate x busy seconds (token buckets), or the daily quota. */
  budget: number | null;
  /** allowed / budget over the busy period (first to last request); null for daily quotas. */
  utilisation: number | null;
  /** Last 600 busy seconds: [epoch second, allowed, throttled]. */
  perSecond: [number, number, number][];
}

export interface SandboxStats {
  now: string;
  /** True when any bucket refused a request (a client went over a limit). */
  exceeded: boolean;
  buckets: BucketStats[];
  /** Requests refused before the limiter (bad or expired credentials), per platform. */
  authFailures: Record<string, number>;
  /** Token endpoint calls per platform. */
  tokenRequests: Record<string, number>;
  /** Records served broken by the malformed fault: which order and which field. */
  malformed: { platform: SandboxPlatform; account: string; orderId: string | null; field: string }[];
  /** Updates applied so far, and how many of them were late. */
  updates: { applied: number; late: number; pendingVisibility: number; created: number };
}

export interface UpdateOptions {
  /** Force the update late (true) or on time (false); default: drawn at lateFraction. */
  late?: boolean;
  /** Apply this transition instead of drawing one. */
  transition?: Transition;
}

/** A running sandbox: its address, its accounts, and the switches tests and demos use. */
export interface Sandbox {
  readonly url: string;
  readonly port: number;
  readonly accounts: readonly SandboxAccount[];
  /** Stops the timeline and the server (open connections are cut). */
  close(): Promise<void>;
  /**
   * Every order of an account in its newest state (late updates included, whether visible yet
   * or not), in the platform's list payload shape (Amazon with every includedData set).
   */
  groundTruth(platform: SandboxPlatform, account: string): Record<string, unknown>[];
  stats(): SandboxStats;
  resetStats(): void;
  /** Replaces a platform's faults ('*' for all three). */
  setFaults(platform: SandboxPlatform | '*', faults: FaultConfig): void;
  faults(platform: SandboxPlatform): FaultConfig;
  /** Applies `count` timeline events now (new orders, payments, shipments, cancellations, refunds). */
  applyUpdates(
    count: number,
    filter?: { platform?: SandboxPlatform; account?: string },
    options?: UpdateOptions,
  ): number;
  /** Moves one order to its next state now (false when it is final or unknown). */
  updateOrder(platform: SandboxPlatform, account: string, orderId: string, options?: UpdateOptions): boolean;
  /** Applies the live updates due on the clock (call after moving a ManualClock). */
  tick(): number;
  setUpdatesPerSecond(perSecond: number): void;
  /** Makes every late update visible now. */
  settle(): void;
  /** Forces access tokens to be expired now; returns how many. */
  expireTokens(platform: SandboxPlatform, account?: string): number;
  /** Revokes an account's grant (refresh answers invalid_grant; Shopify's token 401s) until restored. */
  revokeGrant(platform: SandboxPlatform, account: string): void;
  restoreGrant(platform: SandboxPlatform, account: string): void;
  /** Stock per SKU as set through the platform's inventory endpoint. */
  inventory(platform: SandboxPlatform, account: string): Record<string, number>;
}
