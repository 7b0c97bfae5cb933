import { describe, expect, it } from 'vitest';
import type { UnifiedOrder } from '../../src/core/order.js';
import { HandedOffVersions } from '../../src/workers/handed-off-versions.js';

const order = (id: string, updatedAt: string) => ({ platformOrderId: id, updatedAt }) as UnifiedOrder;

describe('handed-off versions', () => {
  it('skips a version handed off before, and lets a newer (or late, older-stamped but new) version through', () => {
    const versions = new HandedOffVersions();
    const v1 = order('A', '2026-12-01T10:00:00.000Z');
    expect(versions.fresh('shopify:us', [v1])).toEqual([v1]);
    versions.handedOff('shopify:us', [v1]);
    expect(versions.fresh('shopify:us', [v1])).toEqual([]);
    // Another account's order with the same id is its own.
    expect(versions.fresh('shopify:eu', [v1])).toEqual([v1]);
    const v2 = order('A', '2026-12-01T10:05:00.000Z');
    expect(versions.fresh('shopify:us', [v2, v1])).toEqual([v2]);
    versions.handedOff('shopify:us', [v2]);
    // An older version arriving after a newer one was handed off is not remembered over it.
    versions.handedOff('shopify:us', [v1]);
    expect(versions.fresh('shopify:us', [v2])).toEqual([]);
  });

  it('forgets versions older than the oldest window still read, and caps each account', () => {
    const versions = new HandedOffVersions(3);
    versions.handedOff('ebay:us', [
      order('A', '2026-12-01T10:00:00.000Z'),
      order('B', '2026-12-01T10:01:00.000Z'),
      order('C', '2026-12-01T10:02:00.000Z'),
    ]);
    versions.forgetBefore('ebay:us', '2026-12-01T10:01:00.000Z');
    expect(versions.size()).toBe(2);
    expect(versions.fresh('ebay:us', [order('A', '2026-12-01T10:00:00.000Z')])).toHaveLength(1);
    versions.handedOff('ebay:us', [
      order('D', '2026-12-01T10:03:00.000Z'),
      order('E', '2026-12-01T10:04:00.000Z'),
    ]);
    expect(versions.size()).toBe(3);
    // The oldest handed off (B) went first.
    expect(versions.fresh('ebay:us', [order('B', '2026-12-01T10:01:00.000Z')])).toHaveLength(1);
    expect(versions.fresh('ebay:us', [order('E', '2026-12-01T10:04:00.000Z')])).toHaveLength(0);
  });
});
