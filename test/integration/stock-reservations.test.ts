import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { ReservationSweeper } from '../../src/core/stock/reservation-sweeper.js';
import { InsufficientStockError, ReservationError } from '../../src/core/stock/stock-errors.js';
import type { StockService } from '../../src/core/stock/stock-service.js';
import { bothSides, createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

// The scripts run on the caller's clock: this one is moved by hand, so expiry needs no sleeping.
let now = Date.UTC(2030, 0, 1);
let fixture: StockFixture;
let service: StockService;
let counter = 0;

async function freshSku(available: number): Promise<string> {
  const sku = `RES-${++counter}`;
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
  service = fixture.service({ clock: () => now });
});

afterAll(async () => {
  await fixture.close();
});

describe('reservations', () => {
  it('holds stock, and confirm turns the hold into a sale once', async () => {
    const sku = await freshSku(10);
    const held = await service.reserve({
      reservationId: 'cart-1',
      lines: [{ sku, quantity: 3 }],
      ttlMs: 60_000,
    });
    expect(held).toMatchObject({
      expiresAt: new Date(now + 60_000).toISOString(),
      lines: [{ available: 7 }],
    });
    expect(await service.get({ sku })).toMatchObject({ available: 7, reserved: 3 });
    const confirmed = await service.confirm({ reservationId: 'cart-1' });
    expect(confirmed).toMatchObject({
      state: 'confirmed',
      replayed: false,
      lines: [{ sku, quantity: 3, available: 7 }],
    });
    expect(await service.confirm({ reservationId: 'cart-1' })).toMatchObject({
      state: 'confirmed',
      replayed: true,
    });
    expect(await service.get({ sku })).toMatchObject({ available: 7, reserved: 0 });
    expect(await caught(service.release({ reservationId: 'cart-1' }))).toMatchObject({
      code: 'TRADECTL_STOCK_RESERVATION_SETTLED',
    });
  });

  it('returns released stock once, and a released reservation cannot be confirmed', async () => {
    const sku = await freshSku(10);
    await service.reserve({ reservationId: 'cart-2', lines: [{ sku, quantity: 4 }], ttlMs: 60_000 });
    const releases = await Promise.all(
      Array.from({ length: 10 }, () => service.release({ reservationId: 'cart-2' })),
    );
    expect(releases.filter((release) => !release.replayed)).toHaveLength(1);
    expect(await service.get({ sku })).toMatchObject({ available: 10, reserved: 0 });
    const error = await caught(service.confirm({ reservationId: 'cart-2' }));
    expect(error).toBeInstanceOf(ReservationError);
    expect(error).toMatchObject({ problem: 'settled' });
  });

  it('gives expired stock back exactly once, however many sweeps and late calls race', async () => {
    const sku = await freshSku(10);
    await service.reserve({ reservationId: 'cart-3', lines: [{ sku, quantity: 6 }], ttlMs: 5 });
    expect((await service.expireReservations()).expired).toBe(0);
    now += 10;
    const raced = await Promise.allSettled([
      ...Array.from({ length: 5 }, () => service.expireReservations({ tenant: 'default' })),
      service.release({ reservationId: 'cart-3' }),
      service.confirm({ reservationId: 'cart-3' }),
    ]);
    expect(raced.slice(0, 6).every((result) => result.status === 'fulfilled')).toBe(true);
    // Exactly one change gave the units back: a sweep, the release, or the late confirm.
    const entries = await fixture.redis.xrange(`${fixture.keyPrefix}stock:{t:default}:stream`, '-', '+');
    const returns = entries.filter(([, fields]) => fields[1] === 'cart-3' && fields[3] !== 'reserve');
    expect(returns.map(([, fields]) => fields[3])).toHaveLength(1);
    expect(['expire', 'release']).toContain(returns[0]![1][3]);
    // A confirm after the expiry fails, whoever returned the stock.
    expect(raced[6]!.status).toBe('rejected');
    expect((raced[6] as PromiseRejectedResult).reason).toMatchObject({
      code: 'TRADECTL_STOCK_RESERVATION_EXPIRED',
    });
    expect(await service.get({ sku })).toMatchObject({ available: 10, reserved: 0 });
    expect(await fixture.redis.zcard(`${fixture.keyPrefix}stock:{t:default}:reservations`)).toBe(0);
  });

  it('fails a confirm that comes after the expiry, returning the stock on the spot', async () => {
    const sku = await freshSku(2);
    await service.reserve({ reservationId: 'cart-4', lines: [{ sku, quantity: 2 }], ttlMs: 1000 });
    now += 1000;
    const error = await caught(service.confirm({ reservationId: 'cart-4' }));
    expect(error).toMatchObject({ code: 'TRADECTL_STOCK_RESERVATION_EXPIRED' });
    expect(await service.get({ sku })).toMatchObject({ available: 2, reserved: 0 });
    expect((await service.expireReservations()).expired).toBe(0);
  });

  it('sweeps expired holds before answering a shortage, so it is not a false sold-out', async () => {
    const sku = await freshSku(5);
    await service.reserve({ reservationId: 'cart-5', lines: [{ sku, quantity: 5 }], ttlMs: 100 });
    expect(
      await caught(service.deduct({ operationId: 'too-early', lines: [{ sku, quantity: 1 }] })),
    ).toBeInstanceOf(InsufficientStockError);
    now += 100;
    const sale = await service.deduct({ operationId: 'after-expiry', lines: [{ sku, quantity: 5 }] });
    expect(sale.lines[0]).toMatchObject({ available: 0 });
    expect(await service.get({ sku })).toMatchObject({ available: 0, reserved: 0 });
  });

  it('holds several lines or none', async () => {
    const a = await freshSku(3);
    const b = await freshSku(1);
    const error = await caught(
      service.reserve({
        reservationId: 'cart-6',
        lines: [
          { sku: a, quantity: 2 },
          { sku: b, quantity: 2 },
        ],
        ttlMs: 1000,
      }),
    );
    expect(error).toMatchObject({ code: 'TRADECTL_STOCK_INSUFFICIENT', sku: b });
    expect(await service.getMany({ skus: [a, b] })).toMatchObject([
      { available: 3, reserved: 0 },
      { available: 1, reserved: 0 },
    ]);
    expect(await caught(service.confirm({ reservationId: 'cart-6' }))).toMatchObject({
      code: 'TRADECTL_STOCK_RESERVATION_NOT_FOUND',
    });
    expect(await caught(service.confirm({ reservationId: 'no-such-cart' }))).toMatchObject({
      code: 'TRADECTL_STOCK_RESERVATION_NOT_FOUND',
    });
  });

  it('restores a confirmed sale, and the drained ledger matches Redis', async () => {
    const sku = await freshSku(8);
    await service.reserve({ reservationId: 'cart-7', lines: [{ sku, quantity: 3 }], ttlMs: 1000 });
    expect(await caught(service.restore({ operationId: 'undo-held', restores: 'cart-7' }))).toMatchObject({
      code: 'TRADECTL_STOCK_NOT_RESTORABLE',
    });
    await service.confirm({ reservationId: 'cart-7' });
    await service.reserve({ reservationId: 'cart-8', lines: [{ sku, quantity: 2 }], ttlMs: 1000 });
    await service.restore({ operationId: 'undo-7', restores: 'cart-7' });
    expect(await service.get({ sku })).toMatchObject({ available: 6, reserved: 2 });
    await fixture.drain().drainUntilIdle();
    const sides = await bothSides(fixture, sku);
    expect(sides.mysql).toEqual(sides.redis);
    expect(sides.mysql).toEqual({ onHand: 8, reserved: 2, version: 5 });
    expect(await fixture.ledgerCounts(sku)).toEqual({ set: 1, reserve: 2, confirm: 1, restore: 1 });
  });
});

describe('reservation sweeper', () => {
  it('returns expired holds in the background until stopped', async () => {
    const sku = await freshSku(4);
    await service.reserve({ reservationId: 'cart-bg', lines: [{ sku, quantity: 4 }], ttlMs: 50 });
    const sweeper = new ReservationSweeper({ service, logger: silentLogger(), intervalMs: 5 });
    sweeper.start();
    try {
      expect(await service.get({ sku })).toMatchObject({ available: 0, reserved: 4 });
      now += 50;
      await expect.poll(async () => (await service.get({ sku }))?.available, { timeout: 5_000 }).toBe(4);
    } finally {
      await sweeper.stop();
    }
    expect(await service.get({ sku })).toMatchObject({ available: 4, reserved: 0 });
  });

  it('forgets an index entry whose reservation record is gone', async () => {
    const reservations = `${fixture.keyPrefix}stock:{t:default}:reservations`;
    await fixture.redis.zadd(reservations, now - 1, 'orphan');
    expect(await service.expireReservations()).toEqual({ expired: 0, skipped: 1 });
    expect(await fixture.redis.zscore(reservations, 'orphan')).toBeNull();
  });
});
