import type { Redis } from 'ioredis';

/**
 * The consumer-group side of a tenant's change stream: creating the group, reading new or own
 * pending entries, taking over a dead consumer's, and trimming what every group acknowledged.
 */

/** A stream entry as Redis returns it; fields are null for an entry deleted while pending. */
export type RawEntry = [id: string, fields: string[] | null];

export interface GroupReader {
  stream: string;
  group: string;
  consumer: string;
  count: number;
}

/** Creates the group if missing, from the start: entries written before any drain ran count too. */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (error) {
    if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
  }
}

/** `>`: entries never delivered to the group; `0`: this consumer's own pending entries. */
export async function readGroup(redis: Redis, reader: GroupReader, from: '0' | '>'): Promise<RawEntry[]> {
  const reply = (await redis.xreadgroup(
    'GROUP',
    reader.group,
    reader.consumer,
    'COUNT',
    reader.count,
    'STREAMS',
    reader.stream,
    from,
  )) as [string, RawEntry[]][] | null;
  return reply?.[0]?.[1] ?? [];
}

/**
 * Takes over entries pending at any consumer for at least `minIdleMs` (XAUTOCLAIM), scanning the
 * pending list from `cursor`; returns them and the cursor to continue from ('0-0' after a full pass).
 */
export async function claimIdle(
  redis: Redis,
  reader: GroupReader,
  minIdleMs: number,
  cursor: string,
): Promise<{ next: string; entries: RawEntry[] }> {
  const [next, entries] = (await redis.xautoclaim(
    reader.stream,
    reader.group,
    reader.consumer,
    minIdleMs,
    cursor,
    'COUNT',
    reader.count,
  )) as [string, RawEntry[]];
  return { next, entries };
}

/*
 * Trimming the change stream without losing anything: the scripts never cap the stream (an
 * XADD MAXLEN would drop entries the ledger has not drained when it falls behind), and the
 * drain removes only entries every consumer group has acknowledged.
 *
 * For each group, everything below its oldest pending entry is delivered and acknowledged (new
 * deliveries only come after its last-delivered id); with nothing pending, everything up to the
 * last-delivered id is. The stream is trimmed (MINID, approximate: whole nodes only, so it may
 * keep a little more) below the lowest such point of all groups. The point only moves forward
 * while we compute it, so a slightly stale one is still safe.
 */
export async function trimAcknowledged(redis: Redis, stream: string): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  let safe: string | undefined;
  for (const group of groups) {
    const info = fieldMap(group);
    const pending = Number(info.get('pending') ?? 0);
    let point: string;
    if (pending > 0) {
      const summary = (await redis.xpending(stream, String(info.get('name')))) as [
        number,
        string | null,
        ...unknown[],
      ];
      if (summary[1] === null) return 0;
      point = summary[1];
    } else {
      point = nextStreamId(String(info.get('last-delivered-id') ?? '0-0'));
    }
    if (safe === undefined || compareStreamIds(point, safe) < 0) safe = point;
  }
  if (safe === undefined || safe === '0-1') return 0;
  return (await redis.xtrim(stream, 'MINID', '~', safe)) as number;
}

function fieldMap(flat: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}

/** Orders stream ids (`ms-seq`) numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/** The smallest id after `id`. */
export function nextStreamId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
}
