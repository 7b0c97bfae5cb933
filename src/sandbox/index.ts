/**
 * The local marketplace sandbox: Shopify Admin REST, Amazon SP-API Orders 2026-01-01 (+ LWA) and
 * eBay Sell Fulfillment (+ OAuth) on one HTTP server, from a seeded generator. See README.md.
 */

export { parseAccountCounts } from './accounts.js';
export { type Clock, ManualClock, systemClock } from './clock.js';
export { parseFaultSpec } from './faults.js';
export { startSandbox } from './sandbox.js';
export { DEFAULT_LIMITS } from './throttle.js';
export * from './types.js';
