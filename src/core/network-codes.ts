/**
 * Network error codes raised before a single byte left this host: no connection was ever made.
 * A request that failed so certainly did not apply, so even a non-idempotent write may be
 * repeated (adapters); for a server, it means nothing answered at its address (down, or a wrong
 * address), which is what an operator is told to check.
 */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
]);
