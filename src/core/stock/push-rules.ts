/**
 * The quantity each channel is shown of a SKU, from what is available in Redis. Pure.
 *
 *   shown = min(maxShown, floor((available - safetyStock) * percent / 100)), never below 0
 *
 * Sellers rely on three knobs: a safety stock kept back from the channel (units reserved for
 * other channels, breakage, a shop counter), a percentage of what is left (so two channels
 * together never advertise the same units twice over), and a maximum shown (scarcity, or a
 * channel that penalises cancelled orders). All numbers are whole units; the arithmetic is exact
 * integer arithmetic (available is at most 10^12 and percent at most 100, so the product stays
 * far below 2^53).
 *
 * Rules are given per channel — a platform (`amazon`) or one account of it (`amazon:na-main`) —
 * with overrides per SKU, optionally narrowed to a tenant and/or a channel. Each field is taken
 * from the most specific layer that sets it:
 *
 *   defaults < platform < platform:account < SKU < SKU+tenant < SKU on a platform
 *     < SKU+tenant on a platform < SKU on platform:account < SKU+tenant on platform:account
 *
 * A SKU override beats a channel rule: an override names the product, which a seller sets on
 * purpose, while a channel rule is a blanket default.
 */

export interface PushRule {
  /** Units kept back from the channel. */
  safetyStock: number;
  /** Whole percent (0-100) of what is left after the safety stock that the channel shows. */
  percent: number;
  /** Most units the channel shows; null: no cap. */
  maxShown: number | null;
}

export type PushRulePatch = Partial<PushRule>;

export interface PushRuleSkuOverride extends PushRulePatch {
  sku: string;
  /** Only this tenant's SKU; every tenant when absent. */
  tenant?: string | undefined;
  /** Only on this channel (`amazon` or `amazon:na-main`); every channel when absent. */
  channel?: string | undefined;
}

/** `config.inventoryPush.rules`: the defaults, per-channel rules and per-SKU overrides. */
export interface PushRulesInput extends PushRule {
  channels: Readonly<Record<string, PushRulePatch>>;
  skus: readonly PushRuleSkuOverride[];
}

export interface ChannelSku {
  tenant: string;
  sku: string;
  platform: string;
  account: string;
}

export const DEFAULT_PUSH_RULE: Readonly<PushRule> = { safetyStock: 0, percent: 100, maxShown: null };

/** The quantity a channel shows when `available` units are sellable. */
export function shownQuantity(available: number, rule: PushRule): number {
  if (!Number.isSafeInteger(available))
    throw new RangeError(`available must be an integer, got ${available}`);
  const left = available - rule.safetyStock;
  if (left <= 0) return 0;
  const share = Math.floor((left * rule.percent) / 100);
  return rule.maxShown === null ? share : Math.min(rule.maxShown, share);
}

interface IndexedOverride {
  specificity: number;
  tenant: string | undefined;
  platform: string | undefined;
  account: string | undefined;
  patch: PushRulePatch;
}

/** Rules compiled once (at start-up); `ruleFor` is a map lookup and a short merge. */
export class PushRules {
  readonly #defaults: PushRule;
  readonly #channels: ReadonlyMap<string, PushRulePatch>;
  readonly #bySku = new Map<string, IndexedOverride[]>();

  constructor(input: Partial<PushRulesInput> = {}) {
    this.#defaults = {
      safetyStock: input.safetyStock ?? DEFAULT_PUSH_RULE.safetyStock,
      percent: input.percent ?? DEFAULT_PUSH_RULE.percent,
      maxShown: input.maxShown === undefined ? DEFAULT_PUSH_RULE.maxShown : input.maxShown,
    };
    this.#channels = new Map(Object.entries(input.channels ?? {}));
    for (const override of input.skus ?? []) {
      const { sku, tenant, channel, ...patch } = override;
      const [platform, account] = channel === undefined ? [undefined, undefined] : splitChannel(channel);
      const level = platform === undefined ? 0 : account === undefined ? 1 : 2;
      const list = this.#bySku.get(sku) ?? [];
      list.push({
        specificity: level * 2 + (tenant === undefined ? 0 : 1),
        tenant,
        platform,
        account,
        patch,
      });
      list.sort((a, b) => a.specificity - b.specificity);
      this.#bySku.set(sku, list);
    }
  }

  /** The rule of one SKU on one channel. */
  ruleFor(target: ChannelSku): PushRule {
    const rule: PushRule = { ...this.#defaults };
    apply(rule, this.#channels.get(target.platform));
    apply(rule, this.#channels.get(`${target.platform}:${target.account}`));
    for (const override of this.#bySku.get(target.sku) ?? []) {
      if (override.tenant !== undefined && override.tenant !== target.tenant) continue;
      if (override.platform !== undefined && override.platform !== target.platform) continue;
      if (override.account !== undefined && override.account !== target.account) continue;
      apply(rule, override.patch);
    }
    return rule;
  }

  /** What the channel shows of the SKU when `available` units are sellable. */
  quantityFor(target: ChannelSku, available: number): number {
    return shownQuantity(available, this.ruleFor(target));
  }
}

function apply(rule: PushRule, patch: PushRulePatch | undefined): void {
  if (patch === undefined) return;
  if (patch.safetyStock !== undefined) rule.safetyStock = patch.safetyStock;
  if (patch.percent !== undefined) rule.percent = patch.percent;
  if (patch.maxShown !== undefined) rule.maxShown = patch.maxShown;
}

/** `amazon:na-main` -> [amazon, na-main]; `amazon` -> [amazon, undefined]. */
export function splitChannel(channel: string): [string, string | undefined] {
  const at = channel.indexOf(':');
  return at < 0 ? [channel, undefined] : [channel.slice(0, at), channel.slice(at + 1)];
}
