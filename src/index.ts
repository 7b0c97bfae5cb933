/** The library API of tradectl: what the trading side and other tools may import. */
export * from './core/config.js';
export * from './core/errors.js';
export * from './core/money.js';
export * from './core/order.js';
export * from './core/platforms.js';
export * from './core/secret.js';
export * from './core/shard-router.js';
export * from './core/time.js';
