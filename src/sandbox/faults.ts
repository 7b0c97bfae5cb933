import { deriveSeed, Rng } from './rng.js';
import { type FaultConfig, isSandboxPlatform, SANDBOX_PLATFORMS, type SandboxPlatform } from './types.js';

/**
 * Injected faults, switchable per platform at run time. Each platform draws from its own seeded
 * Rng, so a run with the same seed and the same request order fails the same requests.
 */
export type FaultAction = 'drop' | 'forced429' | 'injected5xx';

export interface FaultDecision {
  delayMs: number;
  action: FaultAction | null;
  /** For injected5xx: 500 or 503. */
  status: number;
  /** For drop: cut after a partial response instead of before any byte. */
  partial: boolean;
}

const RATES = ['error5xx', 'rate429', 'drop', 'malformed', 'paginationMutation'] as const;

export class Faults {
  private readonly configs = {} as Record<SandboxPlatform, FaultConfig>;
  private readonly rngs = {} as Record<SandboxPlatform, Rng>;

  constructor(seed: number, initial: Partial<Record<SandboxPlatform, FaultConfig>> = {}) {
    for (const platform of SANDBOX_PLATFORMS) {
      this.rngs[platform] = new Rng(deriveSeed(seed, 'faults', platform));
      this.configs[platform] = {};
      this.set(platform, initial[platform] ?? {});
    }
  }

  /** Replaces a platform's faults. Throws naming the bad field. */
  set(platform: SandboxPlatform, config: FaultConfig): void {
    for (const name of RATES) {
      const value = config[name];
      if (value !== undefined && !(value >= 0 && value <= 1)) {
        throw new RangeError(`faults.${platform}.${name} must be a fraction from 0 to 1, got ${value}`);
      }
    }
    const shared = (config.error5xx ?? 0) + (config.rate429 ?? 0) + (config.drop ?? 0);
    if (shared > 1) throw new RangeError(`faults.${platform}: error5xx + rate429 + drop must not exceed 1`);
    for (const name of ['latencyMs', 'latencyJitterMs', 'tokenLifetimeSec', 'force429Next'] as const) {
      const value = config[name];
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
        throw new RangeError(`faults.${platform}.${name} must be a non-negative number, got ${value}`);
      }
    }
    this.configs[platform] = { ...config };
  }

  get(platform: SandboxPlatform): FaultConfig {
    return { ...this.configs[platform] };
  }

  /** What happens to one API request. */
  decide(platform: SandboxPlatform): FaultDecision {
    const config = this.configs[platform];
    const rng = this.rngs[platform];
    const delayMs =
      (config.latencyMs ?? 0) + (config.latencyJitterMs ? rng.next() * config.latencyJitterMs : 0);
    const decision: FaultDecision = { delayMs, action: null, status: 0, partial: false };
    if ((config.force429Next ?? 0) > 0) {
      config.force429Next! -= 1;
      decision.action = 'forced429';
      return decision;
    }
    const drop = config.drop ?? 0;
    const error5xx = config.error5xx ?? 0;
    const rate429 = config.rate429 ?? 0;
    if (drop + error5xx + rate429 === 0) return decision;
    const roll = rng.next();
    if (roll < drop) {
      decision.action = 'drop';
      decision.partial = rng.chance(0.5);
    } else if (roll < drop + error5xx) {
      decision.action = 'injected5xx';
      decision.status = rng.chance(0.5) ? 500 : 503;
    } else if (roll < drop + error5xx + rate429) {
      decision.action = 'forced429';
    }
    return decision;
  }

  /** Whether the next served record is broken. */
  malformed(platform: SandboxPlatform): boolean {
    const rate = this.configs[platform].malformed ?? 0;
    return rate > 0 && this.rngs[platform].chance(rate);
  }

  /** Whether to change an order of the window after serving a page with a next page. */
  mutateDuringPagination(platform: SandboxPlatform): boolean {
    const rate = this.configs[platform].paginationMutation ?? 0;
    return rate > 0 && this.rngs[platform].chance(rate);
  }

  rng(platform: SandboxPlatform): Rng {
    return this.rngs[platform];
  }
}

const KEYS: Record<string, keyof FaultConfig> = {
  '5xx': 'error5xx',
  '429': 'rate429',
  drop: 'drop',
  latency: 'latencyMs',
  jitter: 'latencyJitterMs',
  malformed: 'malformed',
  expire: 'tokenLifetimeSec',
  force429: 'force429Next',
  mutate: 'paginationMutation',
};

/**
 * Parses the CLI form `5xx=0.2,429=0.1,drop=0.02,latency=50,malformed=0.01,expire=60`; an entry
 * may name one platform (`amazon:5xx=0.3`), otherwise it applies to all three.
 */
export function parseFaultSpec(spec: string): Partial<Record<SandboxPlatform, FaultConfig>> {
  const out: Partial<Record<SandboxPlatform, FaultConfig>> = {};
  for (const entry of spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^(?:([a-z]+):)?([a-z0-9]+)=([0-9.]+)$/i.exec(entry);
    const field = match ? KEYS[match[2]!.toLowerCase()] : undefined;
    if (!match || !field) {
      throw new Error(
        `bad fault "${entry}": expected [platform:]name=value with name one of ${Object.keys(KEYS).join(', ')}`,
      );
    }
    const [, platform, , text] = match;
    if (platform !== undefined && !isSandboxPlatform(platform))
      throw new Error(`bad fault "${entry}": unknown platform`);
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`bad fault "${entry}": ${text} is not a number`);
    for (const target of platform ? [platform] : SANDBOX_PLATFORMS) {
      out[target] = { ...out[target], [field]: value };
    }
  }
  return out;
}
