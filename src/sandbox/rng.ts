/**
 * A small seeded PRNG (sfc32), so the same seed gives the same orders, the same update timeline
 * and the same fault decisions (given the same request order). Not for anything secret.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 spreads a small seed over the four words so nearby seeds diverge at once.
    let state = seed >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight from a table made once with `weights()`. */
  weighted<T>(table: WeightTable<T>): T {
    const roll = this.next() * table.total;
    for (let i = 0; i < table.keys.length; i++) {
      if (roll < table.bounds[i]!) return table.keys[i]!;
    }
    return table.keys[table.keys.length - 1]!;
  }

  /** `length` hex digits. */
  hex(length: number): string {
    let out = '';
    while (out.length < length)
      out += Math.floor(this.next() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return out.slice(0, length);
  }
}

/** A seed for one stream (`deriveSeed(seed, 'amazon', 'na-main')`), stable across runs. */
export function deriveSeed(seed: number, ...labels: readonly string[]): number {
  let hash = (seed ^ 0x811c9dc5) >>> 0;
  for (const label of labels) {
    for (let i = 0; i < label.length; i++) {
      hash ^= label.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    hash = Math.imul(hash ^ 0xff, 0x01000193) >>> 0;
  }
  return hash;
}

/** A stable 32-bit hash of integers, for per-order details that need no stored state. */
export function mix(...values: readonly number[]): number {
  let hash = 0x9e3779b9;
  for (const value of values) {
    hash = Math.imul(hash ^ (value >>> 0), 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash ^ Math.floor(value / 0x100000000), 0xc2b2ae35);
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

/** Cumulative weights, built once per distribution so drawing allocates nothing. */
export interface WeightTable<T> {
  keys: T[];
  bounds: number[];
  total: number;
}

export function weights<T extends string | number>(
  entries: readonly (readonly [T, number])[],
): WeightTable<T> {
  const table: WeightTable<T> = { keys: [], bounds: [], total: 0 };
  for (const [key, weight] of entries) {
    if (weight <= 0) continue;
    table.total += weight;
    table.keys.push(key);
    table.bounds.push(table.total);
  }
  return table;
}
