import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kWayMerge } from '../../src/core/k-way-merge.js';
import { compareDecimalIds, compareOrderKeysAsc, orderKeyComparator } from '../../src/core/order-cursor.js';

const byNumber = (a: number, b: number) => a - b;

describe('kWayMerge', () => {
  it('equals sorting the concatenation of sorted streams', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 30 }), { maxLength: 12 }),
        (raw) => {
          const streams = raw.map((stream) => [...stream].sort(byNumber));
          expect(kWayMerge(streams, byNumber)).toEqual(streams.flat().sort(byNumber));
        },
      ),
    );
  });

  it('stops at the limit with the smallest items', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 20 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 60 }),
        (raw, limit) => {
          const streams = raw.map((stream) => [...stream].sort(byNumber));
          expect(kWayMerge(streams, byNumber, limit)).toEqual(streams.flat().sort(byNumber).slice(0, limit));
        },
      ),
    );
  });

  it('is stable: equal items keep stream order, then their order within a stream', () => {
    type Tagged = { key: number; stream: number; position: number };
    const byKey = (a: Tagged, b: Tagged) => a.key - b.key;
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 15 }), { maxLength: 6 }),
        (raw) => {
          const streams = raw.map((keys, stream) =>
            [...keys].sort(byNumber).map((key, position) => ({ key, stream, position })),
          );
          // Array.prototype.sort is stable, so this is the stable sort of the concatenation.
          expect(kWayMerge(streams, byKey)).toEqual(streams.flat().sort(byKey));
        },
      ),
    );
  });

  it('merges order keys with created_at ties broken by id as unsigned 64-bit numbers', () => {
    const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String);
    const instant = fc.constantFrom(
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.001Z',
      '2026-01-02T00:00:00.000Z',
    );
    const key = fc.record({ createdAt: instant, id: uint64 });
    const reference = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) =>
      a.createdAt !== b.createdAt
        ? a.createdAt < b.createdAt
          ? -1
          : 1
        : Number(BigInt(a.id) - BigInt(b.id));
    fc.assert(
      fc.property(fc.array(fc.array(key, { maxLength: 20 }), { maxLength: 6 }), fc.boolean(), (raw, desc) => {
        const compare = orderKeyComparator(desc ? 'desc' : 'asc');
        const expected = desc ? (a: (typeof raw)[0][0], b: (typeof raw)[0][0]) => reference(b, a) : reference;
        const streams = raw.map((stream) => [...stream].sort(expected));
        const merged = kWayMerge(streams, compare);
        expect(merged.map((k) => `${k.createdAt}/${k.id}`)).toEqual(
          streams
            .flat()
            .sort(expected)
            .map((k) => `${k.createdAt}/${k.id}`),
        );
      }),
    );
  });
});

describe('compareDecimalIds', () => {
  it('orders ids numerically, not as text', () => {
    expect(compareDecimalIds('9', '10')).toBeLessThan(0);
    expect(compareDecimalIds('18446744073709551615', '9223372036854775808')).toBeGreaterThan(0);
    expect(compareDecimalIds('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    expect(compareDecimalIds('42', '42')).toBe(0);
  });

  it('agrees with BigInt comparison on every unsigned 64-bit pair', () => {
    const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(uint64, uint64, (a, b) => {
        expect(Math.sign(compareDecimalIds(String(a), String(b)))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });

  it('orders keys by created_at before id', () => {
    const early = { createdAt: '2026-01-01T00:00:00.000Z', id: '99' };
    const late = { createdAt: '2026-01-01T00:00:00.001Z', id: '1' };
    expect(compareOrderKeysAsc(early, late)).toBeLessThan(0);
    expect(orderKeyComparator('desc')(early, late)).toBeGreaterThan(0);
  });
});
