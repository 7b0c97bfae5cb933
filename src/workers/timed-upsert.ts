import type { OrderStore } from '../core/order-store.js';

/**
 * The store as the sink sees it, with every `upsertBatch` timed (failed ones too: a slow
 * deadlock is latency as well). Without an observer it is the store itself.
 */
export function timedUpsert(
  store: Pick<OrderStore, 'upsertBatch'>,
  observe: ((seconds: number) => void) | undefined,
): Pick<OrderStore, 'upsertBatch'> {
  if (!observe) return store;
  return {
    async upsertBatch(orders) {
      const started = performance.now();
      try {
        return await store.upsertBatch(orders);
      } finally {
        observe((performance.now() - started) / 1000);
      }
    },
  };
}
