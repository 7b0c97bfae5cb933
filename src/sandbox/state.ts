import type { AccountProfile } from './accounts.js';
import { CATALOGUE } from './catalogue.js';
import { applyTransition, chooseTransition, createOrder, roundTime } from './generator.js';
import { isTerminal, latestVersion, type OrderVersion, type SimOrder } from './model.js';
import { deriveSeed, Rng } from './rng.js';
import { OrderStore } from './store.js';
import type { SandboxPlatform, UpdateOptions } from './types.js';

/** One account: its profile, its orders and its stock. */
export interface AccountState {
  profile: AccountProfile;
  store: OrderStore;
  rng: Rng;
  nextSeq: number;
  /** Orders that can still change, for picking update targets without scanning. */
  active: SimOrder[];
  activeAt: Map<SimOrder, number>;
  /** Stock by SKU, as set through the platform's inventory endpoint. */
  inventory: Map<string, number>;
}

export interface StateOptions {
  seed: number;
  ordersPerAccount: number;
  historyMs: number;
  profiles: readonly AccountProfile[];
  now: number;
  lateFraction: number;
  visibilityLagMs: Record<SandboxPlatform, number>;
}

const DAY = 86_400_000;
// Share of timeline events that are new orders rather than changes to existing ones.
const NEW_ORDER_SHARE = 0.25;

/** All accounts' orders, the update state machine and its counters. */
export class SandboxState {
  readonly accounts: AccountState[] = [];
  readonly counters = { applied: 0, late: 0, created: 0 };
  private readonly byKey = new Map<string, AccountState>();
  private readonly timelineRng: Rng;

  constructor(private readonly options: StateOptions) {
    this.timelineRng = new Rng(deriveSeed(options.seed, 'timeline'));
    for (const profile of options.profiles) {
      const account = this.generate(profile);
      this.accounts.push(account);
      this.byKey.set(`${profile.platform}:${profile.account}`, account);
    }
  }

  account(platform: SandboxPlatform, account: string): AccountState | undefined {
    return this.byKey.get(`${platform}:${account}`);
  }

  /** Makes due late updates visible everywhere. */
  promote(now: number): void {
    for (const account of this.accounts) account.store.promote(now);
  }

  settle(): void {
    for (const account of this.accounts) account.store.settle();
  }

  pendingVisibility(): number {
    return this.accounts.reduce((sum, account) => sum + account.store.pendingCount, 0);
  }

  /**
   * Applies `count` timeline events now (new orders and changes to open orders), spread over the
   * accounts (or only those matching the filter). Returns how many were applied.
   */
  applyUpdates(
    count: number,
    now: number,
    filter: { platform?: SandboxPlatform; account?: string } = {},
    options: UpdateOptions = {},
  ): number {
    const targets = this.accounts.filter(
      (state) =>
        (filter.platform === undefined || state.profile.platform === filter.platform) &&
        (filter.account === undefined || state.profile.account === filter.account),
    );
    if (targets.length === 0) return 0;
    let applied = 0;
    for (let i = 0; i < count; i++) {
      const target = this.timelineRng.pick(targets);
      const order =
        target.active.length > 0 && !this.timelineRng.chance(NEW_ORDER_SHARE)
          ? this.timelineRng.pick(target.active)
          : null;
      if (order ? this.updateOrder(target, order, now, options) : this.newOrder(target, now, options))
        applied++;
    }
    return applied;
  }

  /** Moves one order on to its next state (or the given transition). False when it is final. */
  updateOrder(account: AccountState, order: SimOrder, now: number, options: UpdateOptions = {}): boolean {
    const previous = latestVersion(order);
    const transition = options.transition ?? chooseTransition(order, previous, account.rng);
    if (transition === null) return false;
    const at = Math.max(roundTime(account.profile, now), previous.updatedAt);
    this.record(account, order, applyTransition(order, previous, transition, at, account.rng), now, options);
    return true;
  }

  /** Records a version made outside the state machine (a shipment an API client confirmed). */
  recordVersion(account: AccountState, order: SimOrder, version: OrderVersion, now: number): void {
    this.record(account, order, version, now, { late: false });
  }

  newOrder(account: AccountState, now: number, options: UpdateOptions = {}): boolean {
    const last = account.store.byCreated[account.store.byCreated.length - 1];
    const createdAt = Math.max(roundTime(account.profile, now), last?.createdAt ?? 0);
    const { order, first } = createOrder(account.profile, account.rng, account.nextSeq++, createdAt);
    account.store.add(order, first, this.visibleAt(account, now, options), now);
    this.track(account, order, first);
    this.counters.created += 1;
    return true;
  }

  private record(
    account: AccountState,
    order: SimOrder,
    version: OrderVersion,
    now: number,
    options: UpdateOptions,
  ): void {
    account.store.setVersion(order, version, this.visibleAt(account, now, options), now);
    this.track(account, order, version);
    this.counters.applied += 1;
  }

  private visibleAt(account: AccountState, now: number, options: UpdateOptions): number {
    const lag = this.options.visibilityLagMs[account.profile.platform];
    const late = options.late ?? (lag > 0 && this.timelineRng.chance(this.options.lateFraction));
    if (!late || lag <= 0) return now;
    this.counters.late += 1;
    return now + Math.max(1, Math.round(this.timelineRng.next() * lag));
  }

  private track(account: AccountState, order: SimOrder, version: OrderVersion): void {
    const position = account.activeAt.get(order);
    if (isTerminal(version)) {
      if (position === undefined) return;
      const last = account.active.pop()!;
      if (last !== order) {
        account.active[position] = last;
        account.activeAt.set(last, position);
      }
      account.activeAt.delete(order);
    } else if (position === undefined) {
      account.activeAt.set(order, account.active.length);
      account.active.push(order);
    }
  }

  private generate(profile: AccountProfile): AccountState {
    const rng = new Rng(deriveSeed(this.options.seed, profile.platform, profile.account));
    const { now, historyMs, ordersPerAccount } = this.options;
    // Initial history ends before every platform's lag, so a window ending at now - lag sees it all.
    const end = now - 5 * 60_000;
    const start = end - historyMs;
    const times = Array.from({ length: ordersPerAccount }, () =>
      roundTime(profile, start + rng.next() * historyMs),
    );
    times.sort((a, b) => a - b);
    const entries: { order: SimOrder; version: OrderVersion }[] = [];
    times.forEach((createdAt, index) => {
      const { order, first } = createOrder(profile, rng, index + 1, createdAt);
      let version = first;
      let at = createdAt;
      for (let step = rng.int(0, 4); step > 0; step--) {
        at = roundTime(profile, at + rng.int(60_000, 2 * DAY));
        const transition = at <= end ? chooseTransition(order, version, rng) : null;
        if (transition === null) break;
        version = applyTransition(order, version, transition, at, rng);
      }
      entries.push({ order, version });
    });
    const store = new OrderStore();
    store.load(entries);
    const state: AccountState = {
      profile,
      store,
      rng,
      nextSeq: ordersPerAccount + 1,
      active: [],
      activeAt: new Map(),
      inventory: new Map(CATALOGUE.map((product) => [product.sku, 100])),
    };
    for (const { order, version } of entries) this.track(state, order, version);
    return state;
  }
}
