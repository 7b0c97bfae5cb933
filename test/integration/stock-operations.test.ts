import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TradectlError, ValidationError } from '../../src/core/errors.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { initStockTables } from '../../src/core/stock/ledger-schema.js';
import {
  AlreadyPurchasedError,
  InsufficientStockError,
  OperationConflictError,
  RestoreError,
  UnknownSkuError,
  VersionConflictError,
} from '../../src/core/stock/stock-errors.js';
import type { StockService } from '../../src/core/stock/stock-service.js';
import { warmUpStock } from '../../src/core/stock/stock-warmup.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

let fixture: StockFixture;
let service: StockService;
let counter = 0;

/** A SKU of its own for each test, created with `available` units. */
async function freshSku(available: number): Promise<string> {
  const sku = `SKU-${++counter}`;
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

async function streamLength(): Promise<number> {
  return fixture.redis.xlen(tenantKeys(fixture.keyPrefix, 'default').stream);
}

beforeAll(async () => {
  fixture = await createStockFixture();
  service = fixture.service();
});

afterAll(async () => {
  await fixture.close();
});

describe('deduct', () => {
  it('deducts once however often the same operation id is retried, one after another', async () => {
    const sku = await freshSku(10);
    const first = await service.deduct({ operationId: 'retry-seq', lines: [{ sku, quantity: 3 }] });
    expect(first).toMatchObject({ replayed: false, lines: [{ sku, quantity: 3, available: 7, version: 2 }] });
    for (let i = 0; i < 50; i++) {
      const again = await service.deduct({ operationId: 'retry-seq', lines: [{ sku, quantity: 3 }] });
      expect(again).toEqual({ ...first, replayed: true });
    }
    expect(await service.get({ sku })).toMatchObject({ available: 7, version: 2 });
  });

  it('deducts once when the same operation id arrives 200 times at once', async () => {
    const sku = await freshSku(10);
    const before = await streamLength();
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        service.deduct({ operationId: 'retry-burst', lines: [{ sku, quantity: 2 }] }),
      ),
    );
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(new Set(results.map((result) => result.lines[0]!.available))).toEqual(new Set([8]));
    expect(await service.get({ sku })).toMatchObject({ available: 8, version: 2 });
    expect(await streamLength()).toBe(before + 1);
  });

  it('deducts every line of an order or none of them', async () => {
    const plenty = await freshSku(10);
    const scarce = await freshSku(1);
    const error = await caught(
      service.deduct({
        operationId: 'order-too-big',
        lines: [
          { sku: plenty, quantity: 4 },
          { sku: scarce, quantity: 2 },
        ],
      }),
    );
    expect(error).toBeInstanceOf(InsufficientStockError);
    expect(error).toMatchObject({ sku: scarce, available: 1, requested: 2 });
    expect(await service.get({ sku: plenty })).toMatchObject({ available: 10, version: 1 });
    expect(await service.get({ sku: scarce })).toMatchObject({ available: 1, version: 1 });

    const ok = await service.deduct({
      operationId: 'order-fits',
      lines: [
        { sku: plenty, quantity: 4 },
        { sku: scarce, quantity: 1 },
        { sku: plenty, quantity: 1 },
      ],
    });
    // Lines of one SKU are added up.
    expect(ok.lines).toEqual([
      { sku: plenty, quantity: 5, available: 5, version: 2 },
      { sku: scarce, quantity: 1, available: 0, version: 2 },
    ]);
  });

  it('answers a retry of a refused operation with the same refusal, even once stock is back', async () => {
    const sku = await freshSku(1);
    const first = await caught(service.deduct({ operationId: 'refused', lines: [{ sku, quantity: 5 }] }));
    expect(first).toMatchObject({ code: 'TRADECTL_STOCK_INSUFFICIENT', available: 1, requested: 5 });
    const level = await service.get({ sku });
    await service.adjust({ operationId: `refill-${sku}`, sku, expectedVersion: level!.version, delta: 10 });
    const again = await caught(service.deduct({ operationId: 'refused', lines: [{ sku, quantity: 5 }] }));
    expect(again).toMatchObject({ code: 'TRADECTL_STOCK_INSUFFICIENT', available: 1, requested: 5 });
    expect((again as TradectlError).details.replayed).toBe(true);
    expect(await service.get({ sku })).toMatchObject({ available: 11 });
  });

  it('refuses an operation id reused for a different request', async () => {
    const sku = await freshSku(10);
    await service.deduct({ operationId: 'reused', lines: [{ sku, quantity: 1 }] });
    const error = await caught(service.deduct({ operationId: 'reused', lines: [{ sku, quantity: 2 }] }));
    expect(error).toBeInstanceOf(OperationConflictError);
    const asReservation = await caught(
      service.reserve({ reservationId: 'reused', lines: [{ sku, quantity: 1 }], ttlMs: 1000 }),
    );
    expect(asReservation).toBeInstanceOf(OperationConflictError);
    expect(await service.get({ sku })).toMatchObject({ available: 9 });
  });

  it('names an unknown SKU and changes nothing', async () => {
    const sku = await freshSku(5);
    const before = await streamLength();
    const error = await caught(
      service.deduct({
        operationId: 'unknown-sku',
        lines: [
          { sku, quantity: 1 },
          { sku: 'NO-SUCH-SKU', quantity: 1 },
        ],
      }),
    );
    expect(error).toBeInstanceOf(UnknownSkuError);
    expect(error).toMatchObject({ sku: 'NO-SUCH-SKU' });
    expect(await service.get({ sku })).toMatchObject({ available: 5 });
    expect(await streamLength()).toBe(before);
    // Not stored as the answer: once the SKU exists, the same operation goes through.
    await service.set({
      operationId: 'create-NO-SUCH-SKU',
      sku: 'NO-SUCH-SKU',
      expectedVersion: 0,
      available: 1,
    });
    const later = await service.deduct({
      operationId: 'unknown-sku',
      lines: [
        { sku, quantity: 1 },
        { sku: 'NO-SUCH-SKU', quantity: 1 },
      ],
    });
    expect(later.replayed).toBe(false);
  });

  it('rejects negative, fractional or zero quantities and a missing id before touching Redis', async () => {
    const sku = await freshSku(5);
    const before = await streamLength();
    const cases: [unknown, string][] = [
      [{ operationId: 'bad-1', lines: [{ sku, quantity: -1 }] }, 'lines[0].quantity'],
      [{ operationId: 'bad-2', lines: [{ sku, quantity: 1.5 }] }, 'lines[0].quantity'],
      [{ operationId: 'bad-3', lines: [{ sku, quantity: 0 }] }, 'lines[0].quantity'],
      [{ lines: [{ sku, quantity: 1 }] }, 'operationId'],
      [{ operationId: 'bad-5', lines: [] }, 'lines'],
      [{ operationId: 'bad-6', lines: [{ sku: 'has space', quantity: 1 }] }, 'lines[0].sku'],
      [null, ''],
      ['not an object', ''],
    ];
    for (const [input, path] of cases) {
      const error = await caught(service.deduct(input as never));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((issue) => issue.path)).toContain(path);
    }
    expect(await service.get({ sku })).toMatchObject({ available: 5, version: 1 });
    expect(await streamLength()).toBe(before);
  });
});

describe('deduct once per user', () => {
  it('lets a user buy a SKU once, even with many attempts at once', async () => {
    const sku = await freshSku(100);
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        service.deductOncePerUser({ operationId: `flash-u1-${i}`, userId: 'u1', sku }),
      ),
    );
    expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') expect(attempt.reason).toBeInstanceOf(AlreadyPurchasedError);
    }
    await service.deductOncePerUser({ operationId: 'flash-u2', userId: 'u2', sku, quantity: 2 });
    expect(await service.get({ sku })).toMatchObject({ available: 97 });
  });

  it('lets the buyer buy again after the purchase was restored', async () => {
    const sku = await freshSku(5);
    await service.deductOncePerUser({ operationId: 'flash-a', userId: 'u9', sku });
    await service.restore({ operationId: 'undo-flash-a', restores: 'flash-a' });
    const again = await service.deductOncePerUser({ operationId: 'flash-b', userId: 'u9', sku });
    expect(again.lines[0]).toMatchObject({ available: 4 });
  });
});

describe('set and adjust (compare-and-set)', () => {
  it('refuses a correction based on a version a sale has moved past', async () => {
    const sku = await freshSku(10);
    const read = await service.get({ sku });
    await service.deduct({ operationId: `sale-${sku}`, lines: [{ sku, quantity: 1 }] });
    const error = await caught(
      service.set({ operationId: 'recount', sku, expectedVersion: read!.version, available: 50 }),
    );
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ expectedVersion: 1, currentVersion: 2 });
    expect(await service.get({ sku })).toMatchObject({ available: 9, version: 2 });
    // Re-read, decide again, same operation id: the conflict was not stored, so it applies.
    const applied = await service.set({ operationId: 'recount', sku, expectedVersion: 2, available: 50 });
    expect(applied).toMatchObject({ available: 50, version: 3, replayed: false });
    expect(
      await service.set({ operationId: 'recount', sku, expectedVersion: 2, available: 50 }),
    ).toMatchObject({
      replayed: true,
    });
  });

  it('adjusts by a delta, never below zero', async () => {
    const sku = await freshSku(3);
    const low = await caught(service.adjust({ operationId: 'shrink', sku, expectedVersion: 1, delta: -4 }));
    expect(low).toBeInstanceOf(InsufficientStockError);
    expect(
      await service.adjust({ operationId: 'shrink-ok', sku, expectedVersion: 1, delta: -3 }),
    ).toMatchObject({
      available: 0,
      version: 2,
    });
    expect(
      await caught(service.adjust({ operationId: 'late', sku, expectedVersion: 1, delta: 1 })),
    ).toBeInstanceOf(VersionConflictError);
  });

  it('creates a SKU only with expected version 0', async () => {
    const sku = await freshSku(1);
    expect(
      await caught(service.set({ operationId: 'recreate', sku, expectedVersion: 0, available: 5 })),
    ).toMatchObject({
      code: 'TRADECTL_STOCK_VERSION_CONFLICT',
      currentVersion: 1,
    });
  });
});

describe('restore (compensation)', () => {
  it('gives a sale back once, whatever ids later restores carry', async () => {
    const sku = await freshSku(10);
    await service.deduct({ operationId: 'sale-r', lines: [{ sku, quantity: 4 }] });
    const restored = await service.restore({ operationId: 'undo-r', restores: 'sale-r' });
    expect(restored).toMatchObject({ replayed: false, lines: [{ sku, quantity: 4, available: 10 }] });
    expect(await service.restore({ operationId: 'undo-r', restores: 'sale-r' })).toMatchObject({
      replayed: true,
    });
    expect(await caught(service.restore({ operationId: 'undo-r-2', restores: 'sale-r' }))).toMatchObject({
      code: 'TRADECTL_STOCK_ALREADY_RESTORED',
    });
    expect(await service.get({ sku })).toMatchObject({ available: 10 });
  });

  it('refuses to restore an operation that never took stock, until it does', async () => {
    const sku = await freshSku(1);
    expect(
      await caught(service.restore({ operationId: 'undo-x', restores: 'never-applied' })),
    ).toBeInstanceOf(RestoreError);
    await caught(service.deduct({ operationId: 'refused-sale', lines: [{ sku, quantity: 2 }] }));
    expect(await caught(service.restore({ operationId: 'undo-y', restores: 'refused-sale' }))).toMatchObject({
      code: 'TRADECTL_STOCK_NOT_APPLIED',
    });
    await service.deduct({ operationId: 'never-applied', lines: [{ sku, quantity: 1 }] });
    expect(await service.restore({ operationId: 'undo-x', restores: 'never-applied' })).toMatchObject({
      lines: [{ sku, available: 1 }],
    });
  });

  it('leaves MySQL equal to Redis after a mix of operations is drained', async () => {
    const sku = await freshSku(20);
    await service.deduct({ operationId: 'mix-1', lines: [{ sku, quantity: 5 }] });
    await service.restore({ operationId: 'mix-2', restores: 'mix-1' });
    await service.deductOncePerUser({ operationId: 'mix-3', userId: 'mix-user', sku });
    await service.adjust({ operationId: 'mix-4', sku, expectedVersion: 4, delta: 7 });
    await fixture.drain().drainUntilIdle();
    const sides = await bothSides(fixture, sku);
    expect(sides.mysql).toEqual(sides.redis);
    expect(sides.mysql).toEqual({ onHand: 26, reserved: 0, version: 5 });
  });
});

describe('warm-up from MySQL', () => {
  it('fills SKUs Redis lost from the drained inventory, keeps the ones it has, and both sides agree', async () => {
    const lost = await freshSku(30);
    const kept = await freshSku(8);
    await service.deduct({ operationId: 'before-loss', lines: [{ sku: lost, quantity: 5 }] });
    await service.reserve({
      reservationId: 'lost-hold',
      lines: [{ sku: lost, quantity: 3 }],
      ttlMs: 600_000,
    });
    await fixture.drain().drainUntilIdle();
    expect(await fixture.inventory(lost)).toEqual({ onHand: 25, reserved: 3, version: 3 });
    // Redis loses one SKU (and with it the hold on it).
    await fixture.redis.del(tenantKeys(fixture.keyPrefix, 'default').stock(lost));
    await service.deduct({ operationId: 'after-loss', lines: [{ sku: kept, quantity: 1 }] });

    const pool = fixture.pools.meta();
    const first = await warmUpStock({
      service,
      pool,
      router: fixture.router,
      tenant: 'default',
      operationId: 'warm-1',
      skus: [lost, kept],
    });
    expect(first).toEqual({ loaded: 1, kept: 1 });
    expect(await service.get({ sku: lost })).toMatchObject({ available: 25, reserved: 0, version: 4 });
    expect(await service.get({ sku: kept })).toMatchObject({ available: 7, version: 2 });
    const again = await warmUpStock({
      service,
      pool,
      router: fixture.router,
      tenant: 'default',
      operationId: 'warm-2',
      skus: [lost, kept],
    });
    expect(again).toEqual({ loaded: 0, kept: 2 });

    await fixture.drain().drainUntilIdle();
    for (const sku of [lost, kept]) {
      const sides = await bothSides(fixture, sku);
      expect(sides.mysql).toEqual(sides.redis);
    }
    expect(await fixture.inventory(lost)).toEqual({ onHand: 25, reserved: 0, version: 4 });
  });
});

describe('stock tables', () => {
  it('are created once; running the init again only finds them', async () => {
    expect(await initStockTables({ pool: fixture.pools.meta(), router: fixture.router })).toEqual({
      tablesCreated: 0,
      tablesExisting: 3,
    });
  });
});
