import type { AxiosRequestConfig, AxiosResponse } from 'axios';
import type { AccountConfig } from '../core/config.js';
import type { FieldIssue, ValidationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { UnifiedOrder } from '../core/order.js';
import type { Platform } from '../core/platforms.js';
import type { Instant } from '../core/time.js';
import type { TokenStore } from './resilience/token-store.js';
import type { UsageObserver } from './resilience/usage-headers.js';

/**
 * The contract every marketplace adapter keeps. What it promises:
 *
 * - `listOrders` yields every order whose platform update time falls in [from, to] (both
 *   inclusive), page by page in the platform's own paging, each order mapped to the unified
 *   model. A record that cannot be mapped is returned in `rejected` with the field named; the
 *   rest of the page still comes through. An order may appear twice (platforms re-page when
 *   orders change mid-listing); callers dedupe by key and version, never by position.
 * - every HTTP call goes through the account's PlatformHttp (rate limiter, retries, breaker,
 *   auth); an adapter never calls axios directly.
 * - errors are TradectlErrors of three kinds: `config` (credentials revoked, account misconfigured:
 *   stop the account), `transient` (retried, counted by the breaker), `data` (one record bad).
 *
 * What stays private to each adapter: auth details, the platform's cursor format, raw error
 * codes (kept in error details), and its payload shapes.
 */
export interface MarketplaceAdapter {
  readonly platform: Platform;
  readonly account: string;

  listOrders(input: ListOrdersInput): AsyncIterable<OrderPage>;
  getOrder(input: GetOrderInput): Promise<UnifiedOrder | null>;
  updateInventory(input: UpdateInventoryInput): Promise<WriteOutcome>;
  submitTracking(input: SubmitTrackingInput): Promise<WriteOutcome>;
}

export interface ListOrdersInput {
  /** Inclusive lower bound on the platform's update time. */
  from: Instant;
  /** Inclusive upper bound; callers keep it behind "now" by the platform's safety lag. */
  to: Instant;
  /** Page size to ask for; the adapter caps it at the platform's maximum. */
  pageSize?: number;
  /** Resume from a cursor a previous page returned (same window). */
  cursor?: string;
  signal?: AbortSignal;
}

export interface OrderPage {
  orders: UnifiedOrder[];
  rejected: RejectedRecord[];
  /** The platform's cursor for the next page, or null on the last page. */
  nextCursor: string | null;
  /** Platform-reported total for the window, when the platform reports one. */
  total?: number;
}

export interface RejectedRecord {
  /** The platform's order id when it could be read at all. */
  platformOrderId: string | null;
  error: ValidationError;
  /** The record exactly as received, for the dead-letter queue. */
  raw: unknown;
}

export interface GetOrderInput {
  platformOrderId: string;
  signal?: AbortSignal;
}

export interface UpdateInventoryInput {
  /** The channel's listing key: seller SKU (Amazon, eBay inventory item) or listing/variant id. */
  sku: string;
  listingId?: string;
  quantity: number;
  /** Sent where the platform accepts one, so a repeated write is harmless. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

export interface SubmitTrackingInput {
  platformOrderId: string;
  carrier: string;
  trackingNumber: string;
  shippedAt: Instant;
  /** Lines and quantities shipped; all lines when omitted. */
  lines?: { lineId: string; quantity: number }[];
  idempotencyKey: string;
  signal?: AbortSignal;
}

/**
 * A write's outcome. `indeterminate` means the request was sent but no answer came (timeout,
 * dropped connection): it may or may not have applied, so it is recorded and checked later,
 * not blindly repeated.
 */
export type WriteOutcome =
  | { status: 'applied'; platformRequestId?: string }
  | { status: 'indeterminate'; reason: string };

/**
 * The one HTTP choke point of an account: limiter -> auth -> axios -> classification, wrapped in
 * retries and the account's breaker. Adapters describe requests; this decides how they are sent.
 */
export interface PlatformHttp {
  request<T = unknown>(request: PlatformRequest): Promise<AxiosResponse<T>>;
}

export interface PlatformRequest extends AxiosRequestConfig {
  /** Operation name, for the per-operation rate limit and metrics (`getOrders`, `orders.json`). */
  operation: string;
  /** Token-bucket cost (Shopify GraphQL query cost); 1 by default. */
  weight?: number;
  /** False for writes that must not be repeated blindly (indeterminate instead). */
  idempotent?: boolean;
}

export interface AdapterDeps {
  /** Builds the account's choke point around the adapter's own auth and error table. */
  createHttp(options: PlatformHttpOptions): PlatformHttp;
  logger: Logger;
  /** Injected clock (ms since epoch) for windows and token expiry. */
  now: () => number;
  /** Where OAuth adapters keep access and rotated refresh tokens (Redis when configured). */
  tokenStore?: TokenStore;
}

export interface PlatformHttpOptions {
  baseUrl: string;
  auth: AuthStrategy;
  classify: ErrorClassifier;
  /** Reads the platform's usage headers (or GraphQL cost) so the rate limiter follows them. */
  observeUsage?: UsageObserver;
}

/**
 * How an account authenticates. `authorize` adds credentials to a request, fetching or
 * refreshing a token when the cached one is missing or about to expire; `invalidate` drops the
 * cached token after the platform rejected it, so the next `authorize` refreshes (once).
 */
export interface AuthStrategy {
  authorize(request: PlatformRequest): Promise<PlatformRequest>;
  /** `rejected`: the authorized request the platform refused, so a token already replaced stays. */
  invalidate(rejected?: PlatformRequest): Promise<void>;
  /**
   * What the operator must do when the platform still rejects the credentials after
   * `invalidate` (the error's hint). Default: re-authorise and put in a new refresh token, which
   * is wrong advice for a static token, hence the override.
   */
  rejectionHint?(): string;
}

/**
 * Turns a failed call (an HTTP response with an error status, a 200 with an error envelope, or a
 * network error) into a TradectlError with the platform's code in `details`, a `retriable` flag
 * and, for throttling, the wait the platform asked for. Returns null for a successful response.
 * Each platform has one table-driven classifier in its `errors.ts`.
 */
export type ErrorClassifier = (failure: HttpFailure) => ClassifiedError | null;

export type HttpFailure =
  | { type: 'response'; status: number; headers: Record<string, string>; data: unknown }
  | { type: 'network'; code: string | undefined; message: string; requestSent: boolean };

export interface ClassifiedError {
  /** Stable code (`TRADECTL_PLATFORM_THROTTLED`, …), see docs/errors.md. */
  code: string;
  kind: 'config' | 'transient' | 'data';
  retriable: boolean;
  /** The credentials were rejected as expired: refresh once and repeat. */
  authExpired?: boolean;
  /** Throttled: does not count as a breaker failure; wait at least retryAfterMs. */
  throttled?: boolean;
  retryAfterMs?: number;
  message: string;
  details?: Record<string, unknown>;
}

/** Registered in src/adapters/registry.ts; bad account options stop start-up, not the first sync. */
export interface AdapterManifest {
  platform: Platform;
  /** Documented default rate limits per operation (requests per second, burst). */
  defaultLimits: Record<string, { ratePerSecond: number; burst: number }>;
  /** Problems with an account's credentials/options, each naming its field. */
  validateOptions(account: AccountConfig): FieldIssue[];
  create(deps: AdapterDeps, account: AccountConfig): MarketplaceAdapter;
}
