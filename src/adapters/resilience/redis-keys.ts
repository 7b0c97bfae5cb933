/**
 * Every Redis key the resilience layer writes, built here and nowhere else. The hash tag
 * `{platform:account}` keeps one account's keys in one Redis Cluster slot.
 *
 *   `${prefix}limiter:{platform:account}:${class}`  hash (tokens, ts, pausedUntil), expires when full
 *   `${prefix}auth:{platform:account}`              hash (accessToken, expiresAt, refreshToken, seed)
 *   `${prefix}auth:{platform:account}:lock`         string, owner token, PX = lock ttl
 */
export function limiterBucketKey(
  prefix: string,
  platform: string,
  account: string,
  bucketClass: string,
): string {
  return `${prefix}limiter:{${platform}:${account}}:${bucketClass}`;
}

export function tokenRecordKey(prefix: string, platform: string, account: string): string {
  return `${prefix}auth:{${platform}:${account}}`;
}

export function refreshLockKey(prefix: string, platform: string, account: string): string {
  return `${prefix}auth:{${platform}:${account}}:lock`;
}
