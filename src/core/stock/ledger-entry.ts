/**
 * The change stream's entries, as the scripts write them (see docs/stock.md), and what the drain
 * makes of them. Pure: parsed and aggregated here, written to MySQL by ledger-drain.ts.
 *
 *   op <operation id> k <kind> t <now ms>  then per SKU:  s <sku> d <on_hand delta>
 *   r <reserved delta> a <available after> h <reserved after> v <version after>
 */

export const LEDGER_KINDS = [
  'deduct',
  'reserve',
  'confirm',
  'release',
  'expire',
  'restore',
  'set',
  'adjust',
  'load',
] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export interface LedgerLine {
  sku: string;
  /** Change of on_hand (available + reserved). */
  delta: number;
  reservedDelta: number;
  availableAfter: number;
  reservedAfter: number;
  version: number;
}

export interface LedgerEntry {
  streamId: string;
  operationId: string;
  kind: LedgerKind;
  /** The `now` of the call that made the change, Unix ms. */
  occurredAtMs: number;
  lines: LedgerLine[];
}

export type ParsedEntry =
  | { ok: true; entry: LedgerEntry }
  | { ok: false; streamId: string; reason: string; fields: readonly string[] | null };

const KINDS = new Set<string>(LEDGER_KINDS);
const LINE_FIELDS = ['s', 'd', 'r', 'a', 'h', 'v'] as const;
// Plausible instants only (2000..2200), like time.ts: anything else is not one of our entries.
const MIN_MS = 946_684_800_000;
const MAX_MS = 7_258_118_400_000;

/** Reads one entry; anything that does not follow the format is a reject with its reason. */
export function parseStreamEntry(streamId: string, fields: readonly string[] | null): ParsedEntry {
  const reject = (reason: string): ParsedEntry => ({ ok: false, streamId, reason, fields });
  if (fields === null) return reject('the entry was deleted from the stream before it was drained');
  if (fields.length < 6 + 2 * LINE_FIELDS.length || fields.length % 2 !== 0)
    return reject('wrong number of fields');
  if (fields[0] !== 'op' || fields[2] !== 'k' || fields[4] !== 't') return reject('expected op, k, t first');
  const operationId = fields[1]!;
  const kind = fields[3]!;
  const occurredAtMs = Number(fields[5]);
  if (operationId === '') return reject('empty operation id');
  if (!KINDS.has(kind)) return reject(`unknown kind ${kind}`);
  if (!Number.isInteger(occurredAtMs) || occurredAtMs < MIN_MS || occurredAtMs >= MAX_MS) {
    return reject(`implausible time ${fields[5]}`);
  }
  const body = fields.length - 6;
  if (body % (2 * LINE_FIELDS.length) !== 0) return reject('incomplete line fields');
  const lines: LedgerLine[] = [];
  for (let at = 6; at < fields.length; at += 2 * LINE_FIELDS.length) {
    for (const [index, name] of LINE_FIELDS.entries()) {
      if (fields[at + 2 * index] !== name)
        return reject(`expected field ${name} at position ${at + 2 * index}`);
    }
    const numbers = [3, 5, 7, 9, 11].map((offset) => Number(fields[at + offset]));
    if (!numbers.every((value) => Number.isSafeInteger(value)))
      return reject('a line number is not an integer');
    const [delta, reservedDelta, availableAfter, reservedAfter, version] = numbers as [
      number,
      number,
      number,
      number,
      number,
    ];
    const sku = fields[at + 1]!;
    if (sku === '') return reject('empty sku');
    lines.push({ sku, delta, reservedDelta, availableAfter, reservedAfter, version });
  }
  return { ok: true, entry: { streamId, operationId, kind: kind as LedgerKind, occurredAtMs, lines } };
}

/** One ledger row: an entry's line with the entry's identity. */
export interface LedgerRow extends LedgerLine {
  streamId: string;
  operationId: string;
  kind: LedgerKind;
  occurredAtMs: number;
}

export function ledgerRows(entries: readonly LedgerEntry[]): LedgerRow[] {
  const rows: LedgerRow[] = [];
  for (const entry of entries) {
    for (const line of entry.lines) {
      rows.push({
        ...line,
        streamId: entry.streamId,
        operationId: entry.operationId,
        kind: entry.kind,
        occurredAtMs: entry.occurredAtMs,
      });
    }
  }
  return rows;
}

/** What newly inserted ledger rows add to one SKU's inventory row. */
export interface InventoryChange {
  sku: string;
  onHandDelta: number;
  reservedDelta: number;
  /** The highest version among the rows (the row keeps the highest ever seen). */
  version: number;
  lastOccurredAtMs: number;
}

/**
 * Sums rows per SKU, sorted by SKU so concurrent drains lock inventory rows in one order
 * (fewer deadlocks). Deltas commute, so the order in which entries arrive does not matter.
 */
export function inventoryChanges(rows: readonly LedgerRow[]): InventoryChange[] {
  const bySku = new Map<string, InventoryChange>();
  for (const row of rows) {
    const change = bySku.get(row.sku);
    if (change) {
      change.onHandDelta += row.delta;
      change.reservedDelta += row.reservedDelta;
      change.version = Math.max(change.version, row.version);
      change.lastOccurredAtMs = Math.max(change.lastOccurredAtMs, row.occurredAtMs);
    } else {
      bySku.set(row.sku, {
        sku: row.sku,
        onHandDelta: row.delta,
        reservedDelta: row.reservedDelta,
        version: row.version,
        lastOccurredAtMs: row.occurredAtMs,
      });
    }
  }
  return [...bySku.values()].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}
