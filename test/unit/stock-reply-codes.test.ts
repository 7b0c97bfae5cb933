import { describe, expect, it } from 'vitest';
import type { TradectlError } from '../../src/core/errors.js';
import {
  parseReply,
  type ReplyContext,
  STOCK_REPLY,
  stockErrorFor,
} from '../../src/core/stock/reply-codes.js';
import { readStockScript, STOCK_SCRIPT_FILES, type StockScriptName } from '../../src/core/stock/scripts.js';
import {
  AlreadyPurchasedError,
  InsufficientStockError,
  OperationConflictError,
  ReservationError,
  RestoreError,
  UnknownSkuError,
  VersionConflictError,
} from '../../src/core/stock/stock-errors.js';

const context: ReplyContext = {
  script: 'deduct',
  tenant: 'shop',
  operationId: 'op-1',
  kind: 'deduct',
  lines: [
    { sku: 'A', quantity: 1 },
    { sku: 'B', quantity: 5 },
  ],
  userId: 'u1',
  expectedVersion: 3,
  restores: 'sale-1',
};

function mapped(code: number, detail: string, replayed = false): TradectlError {
  return stockErrorFor({ code, replayed, detail }, context);
}

describe('parseReply', () => {
  it('reads {code, replayed, detail}', () => {
    expect(parseReply('deduct', [0, 1, '7,2'])).toEqual({ code: 0, replayed: true, detail: '7,2' });
    expect(parseReply('settle', [0, 1, null])).toEqual({ code: 0, replayed: true, detail: '' });
  });

  it.each([[null], ['OK'], [[0, 2, '']], [[0, 0]], [['0', 0, '']], [[0, 0, 5]]])(
    'refuses %j as an internal error',
    (raw) => {
      expect(() => parseReply('deduct', raw)).toThrow(
        expect.objectContaining({ code: 'TRADECTL_STOCK_SCRIPT_REPLY', kind: 'internal' }),
      );
    },
  );
});

describe('stockErrorFor', () => {
  it('INSUFFICIENT names the SKU of the line, what is available and what was asked', () => {
    const error = mapped(STOCK_REPLY.INSUFFICIENT, '2,3,5', true);
    expect(error).toBeInstanceOf(InsufficientStockError);
    expect(error).toMatchObject({
      code: 'TRADECTL_STOCK_INSUFFICIENT',
      sku: 'B',
      available: 3,
      requested: 5,
      retriable: false,
    });
    expect(error.details).toMatchObject({ replayed: true, tenant: 'shop' });
  });

  it('UNKNOWN_SKU names the SKU', () => {
    expect(mapped(STOCK_REPLY.UNKNOWN_SKU, '1')).toMatchObject({
      sku: 'A',
      code: 'TRADECTL_STOCK_UNKNOWN_SKU',
    });
    expect(mapped(STOCK_REPLY.UNKNOWN_SKU, '1')).toBeInstanceOf(UnknownSkuError);
  });

  it('VERSION_CONFLICT carries both versions', () => {
    const error = mapped(STOCK_REPLY.VERSION_CONFLICT, '9');
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ expectedVersion: 3, currentVersion: 9 });
  });

  it.each<[number, string, new (...args: never[]) => TradectlError, string]>([
    [STOCK_REPLY.OP_CONFLICT, 'reserve', OperationConflictError, 'TRADECTL_STOCK_OPERATION_CONFLICT'],
    [STOCK_REPLY.ALREADY_PURCHASED, '', AlreadyPurchasedError, 'TRADECTL_STOCK_ALREADY_PURCHASED'],
    [STOCK_REPLY.RESERVATION_NOT_FOUND, '', ReservationError, 'TRADECTL_STOCK_RESERVATION_NOT_FOUND'],
    [STOCK_REPLY.RESERVATION_EXPIRED, 'expired,1,2', ReservationError, 'TRADECTL_STOCK_RESERVATION_EXPIRED'],
    [STOCK_REPLY.RESERVATION_SETTLED, 'confirmed', ReservationError, 'TRADECTL_STOCK_RESERVATION_SETTLED'],
    [STOCK_REPLY.NOT_APPLIED, '', RestoreError, 'TRADECTL_STOCK_NOT_APPLIED'],
    [STOCK_REPLY.NOT_RESTORABLE, 'reserve:held', RestoreError, 'TRADECTL_STOCK_NOT_RESTORABLE'],
    [STOCK_REPLY.ALREADY_RESTORED, 'undo-1', RestoreError, 'TRADECTL_STOCK_ALREADY_RESTORED'],
  ])('code %i maps to %s', (code, detail, type, errorCode) => {
    const error = mapped(code, detail);
    expect(error).toBeInstanceOf(type);
    expect(error.code).toBe(errorCode);
    expect(error.kind).toBe('data');
    expect(error.retriable).toBe(false);
  });

  it('treats internal and unknown codes as a bug, never as a business answer', () => {
    for (const code of [
      STOCK_REPLY.OK,
      STOCK_REPLY.SWEEP_NEEDED,
      STOCK_REPLY.NOT_DUE,
      STOCK_REPLY.STALE_KEYS,
      99,
    ]) {
      expect(mapped(code, '')).toMatchObject({ code: 'TRADECTL_STOCK_SCRIPT_REPLY', kind: 'internal' });
    }
  });
});

describe('codes in the scripts', () => {
  const known = new Set<number>(Object.values(STOCK_REPLY));

  it.each(Object.keys(STOCK_SCRIPT_FILES).filter((name) => name !== 'pruneConsumers') as StockScriptName[])(
    '%s returns only known codes, each listed in its header',
    (name) => {
      const { lua } = readStockScript(name);
      const header = lua.slice(0, lua.indexOf(']]'));
      const returned = [...lua.matchAll(/return \{(\d+),/g)].map((match) => Number(match[1]));
      expect(returned.length).toBeGreaterThan(0);
      for (const code of returned) {
        expect(known.has(code), `${name} returns unknown code ${code}`).toBe(true);
        expect(header, `${name} does not list code ${code}`).toMatch(
          new RegExp(`^\\s+${code}\\s+[A-Z_]+`, 'm'),
        );
      }
    },
  );
});
