import { describe, expect, it } from 'vitest';
import { inventoryChanges, ledgerRows, parseStreamEntry } from '../../src/core/stock/ledger-entry.js';
import { compareStreamIds, nextStreamId } from '../../src/core/stock/ledger-stream.js';

const T = '1900000000000';

describe('parseStreamEntry', () => {
  it('reads the entry a multi-line deduct writes', () => {
    const fields = [
      'op',
      'o1',
      'k',
      'deduct',
      't',
      T,
      's',
      'A',
      'd',
      '-2',
      'r',
      '0',
      'a',
      '8',
      'h',
      '1',
      'v',
      '5',
    ];
    fields.push('s', 'B', 'd', '-1', 'r', '0', 'a', '0', 'h', '0', 'v', '2');
    expect(parseStreamEntry('1-0', fields)).toEqual({
      ok: true,
      entry: {
        streamId: '1-0',
        operationId: 'o1',
        kind: 'deduct',
        occurredAtMs: Number(T),
        lines: [
          { sku: 'A', delta: -2, reservedDelta: 0, availableAfter: 8, reservedAfter: 1, version: 5 },
          { sku: 'B', delta: -1, reservedDelta: 0, availableAfter: 0, reservedAfter: 0, version: 2 },
        ],
      },
    });
  });

  it.each<[string, string[] | null]>([
    ['deleted', null],
    ['no lines', ['op', 'o1', 'k', 'deduct', 't', T]],
    [
      'unknown kind',
      ['op', 'o1', 'k', 'steal', 't', T, 's', 'A', 'd', '1', 'r', '0', 'a', '1', 'h', '0', 'v', '1'],
    ],
    [
      'time in seconds',
      ['op', 'o1', 'k', 'set', 't', '1900000000', 's', 'A', 'd', '1', 'r', '0', 'a', '1', 'h', '0', 'v', '1'],
    ],
    [
      'fields out of order',
      ['op', 'o1', 'k', 'set', 't', T, 's', 'A', 'r', '0', 'd', '1', 'a', '1', 'h', '0', 'v', '1'],
    ],
    [
      'fraction',
      ['op', 'o1', 'k', 'set', 't', T, 's', 'A', 'd', '1.5', 'r', '0', 'a', '1', 'h', '0', 'v', '1'],
    ],
    [
      'a line cut short',
      ['op', 'o1', 'k', 'set', 't', T, 's', 'A', 'd', '1', 'r', '0', 'a', '1', 'h', '0', 'v', '1', 's', 'B'],
    ],
  ])('rejects an entry with %s, keeping the reason', (_what, fields) => {
    const parsed = parseStreamEntry('9-9', fields);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason.length).toBeGreaterThan(3);
      expect(parsed.fields).toBe(fields);
    }
  });
});

describe('inventoryChanges', () => {
  it('adds up the deltas per SKU, keeps the highest version, sorted by SKU', () => {
    const entry = (
      id: string,
      kind: 'deduct' | 'reserve',
      sku: string,
      delta: number,
      reserved: number,
      version: number,
    ) => ({
      streamId: id,
      operationId: id,
      kind,
      occurredAtMs: Number(T) + version,
      lines: [{ sku, delta, reservedDelta: reserved, availableAfter: 0, reservedAfter: 0, version }],
    });
    const rows = ledgerRows([
      entry('3-0', 'deduct', 'B', -1, 0, 4),
      entry('1-0', 'reserve', 'A', 0, 2, 7),
      entry('2-0', 'deduct', 'B', -3, 0, 2),
    ]);
    expect(rows).toHaveLength(3);
    expect(inventoryChanges(rows)).toEqual([
      { sku: 'A', onHandDelta: 0, reservedDelta: 2, version: 7, lastOccurredAtMs: Number(T) + 7 },
      { sku: 'B', onHandDelta: -4, reservedDelta: 0, version: 4, lastOccurredAtMs: Number(T) + 4 },
    ]);
  });
});

describe('stream ids', () => {
  it('compares numerically and steps to the next id', () => {
    expect(compareStreamIds('10-0', '9-5')).toBe(1);
    expect(compareStreamIds('9-10', '9-9')).toBe(1);
    expect(compareStreamIds('9-9', '9-9')).toBe(0);
    expect(compareStreamIds('1-0', '2-0')).toBe(-1);
    expect(nextStreamId('1795494398260-7')).toBe('1795494398260-8');
    expect(nextStreamId('0-0')).toBe('0-1');
  });
});
