import type { Redis } from 'ioredis';
import { tenantKeys, tenantRegistryKey } from '../core/stock/keys.js';

/** How far the ledger drain is behind on one tenant's change stream. */
export interface LedgerLag {
  tenant: string;
  /** Entries delivered to no drain yet plus entries delivered but not acknowledged (committed). */
  entries: number;
  /** Age of the oldest of those entries (stream ids carry their Unix ms), seconds; 0 when none. */
  oldestAgeSeconds: number;
}

// Past this many undelivered entries a stream without Redis's own lag figure is not counted
// further: the alert fires long before, and XRANGE over millions of entries is not a scrape's job.
const COUNT_CAP = 10_000;

/**
 * Reads, per registered tenant, what the ledger group (LedgerDrain, group `ledger`) has not
 * applied yet: XINFO GROUPS gives `pending` and, on Redis 7, `lag`; the oldest such entry is the
 * first pending one, else the first after the group's last delivered id. A stream whose group
 * does not exist yet (no drain ever ran) lags by its whole length.
 */
export async function readLedgerLag(input: {
  redis: Redis;
  keyPrefix: string;
  now: number;
  group?: string;
}): Promise<LedgerLag[]> {
  const { redis } = input;
  const group = input.group ?? 'ledger';
  const tenants = (await redis.smembers(tenantRegistryKey(input.keyPrefix))).sort();
  const result: LedgerLag[] = [];
  for (const tenant of tenants) {
    const stream = tenantKeys(input.keyPrefix, tenant).stream;
    const groups = (await redis.xinfo('GROUPS', stream).catch(() => [])) as unknown[][];
    const info = groups.map(fieldMap).find((fields) => fields.get('name') === group);
    let entries: number;
    let oldest: string | null = null;
    if (!info) {
      entries = Number(await redis.xlen(stream));
      if (entries > 0) oldest = firstId(await redis.xrange(stream, '-', '+', 'COUNT', 1));
    } else {
      const pending = Number(info.get('pending') ?? 0);
      const lastDelivered = String(info.get('last-delivered-id') ?? '0-0');
      const reported = info.get('lag');
      const undelivered =
        reported === null || reported === undefined
          ? (await redis.xrange(stream, `(${lastDelivered}`, '+', 'COUNT', COUNT_CAP)).length
          : Number(reported);
      entries = pending + undelivered;
      if (pending > 0) {
        const summary = (await redis.xpending(stream, group)) as [number, string | null, ...unknown[]];
        oldest = summary[1];
      } else if (undelivered > 0) {
        oldest = firstId(await redis.xrange(stream, `(${lastDelivered}`, '+', 'COUNT', 1));
      }
    }
    const oldestMs = oldest === null ? null : Number(oldest.split('-')[0]);
    result.push({
      tenant,
      entries,
      oldestAgeSeconds: oldestMs === null ? 0 : Math.max(0, input.now - oldestMs) / 1000,
    });
  }
  return result;
}

function firstId(entries: [string, string[]][]): string | null {
  return entries[0]?.[0] ?? null;
}

function fieldMap(flat: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}
