import { hash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../core/secret.js';

/**
 * Checks an `Authorization: Bearer <token>` header against the configured tokens without
 * leaking, through timing, which token (or how much of one) matched: both sides are hashed to
 * fixed-length digests, compared with timingSafeEqual, and every configured token is compared
 * whatever the earlier ones gave. The tokens themselves are only revealed here, once, to hash.
 */
export function createBearerCheck(tokens: readonly Secret[]): (authorization: string | undefined) => boolean {
  const digests = tokens.map((token) => digest(token.reveal()));
  return (authorization) => {
    if (typeof authorization !== 'string' || authorization.length > 1024) return false;
    const match = BEARER.exec(authorization);
    const presented = digest(match?.[1] ?? '');
    let matched = false;
    for (const expected of digests) matched = timingSafeEqual(expected, presented) || matched;
    return matched && match !== null;
  };
}

// The scheme is case-insensitive (RFC 6750); the token is whatever non-blank text follows, so a
// configured token with characters outside RFC 6750's b64token still works.
const BEARER = /^bearer +(\S+) *$/i;

// One-shot: every /v1 request hashes its token, and crypto.hash skips the Hash object (and its
// stream machinery) that createHash builds per call.
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}
