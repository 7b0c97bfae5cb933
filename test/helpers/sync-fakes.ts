import type { OrderBus } from '../../src/core/bus/order-bus.js';
import { type AccountConfig, parseConfig } from '../../src/core/config.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import { generateOrders } from './order-generator.js';

/** Fakes for SyncRunner tests that need real leases and checkpoints but no platform or bus. */

/** A bus whose publish resolves at once and remembers what it was given. */
export function recordingBus(): OrderBus & { published: string[] } {
  const published: string[] = [];
  return {
    kind: 'inline',
    published,
    start: async () => undefined,
    publish: async (envelopes) => {
      published.push(...envelopes.map((envelope) => envelope.order.platformOrderId));
    },
    publishRaw: async () => undefined,
    consume: async () => {
      throw new Error('the recording bus has no consumer');
    },
    stats: () => ({
      kind: 'inline',
      published: published.length,
      consumed: 0,
      deadLettered: 0,
      handlerRetries: 0,
      abandonedBatches: 0,
      lag: 0,
      retrying: false,
    }),
    stop: async () => undefined,
  };
}

export function shopifyAccount(id: string, userId = '7'): AccountConfig {
  return parseConfig({ accounts: [{ platform: 'shopify', id, userId }] }).accounts[0]!;
}

/** Valid orders of one account, ids `<id>…`. */
export function accountOrders(
  id: string,
  count: number,
  platform: UnifiedOrder['platform'] = 'shopify',
): UnifiedOrder[] {
  return generateOrders({ seed: 5, count, idPrefix: id }).map((order) => ({
    ...order,
    platform,
    account: id,
    userId: '7',
  }));
}
