/**
 * What a platform's response says about its own rate limit, as the limiter applies it. Values
 * come from the server that enforces the limit, so they are taken as they are (never scaled).
 */
export interface UsageCorrection {
  /** Tokens the platform says are left: the local bucket is lowered to it, never raised. */
  remaining?: number;
  /** The platform's bucket size (Shopify's `/40` or `/80` depending on the plan). */
  burst?: number;
  /** The platform's refill rate (Amazon's `x-amzn-RateLimit-Limit`). */
  ratePerSecond?: number;
}

/**
 * A hook an adapter supplies: reads a response's usage headers (and, for GraphQL cost, its body)
 * and returns a correction, or null when the response says nothing about limits. Header names
 * arrive lower-cased.
 */
export type UsageObserver = (headers: Record<string, string>, body?: unknown) => UsageCorrection | null;

/**
 * `used/size` headers such as Shopify's `X-Shopify-Shop-Api-Call-Limit: 32/40`: 8 left of 40.
 */
export function usedOfSizeObserver(headerName: string): UsageObserver {
  const name = headerName.toLowerCase();
  return (headers) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(headers[name] ?? '');
    if (!match) return null;
    const used = Number(match[1]);
    const size = Number(match[2]);
    if (!(size > 0)) return null;
    return { remaining: Math.max(0, size - used), burst: size };
  };
}

/** A refill-rate header in requests per second, such as Amazon's `x-amzn-RateLimit-Limit: 0.0167`. */
export function rateHeaderObserver(headerName: string): UsageObserver {
  const name = headerName.toLowerCase();
  return (headers) => {
    const rate = Number((headers[name] ?? '').trim());
    return Number.isFinite(rate) && rate > 0 ? { ratePerSecond: rate } : null;
  };
}

/** Lower-cases header names and joins repeated values, as observers expect them. */
export function normaliseHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers || typeof headers !== 'object') return out;
  const source =
    typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? ((headers as { toJSON(): unknown }).toJSON() as Record<string, unknown>)
      : (headers as Record<string, unknown>);
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || value === null) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
