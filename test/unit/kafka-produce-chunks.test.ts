import { describe, expect, it } from 'vitest';
import { chunks } from '../../src/core/bus/kafka-bus.js';
import { partitionOfKey } from '../../src/core/bus/kafka-partitions.js';

const message = (key: string, bytes = 10) => ({ key, value: Buffer.alloc(bytes) });

describe('produce requests', () => {
  it('maps keys like Kafka’s Java client (murmur2), spreading them over the partitions', () => {
    const partitionOf = partitionOfKey(12);
    // That it is the partition the producer really picks: order-bus-conformance.test.ts.
    const seen = new Set<number>();
    for (let index = 0; index < 1000; index++) {
      const partition = partitionOf(`shopify:us:${index}`);
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(12);
      seen.add(partition);
    }
    expect(seen.size).toBe(12);
    expect(partitionOf('shopify:us:1')).toBe(partitionOf('shopify:us:1'));
    expect(partitionOfKey(0)('anything')).toBe(0);
  });

  it('limits each partition’s part of a request, not the request, keeping the order', () => {
    const partitionOf = (key: string) => Number(key.split(':')[0]);
    const messages = [
      ...Array.from({ length: 5 }, (_, index) => message(`0:${index}`)),
      ...Array.from({ length: 5 }, (_, index) => message(`1:${index}`)),
    ];
    const out = [...chunks(messages, { maxMessages: 3, maxBytes: 1000, partitionOf })];
    expect(out.map((chunk) => chunk.map((m) => m.key))).toEqual([
      ['0:0', '0:1', '0:2'],
      ['0:3', '0:4', '1:0', '1:1', '1:2'],
      ['1:3', '1:4'],
    ]);
    expect(out.flat()).toEqual(messages);
  });

  it('cuts by uncompressed bytes per partition, and sends a message larger than the limit alone', () => {
    const partitionOf = () => 0;
    const out = [
      ...chunks([message('a', 400), message('b', 400), message('c', 2000), message('d', 10)], {
        maxMessages: 100,
        maxBytes: 1000,
        partitionOf,
      }),
    ];
    expect(out.map((chunk) => chunk.map((m) => m.key))).toEqual([['a', 'b'], ['c'], ['d']]);
  });
});
