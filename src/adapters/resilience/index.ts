/** The resilience layer every adapter call goes through: limiter, retries, breaker, auth. */
export * from './account-resilience.js';
export * from './auth.js';
export * from './breaker.js';
export * from './classify-http-failure.js';
export * from './http-stats.js';
export * from './platform-error.js';
export * from './platform-http.js';
export * from './rate-limiter.js';
export * from './retry.js';
export * from './token-request.js';
export * from './token-store.js';
export * from './usage-headers.js';
