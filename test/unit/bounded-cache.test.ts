import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/core/stock/bounded-cache.js';

describe('BoundedCache', () => {
  it('never holds more than maxEntries, evicting the least recently used', () => {
    const cache = new BoundedCache<number>({ maxEntries: 3, ttlMs: 1000, clock: () => 0 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('d', 4);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([1, 3, 4]);
    for (let i = 0; i < 1000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
  });

  it('evicts exactly what a plain LRU list would, across hits, overwrites, deletes and clears', () => {
    // Eviction walks one long-lived Map iterator; a reference model checks it never skips or
    // evicts the wrong key, whatever mix of operations moved keys behind it.
    const cache = new BoundedCache<number>({ maxEntries: 50, ttlMs: 1000, clock: () => 0 });
    let model: string[] = []; // least recently used first
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const key = `k${random(120)}`;
      const op = random(100);
      if (op < 45) {
        const hit = cache.get(key);
        expect(hit !== undefined).toBe(model.includes(key));
        if (hit !== undefined) model = [...model.filter((k) => k !== key), key];
      } else if (op < 95) {
        cache.set(key, step);
        model = [...model.filter((k) => k !== key), key];
        if (model.length > 50) model = model.slice(model.length - 50);
      } else if (op < 99) {
        cache.delete(key);
        model = model.filter((k) => k !== key);
      } else {
        cache.clear();
        model = [];
      }
      expect(cache.size).toBe(model.length);
    }
    for (const key of model) expect(cache.get(key)).toBeTypeOf('number');
  });

  it('forgets an entry once its time-to-live has passed, and keeps null values as hits', () => {
    let now = 1000;
    const cache = new BoundedCache<string | null>({ maxEntries: 10, ttlMs: 50, clock: () => now });
    cache.set('miss', null);
    cache.set('hit', 'SKU-1');
    now += 49;
    expect(cache.get('miss')).toBeNull();
    expect(cache.get('hit')).toBe('SKU-1');
    now += 1;
    expect(cache.get('miss')).toBeUndefined();
    expect(cache.get('hit')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('refuses a size that could not bound anything', () => {
    expect(() => new BoundedCache({ maxEntries: 0, ttlMs: 1 })).toThrow(RangeError);
  });
});
