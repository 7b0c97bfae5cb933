import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { OperationConflictError, UnknownSkuError } from '../../src/core/stock/stock-errors.js';
import type { StockService } from '../../src/core/stock/stock-service.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

// deductAvailable (deduct-available-4.lua) against the real Redis: a sale that already happened
// takes what it can, says what was missing, answers a repeat with its first answer, and restore
// gives back what it took; the drained ledger equals Redis.
let fixture: StockFixture;
let service: StockService;
let counter = 0;

async function freshSku(available: number): Promise<string> {
  const sku = `DA-${++counter}`;
  await service.set({ operationId: `create-${sku}`, sku, expectedVersion: 0, available });
  return sku;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  fixture = await createStockFixture();
  service = fixture.service();
});

afterAll(async () => {
  await fixture?.close();
});

describe('deductAvailable', () => {
  it('takes everything when there is enough, once however often it is repeated', async () => {
    const sku = await freshSku(10);
    const first = await service.deductAvailable({ operationId: 'da-full', sku, quantity: 4 });
    expect(first).toMatchObject({
      replayed: false,
      requested: 4,
      deducted: 4,
      shortfall: 0,
      available: 6,
      version: 2,
    });
    for (let i = 0; i < 5; i++) {
      expect(await service.deductAvailable({ operationId: 'da-full', sku, quantity: 4 })).toEqual({
        ...first,
        replayed: true,
      });
    }
    expect(await service.get({ sku })).toMatchObject({ available: 6, version: 2 });
  });

  it('takes what is left when it is less, and keeps that answer after a restock', async () => {
    const sku = await freshSku(3);
    const first = await service.deductAvailable({ operationId: 'da-short', sku, quantity: 5 });
    expect(first).toMatchObject({ deducted: 3, shortfall: 2, available: 0 });
    await service.adjust({ operationId: 'da-restock', sku, expectedVersion: 2, delta: 10 });
    expect(await service.deductAvailable({ operationId: 'da-short', sku, quantity: 5 })).toMatchObject({
      replayed: true,
      deducted: 3,
      shortfall: 2,
    });
    expect(await service.get({ sku })).toMatchObject({ available: 10 });
  });

  it('takes nothing from an empty SKU, appends nothing to the stream, and restore has nothing to give', async () => {
    const sku = await freshSku(1);
    await service.deductAvailable({ operationId: 'da-empty-1', sku, quantity: 1 });
    const stream = tenantKeys(fixture.keyPrefix, 'default').stream;
    const before = await fixture.redis.xlen(stream);
    const empty = await service.deductAvailable({ operationId: 'da-empty-2', sku, quantity: 2 });
    expect(empty).toMatchObject({ deducted: 0, shortfall: 2, available: 0, version: null });
    expect(await fixture.redis.xlen(stream)).toBe(before);
    expect(
      await caught(service.restore({ operationId: 'da-empty-r', restores: 'da-empty-2' })),
    ).toMatchObject({
      code: 'TRADECTL_STOCK_NOT_APPLIED',
    });
  });

  it('restore gives back exactly what was taken, once', async () => {
    const sku = await freshSku(2);
    await service.deductAvailable({ operationId: 'da-restore', sku, quantity: 5 });
    const restored = await service.restore({ operationId: 'da-restore-r', restores: 'da-restore' });
    expect(restored.lines).toEqual([{ sku, quantity: 2, available: 2, version: 3 }]);
    await service.restore({ operationId: 'da-restore-r', restores: 'da-restore' });
    expect(
      await caught(service.restore({ operationId: 'da-restore-r2', restores: 'da-restore' })),
    ).toMatchObject({
      code: 'TRADECTL_STOCK_ALREADY_RESTORED',
    });
    expect(await service.get({ sku })).toMatchObject({ available: 2 });
  });

  it('returns the stock of an expired reservation before counting a shortfall', async () => {
    const sku = await freshSku(4);
    let now = Date.now();
    const timed = fixture.service({ clock: () => now });
    await timed.reserve({ reservationId: 'da-hold', lines: [{ sku, quantity: 3 }], ttlMs: 1000 });
    now += 5000;
    expect(await timed.deductAvailable({ operationId: 'da-after-hold', sku, quantity: 4 })).toMatchObject({
      deducted: 4,
      shortfall: 0,
    });
  });

  it('refuses an unknown SKU, a reused operation id and bad input, changing nothing', async () => {
    expect(
      await caught(service.deductAvailable({ operationId: 'da-unknown', sku: 'NOPE', quantity: 1 })),
    ).toBeInstanceOf(UnknownSkuError);
    const sku = await freshSku(5);
    await service.deduct({ operationId: 'da-plain', lines: [{ sku, quantity: 1 }] });
    expect(
      await caught(service.deductAvailable({ operationId: 'da-plain', sku, quantity: 1 })),
    ).toBeInstanceOf(OperationConflictError);
    const invalid = await caught(service.deductAvailable({ operationId: 'bad id', sku, quantity: 0 }));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).issues.map((issue) => issue.path)).toEqual([
      'operationId',
      'quantity',
    ]);
    expect(await service.get({ sku })).toMatchObject({ available: 4 });
  });

  it('drains into the ledger so that MySQL equals Redis', async () => {
    const sku = await freshSku(6);
    await service.deductAvailable({ operationId: 'da-ledger-1', sku, quantity: 4 });
    await service.deductAvailable({ operationId: 'da-ledger-2', sku, quantity: 4 });
    await service.restore({ operationId: 'da-ledger-r', restores: 'da-ledger-2' });
    await fixture.drain().drainUntilIdle();
    const sides = await bothSides(fixture, sku);
    expect(sides.mysql).toEqual(sides.redis);
    expect(sides.redis).toMatchObject({ onHand: 2 });
    expect(await fixture.ledgerCounts(sku)).toEqual({ set: 1, deduct: 2, restore: 1 });
  });
});

describe('deductAvailableMany', () => {
  it('answers each input as deductAvailable would, in input order, across pipelines and tenants', async () => {
    const plenty = await freshSku(1000);
    const short = await freshSku(3);
    await service.deduct({ operationId: 'dam-plain', lines: [{ sku: plenty, quantity: 1 }] });
    // 150 good inputs: three pipelines of the default size for the default tenant.
    const many = Array.from({ length: 150 }, (_, i) => ({
      operationId: `dam-${i}`,
      sku: plenty,
      quantity: 2,
    }));
    const inputs = [
      { operationId: 'dam-short', sku: short, quantity: 5 },
      ...many.slice(0, 90),
      { operationId: 'dam-unknown', sku: 'NOPE', quantity: 1 },
      { operationId: 'dam-plain', sku: plenty, quantity: 1 },
      { operationId: 'bad id', sku: plenty, quantity: -1 },
      { tenant: 'other-tenant', operationId: 'dam-other', sku: plenty, quantity: 1 },
      ...many.slice(90),
    ];
    const settled = await service.deductAvailableMany(inputs);
    expect(settled).toHaveLength(inputs.length);
    expect(settled[0]).toMatchObject({
      status: 'fulfilled',
      value: { deducted: 3, shortfall: 2, available: 0 },
    });
    settled.forEach((result, index) => {
      const input = inputs[index]!;
      if (/^dam-\d+$/.test(input.operationId)) {
        expect(result).toMatchObject({
          status: 'fulfilled',
          value: { operationId: input.operationId, deducted: 2, shortfall: 0, replayed: false },
        });
      }
    });
    const reasons = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(reasons).toHaveLength(4);
    expect(reasons[0]).toBeInstanceOf(UnknownSkuError);
    expect(reasons[1]).toBeInstanceOf(OperationConflictError);
    expect(reasons[2]).toBeInstanceOf(ValidationError);
    // The other tenant has no such SKU: its own pipeline, its own answer.
    expect(reasons[3]).toBeInstanceOf(UnknownSkuError);
    expect(await service.get({ sku: plenty })).toMatchObject({ available: 1000 - 1 - 300 });
    // A repeat is a replay of every first answer and takes nothing more.
    const again = await service.deductAvailableMany(many);
    expect(again.every((result) => result.status === 'fulfilled' && result.value.replayed)).toBe(true);
    expect(await service.get({ sku: plenty })).toMatchObject({ available: 1000 - 1 - 300 });
  });

  it('sweeps an expired reservation for the calls that meet one, before counting a shortfall', async () => {
    const sku = await freshSku(4);
    let now = Date.now();
    const timed = fixture.service({ clock: () => now });
    await timed.reserve({ reservationId: 'dam-hold', lines: [{ sku, quantity: 3 }], ttlMs: 1000 });
    now += 5000;
    const settled = await timed.deductAvailableMany([
      { operationId: 'dam-hold-1', sku, quantity: 1 },
      { operationId: 'dam-hold-2', sku, quantity: 3 },
    ]);
    expect(settled.map((result) => result.status === 'fulfilled' && result.value.shortfall)).toEqual([0, 0]);
    expect(await timed.get({ sku })).toMatchObject({ available: 0, reserved: 0 });
  });
});
