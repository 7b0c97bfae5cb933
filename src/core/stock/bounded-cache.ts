/**
 * A bounded cache with least-recently-used eviction and a time-to-live per entry: never more
 * than `maxEntries` (a lookup table fed by marketplace data must not grow without bound), and
 * never older than `ttlMs` (a change made by another process shows after at most that long).
 * A Map keeps insertion order, so moving a key to the end on each hit makes the first key the
 * least recently used.
 *
 * Eviction walks one long-lived iterator instead of asking `keys().next()` each time: a deleted
 * Map entry stays a hole in V8's table until the next rehash, and a fresh iterator skips every
 * hole from the start, so a full cache paid ~3-4 µs per eviction (the order stock drain evicts
 * on nearly every lookup). A Map iterator is live (entries deleted before it reaches them are
 * skipped, entries added later are visited), and everything before its position was evicted or
 * moved to the end, so the next key it yields is still the least recently used.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  #evictor: Iterator<string> | undefined;

  constructor(options: { maxEntries: number; ttlMs: number; clock?: () => number }) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError('maxEntries must be a positive integer');
    }
    if (!(options.ttlMs >= 0)) throw new RangeError('ttlMs must not be negative');
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    this.#clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, or undefined when absent or expired (an expired entry is dropped). */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#clock()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#clock() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) this.#evictOldest();
  }

  #evictOldest(): void {
    for (;;) {
      this.#evictor ??= this.#entries.keys();
      const next = this.#evictor.next();
      // An exhausted iterator stays exhausted: start a new pass (the Map is not empty here).
      if (next.done) {
        this.#evictor = undefined;
        continue;
      }
      this.#entries.delete(next.value);
      return;
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#evictor = undefined;
  }
}
