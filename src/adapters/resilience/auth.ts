import { createHash } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import type { Logger } from '../../core/logger.js';
import type { Secret } from '../../core/secret.js';
import type { AuthStrategy, PlatformRequest } from '../types.js';
import { PlatformError } from './platform-error.js';
import { requestToken, type TokenClient } from './token-request.js';
import { MemoryTokenStore, type TokenRecord, type TokenStore } from './token-store.js';

/** Puts credentials in a header: `${prefix}${token}`. */
export interface TokenHeader {
  /** Default `Authorization`. */
  header?: string;
  /** Default `Bearer `. */
  prefix?: string;
}

/**
 * A long-lived token sent as it is (Shopify's offline access token). Nothing to refresh:
 * `invalidate` does nothing, so a second 401 surfaces as the auth error it is, with `hint`
 * (there is no refresh token to replace: the operator needs a new access token).
 */
export class StaticTokenAuth implements AuthStrategy {
  readonly #token: Secret;
  readonly #header: string;
  readonly #prefix: string;
  readonly #hint: string;

  /** Defaults to Shopify's `X-Shopify-Access-Token` header without a prefix. */
  constructor(options: { token: Secret; header?: string; prefix?: string; hint?: string }) {
    this.#token = options.token;
    this.#header = options.header ?? 'X-Shopify-Access-Token';
    this.#prefix = options.prefix ?? '';
    this.#hint =
      options.hint ??
      "the access token was rejected (revoked, or the app uninstalled): put a new one in the account's credentials, then restart the account";
  }

  rejectionHint(): string {
    return this.#hint;
  }

  async authorize(request: PlatformRequest): Promise<PlatformRequest> {
    return withHeader(request, this.#header, `${this.#prefix}${this.#token.reveal()}`);
  }

  async invalidate(): Promise<void> {}
}

export interface OAuthRefreshAuthOptions extends TokenHeader, TokenClient {
  /** The refresh token from the account's config; a rotated one in the store supersedes it. */
  refreshToken: Secret;
  /** Default: a MemoryTokenStore (this process only). */
  store?: TokenStore;
  /** Refresh this long before the platform's expiry, ms. Default 60,000. */
  refreshMarginMs?: number;
  http?: AxiosInstance;
  now?: () => number;
  logger?: Logger;
}

/**
 * OAuth2 refresh_token grant with the access token cached until `expires_in` minus a margin.
 *
 * - One refresh at a time: in this process the refresh is a shared promise; across processes
 *   it runs under the store's lock, and the store is read again once the lock is held (another
 *   process may have refreshed meanwhile).
 * - A rotated refresh token (Etsy, Shopify expiring tokens) is written to the store together
 *   with its access token, atomically, before that access token is handed out.
 * - A revoked grant (`invalid_grant`) is a config error, TRADECTL_PLATFORM_AUTH, telling how to
 *   re-authorise; it sticks (no more token requests) so only this account pauses.
 * - `invalidate(request)` after a 401 drops the access token that request carried, once: a token
 *   already replaced (by another request's refresh) is not dropped again.
 */
export class OAuthRefreshAuth implements AuthStrategy {
  readonly #options: OAuthRefreshAuthOptions;
  readonly #store: TokenStore;
  readonly #http: AxiosInstance;
  readonly #now: () => number;
  readonly #margin: number;
  readonly #seed: string;
  readonly #issued = new WeakMap<object, number>();
  #cached: { accessToken: Secret; expiresAt: number } | null = null;
  #generation = 0;
  #rejected: string | null = null;
  #inflight: Promise<Secret> | null = null;
  #unsaved: TokenRecord | null = null;
  #revoked: PlatformError | null = null;

  constructor(options: OAuthRefreshAuthOptions) {
    this.#options = options;
    this.#store = options.store ?? new MemoryTokenStore();
    this.#http = options.http ?? axios;
    this.#now = options.now ?? Date.now;
    this.#margin = options.refreshMarginMs ?? 60_000;
    this.#seed = createHash('sha256').update(options.refreshToken.reveal()).digest('hex').slice(0, 16);
  }

  async authorize(request: PlatformRequest): Promise<PlatformRequest> {
    const token = await this.#accessToken();
    const authorized = withHeader(
      request,
      this.#options.header ?? 'Authorization',
      `${this.#options.prefix ?? 'Bearer '}${token.reveal()}`,
    );
    this.#issued.set(authorized, this.#generation);
    return authorized;
  }

  async invalidate(rejected?: PlatformRequest): Promise<void> {
    const generation = rejected ? this.#issued.get(rejected) : undefined;
    if (generation !== undefined && generation !== this.#generation) return;
    if (this.#cached) {
      this.#rejected = this.#cached.accessToken.reveal();
      this.#cached = null;
    }
  }

  #accessToken(): Promise<Secret> {
    if (this.#revoked) return Promise.reject(this.#revoked);
    if (this.#cached && this.#cached.expiresAt - this.#margin > this.#now()) {
      return Promise.resolve(this.#cached.accessToken);
    }
    this.#inflight ??= this.#obtain().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #obtain(): Promise<Secret> {
    const account = this.#account();
    if (this.#unsaved) return this.#save(this.#unsaved);
    const shared = this.#usable(await this.#read());
    if (shared) return this.#adopt(shared);
    return this.#store.withRefreshLock(account, async () => {
      const current = await this.#read();
      const fresh = this.#usable(current);
      if (fresh) return this.#adopt(fresh);
      const refreshToken = current?.refreshToken ?? this.#options.refreshToken;
      return this.#save(await this.#refresh(refreshToken));
    });
  }

  // Stored first, used after: a rotated refresh token must survive this process.
  async #save(record: TokenRecord): Promise<Secret> {
    this.#unsaved = record;
    await this.#store.write(this.#account(), record);
    this.#unsaved = null;
    return this.#adopt(record);
  }

  async #read(): Promise<TokenRecord | null> {
    const record = await this.#store.read(this.#account());
    // A record of an older configured refresh token: the operator has re-authorised since.
    return record && record.seed === this.#seed ? record : null;
  }

  #usable(record: TokenRecord | null): TokenRecord | null {
    if (!record?.accessToken || record.expiresAt === undefined) return null;
    if (record.expiresAt - this.#margin <= this.#now()) return null;
    if (record.accessToken.reveal() === this.#rejected) return null;
    return record;
  }

  #adopt(record: TokenRecord): Secret {
    const accessToken = record.accessToken!;
    this.#cached = { accessToken, expiresAt: record.expiresAt! };
    this.#generation += 1;
    return accessToken;
  }

  async #refresh(refreshToken: Secret): Promise<TokenRecord> {
    const grant = await requestToken(this.#http, this.#options, refreshToken, this.#now).catch((error) => {
      if (error instanceof PlatformError && error.details.permanent === true) this.#revoked = error;
      throw error;
    });
    this.#rejected = null;
    this.#options.logger?.info(
      {
        platform: this.#options.platform,
        account: this.#options.account,
        expiresInS: grant.expiresInS,
        rotated: grant.rotatedRefreshToken !== undefined,
      },
      'access token refreshed',
    );
    return {
      accessToken: grant.accessToken,
      expiresAt: this.#now() + grant.expiresInS * 1000,
      // The configured refresh token stays in the config only; a rotated one must be shared.
      refreshToken:
        grant.rotatedRefreshToken ?? (refreshToken === this.#options.refreshToken ? undefined : refreshToken),
      seed: this.#seed,
    };
  }

  #account() {
    return { platform: this.#options.platform, account: this.#options.account };
  }
}

function withHeader(request: PlatformRequest, name: string, value: string): PlatformRequest {
  const headers = { ...(request.headers as Record<string, string>), [name]: value };
  return { ...request, headers };
}
