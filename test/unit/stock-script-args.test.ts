import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tenantKeys, tenantRegistryKey } from '../../src/core/stock/keys.js';
import {
  adjustArgs,
  decodeLines,
  deductArgs,
  deductOnceArgs,
  encodeLines,
  loadArgs,
  reserveArgs,
  restoreArgs,
  setArgs,
  settleArgs,
} from '../../src/core/stock/script-args.js';
import { readStockScript, STOCK_SCRIPT_FILES, type StockScriptName } from '../../src/core/stock/scripts.js';

const keys = tenantKeys('app:', 'shop-1');
const NOW = 1_900_000_000_000;

/** The hash tag Redis Cluster hashes: the part between the first `{` and the next `}`, if non-empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('stock keys', () => {
  it('puts every key of a tenant under the same hash tag, so one script may touch them all', () => {
    const all = [
      keys.stock('A'),
      keys.stock('B{x}'),
      keys.operation('op-1'),
      keys.buyers('A'),
      keys.reservations,
      keys.stream,
    ];
    expect(new Set(all.map(hashTag))).toEqual(new Set(['t:shop-1']));
    expect(hashTag(tenantKeys('app:', 'shop-2').stream)).toBe('t:shop-2');
  });

  it('builds the documented names', () => {
    expect(keys.stock('SKU-1')).toBe('app:stock:{t:shop-1}:sku:SKU-1');
    expect(keys.operation('o1')).toBe('app:stock:{t:shop-1}:op:o1');
    expect(keys.stream).toBe('app:stock:{t:shop-1}:stream');
    expect(tenantRegistryKey('app:')).toBe('app:stock:tenants');
  });
});

describe('script arguments', () => {
  it('deductArgs: record, stream, reservations, then one stock key per line; ARGV in contract order', () => {
    const call = deductArgs(keys, {
      operationId: 'order-9',
      lines: [
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 1 },
      ],
      now: NOW,
      recordTtlMs: 1000,
      sweepCheck: true,
    });
    expect(call.keys).toEqual([
      'app:stock:{t:shop-1}:op:order-9',
      'app:stock:{t:shop-1}:stream',
      'app:stock:{t:shop-1}:reservations',
      'app:stock:{t:shop-1}:sku:A',
      'app:stock:{t:shop-1}:sku:B',
    ]);
    expect(call.args).toEqual([NOW, 'order-9', 1000, 'A 2 B 1', '1', 'A', 2, 'B', 1]);
    expect(
      deductArgs(keys, {
        operationId: 'x',
        lines: [{ sku: 'A', quantity: 1 }],
        now: NOW,
        recordTtlMs: 1,
        sweepCheck: false,
      }).args[4],
    ).toBe('0');
  });

  it('deductOnceArgs fingerprints the user with the line', () => {
    const call = deductOnceArgs(keys, {
      operationId: 'f1',
      userId: 'u7',
      sku: 'A',
      quantity: 1,
      now: NOW,
      recordTtlMs: 5,
      sweepCheck: true,
    });
    expect(call.keys).toEqual([
      keys.operation('f1'),
      keys.stream,
      keys.reservations,
      keys.stock('A'),
      keys.buyers('A'),
    ]);
    expect(call.args).toEqual([NOW, 'f1', 5, 'u7|A 1', '1', 'u7', 'A', 1]);
  });

  it('reserveArgs includes the hold time in the fingerprint, so a repeat with another hold is a conflict', () => {
    const call = reserveArgs(keys, {
      reservationId: 'cart',
      lines: [{ sku: 'A', quantity: 3 }],
      holdMs: 900,
      now: NOW,
      recordTtlMs: 7,
      sweepCheck: false,
    });
    expect(call.keys).toEqual([keys.operation('cart'), keys.stream, keys.reservations, keys.stock('A')]);
    expect(call.args).toEqual([NOW, 'cart', 7, '900|A 3', '0', 900, 'A', 3]);
  });

  it('settleArgs and restoreArgs take the SKUs of the stored record', () => {
    expect(settleArgs(keys, { now: NOW, reservationId: 'cart', action: 'expire', skus: ['A', 'B'] })).toEqual(
      {
        keys: [keys.operation('cart'), keys.stream, keys.reservations, keys.stock('A'), keys.stock('B')],
        args: [NOW, 'cart', 'expire'],
      },
    );
    expect(
      restoreArgs(keys, { operationId: 'undo', restores: 'sale', skus: ['A'], now: NOW, recordTtlMs: 3 }),
    ).toEqual({
      keys: [keys.operation('undo'), keys.operation('sale'), keys.stream, keys.buyers('A'), keys.stock('A')],
      args: [NOW, 'undo', 3, 'sale'],
    });
    // An unknown target still names a key of the tenant's slot for the buyers set.
    expect(
      hashTag(
        restoreArgs(keys, { operationId: 'u', restores: 's', skus: [], now: NOW, recordTtlMs: 3 }).keys[3]!,
      ),
    ).toBe('t:shop-1');
  });

  it('setArgs, adjustArgs and loadArgs', () => {
    expect(
      setArgs(keys, {
        operationId: 's',
        sku: 'A',
        expectedVersion: 4,
        available: 10,
        now: NOW,
        recordTtlMs: 1,
      }),
    ).toEqual({
      keys: [keys.operation('s'), keys.stream, keys.stock('A')],
      args: [NOW, 's', 1, 'A', 4, 10],
    });
    expect(
      adjustArgs(keys, {
        operationId: 'a',
        sku: 'A',
        expectedVersion: 4,
        delta: -2,
        now: NOW,
        recordTtlMs: 1,
      }).args,
    ).toEqual([NOW, 'a', 1, 'A', 4, -2]);
    expect(
      loadArgs(keys, { operationId: 'w', sku: 'A', onHand: 9, reserved: 2, version: 7, now: NOW }),
    ).toEqual({
      keys: [keys.stream, keys.stock('A')],
      args: [NOW, 'w', 'A', 9, 2, 7],
    });
  });

  it('encodes lines as the records keep them, and decodes them back', () => {
    const lines = [
      { sku: 'A-1', quantity: 2 },
      { sku: 'B/2', quantity: 10 },
    ];
    expect(encodeLines(lines)).toBe('A-1 2 B/2 10');
    expect(decodeLines(encodeLines(lines))).toEqual(lines);
    expect(decodeLines('')).toEqual([]);
  });
});

describe('script files', () => {
  it.each(Object.keys(STOCK_SCRIPT_FILES) as StockScriptName[])(
    '%s: a versioned command name, its key count in the file name, a KEYS/ARGV contract on top',
    (name) => {
      const script = readStockScript(name);
      expect(script.command).toMatch(/^tradectl:stock:[a-z-]+:[0-9a-f]{12}$/);
      expect(script.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(script.lua.startsWith('--[[')).toBe(true);
      const header = script.lua.slice(0, script.lua.indexOf(']]'));
      expect(header).toMatch(/KEYS\[1\]/);
      if (script.keys !== null) {
        for (let key = 1; key <= script.keys; key++) expect(header).toContain(`KEYS[${key}]`);
        expect(header).not.toContain(`KEYS[${script.keys + 1}]`);
      }
      // KEYS and ARGV are named once, as locals at the top; the body never indexes them by a bare
      // number. Variable-length scripts index line keys and arguments from a named start.
      const body = script.lua.slice(script.lua.indexOf(']]') + 2).split('\n');
      const firstStatement = body.findIndex(
        (line) => line.trim() !== '' && !line.trim().startsWith('local '),
      );
      for (const [index, line] of body.entries()) {
        for (const match of line.matchAll(/\b(?:KEYS|ARGV)\[([^\]]+)\]/g)) {
          if (/^\d+$/.test(match[1]!)) {
            expect(
              index < firstStatement && line.trim().startsWith('local '),
              `${script.file}: ${line.trim()}`,
            ).toBe(true);
          } else {
            expect(match[1], `${script.file}: ${line.trim()}`).toMatch(/^FIRST_[A-Z_]+/);
          }
        }
      }
    },
  );

  it('ships each script once, named after its file', () => {
    const files = Object.values(STOCK_SCRIPT_FILES);
    expect(new Set(files).size).toBe(files.length);
    for (const file of files) {
      expect(
        readFileSync(new URL(`../../src/core/stock/lua/${file}`, import.meta.url), 'utf8').length,
      ).toBeGreaterThan(100);
    }
  });
});
