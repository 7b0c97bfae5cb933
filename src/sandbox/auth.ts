import { deriveSeed, Rng } from './rng.js';
import type { SandboxPlatform } from './types.js';

/**
 * Access tokens the sandbox issued (Amazon LWA, eBay OAuth) and the grants behind them.
 * Expiry reads the sandbox clock, so tests see a token expire by moving the clock or by
 * `expire()`; `revoke()` makes the refresh token answer invalid_grant until `restore()`.
 */
export type TokenCheck =
  | { status: 'ok'; account: string }
  | { status: 'expired'; account: string }
  | { status: 'invalid' };

interface Issued {
  platform: SandboxPlatform;
  account: string;
  expiresAt: number;
}

const PREFIX: Record<SandboxPlatform, string> = {
  amazon: 'Atza|',
  ebay: 'v^1.1#i^1#p^3#r^1#I^3#f^0#t^',
  shopify: 'shpat_',
};

export class TokenStore {
  private readonly tokens = new Map<string, Issued>();
  private readonly revoked = new Set<string>();
  private readonly rng: Rng;
  private counter = 0;

  constructor(seed: number) {
    this.rng = new Rng(deriveSeed(seed, 'tokens'));
  }

  issue(platform: SandboxPlatform, account: string, lifetimeSec: number, now: number): string {
    this.counter += 1;
    const token = `${PREFIX[platform]}${this.rng.hex(24)}${this.counter.toString(36)}`;
    this.tokens.set(token, { platform, account, expiresAt: now + lifetimeSec * 1000 });
    return token;
  }

  check(platform: SandboxPlatform, token: string | undefined, now: number): TokenCheck {
    const issued = token === undefined ? undefined : this.tokens.get(token);
    if (!issued || issued.platform !== platform) return { status: 'invalid' };
    if (issued.expiresAt <= now) return { status: 'expired', account: issued.account };
    return { status: 'ok', account: issued.account };
  }

  /** Forces every token of the platform (or of one account) to be expired now. */
  expire(platform: SandboxPlatform, account?: string): number {
    let count = 0;
    for (const issued of this.tokens.values()) {
      if (issued.platform === platform && (account === undefined || issued.account === account)) {
        issued.expiresAt = Number.NEGATIVE_INFINITY;
        count += 1;
      }
    }
    return count;
  }

  /** Revokes the account's grant: its tokens stop working and refreshing answers invalid_grant. */
  revoke(platform: SandboxPlatform, account: string): void {
    this.revoked.add(`${platform}:${account}`);
    for (const [token, issued] of this.tokens) {
      if (issued.platform === platform && issued.account === account) this.tokens.delete(token);
    }
  }

  restore(platform: SandboxPlatform, account: string): void {
    this.revoked.delete(`${platform}:${account}`);
  }

  isRevoked(platform: SandboxPlatform, account: string): boolean {
    return this.revoked.has(`${platform}:${account}`);
  }
}
