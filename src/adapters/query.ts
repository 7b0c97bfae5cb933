/**
 * Builds a query string with every value percent-encoded exactly once.
 *
 * Adapters build their query strings themselves instead of handing `params` to axios: axios
 * serialises arrays as `key[]=a&key[]=b` (Amazon wants `a,b`), and cursors such as Amazon's
 * tokens with `+ / =` must be encoded once — not left raw, not encoded twice. Array values are
 * joined with literal commas after each element is encoded; undefined values are left out.
 */
export function encodeQuery(
  params: ReadonlyArray<readonly [string, string | number | readonly string[] | undefined]>,
): string {
  return params
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const encoded = Array.isArray(value)
        ? value.map((item) => encodeURIComponent(item)).join(',')
        : encodeURIComponent(String(value));
      return `${encodeURIComponent(key)}=${encoded}`;
    })
    .join('&');
}

/** Clamps a requested page size into [1, max]; undefined means the platform maximum. */
export function pageSizeWithin(requested: number | undefined, max: number): number {
  if (requested === undefined || !Number.isFinite(requested)) return max;
  return Math.min(max, Math.max(1, Math.floor(requested)));
}
