import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckpointStore, createCheckpointStore } from '../../src/core/checkpoint-store.js';
import { TradectlError, ValidationError } from '../../src/core/errors.js';
import { createStoreFixture, type StoreFixture } from '../helpers/store-fixture.js';

let fixture: StoreFixture;
let checkpoints: CheckpointStore;
let now = '2026-03-01T00:00:00.000Z';

beforeAll(async () => {
  fixture = await createStoreFixture({ databases: 1, tablesPerDatabase: 1 });
  checkpoints = createCheckpointStore({ pools: fixture.pools, router: fixture.router, clock: () => now });
});

afterAll(async () => {
  await fixture?.close();
});

describe('sync checkpoints', () => {
  it('has no checkpoint for an account that never synced', async () => {
    expect(await checkpoints.get('amazon', 'never')).toBeNull();
  });

  it('advances with the same or a newer fencing token', async () => {
    const key = { platform: 'ebay', account: 'main' };
    await checkpoints.advance({
      ...key,
      cursorTime: '2026-02-01T00:00:00.000Z',
      cursorId: 'a',
      fencingToken: 3,
    });
    expect(await checkpoints.get('ebay', 'main')).toEqual({
      cursorTime: '2026-02-01T00:00:00.000Z',
      cursorId: 'a',
      fencingToken: 3,
    });
    expect(
      await checkpoints.advance({
        ...key,
        cursorTime: '2026-02-02T00:00:00.000Z',
        cursorId: 'b',
        fencingToken: 3,
      }),
    ).toEqual({ applied: true });
    // Repeating the same write is applied too (idempotent), not mistaken for a fenced one.
    expect(
      await checkpoints.advance({
        ...key,
        cursorTime: '2026-02-02T00:00:00.000Z',
        cursorId: 'b',
        fencingToken: 3,
      }),
    ).toEqual({ applied: true });
    await checkpoints.advance({
      ...key,
      cursorTime: '2026-02-03T00:00:00.000Z',
      cursorId: '',
      fencingToken: 9,
    });
    expect(await checkpoints.get('ebay', 'main')).toEqual({
      cursorTime: '2026-02-03T00:00:00.000Z',
      cursorId: '',
      fencingToken: 9,
    });
  });

  it('refuses a stale fencing token and leaves the checkpoint as it was', async () => {
    const key = { platform: 'shopify', account: 'shop-1' };
    await checkpoints.advance({
      ...key,
      cursorTime: '2026-02-10T00:00:00.000Z',
      cursorId: 'x',
      fencingToken: 5,
    });
    const error = await checkpoints
      .advance({ ...key, cursorTime: '2026-02-20T00:00:00.000Z', cursorId: 'late', fencingToken: 4 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TradectlError);
    expect(error).toMatchObject({ code: 'TRADECTL_FENCED', retriable: false });
    expect(await checkpoints.get('shopify', 'shop-1')).toEqual({
      cursorTime: '2026-02-10T00:00:00.000Z',
      cursorId: 'x',
      fencingToken: 5,
    });
  });

  it("ends with the newest holder's cursor when holders race, fencing the older ones", async () => {
    const key = { platform: 'etsy', account: 'race' };
    const attempts = await Promise.allSettled(
      [7, 6, 8, 5].map((token) =>
        checkpoints.advance({
          ...key,
          cursorTime: '2026-02-11T00:00:00.000Z',
          cursorId: `t${token}`,
          fencingToken: token,
        }),
      ),
    );
    expect((await checkpoints.get('etsy', 'race'))?.fencingToken).toBe(8);
    expect((await checkpoints.get('etsy', 'race'))?.cursorId).toBe('t8');
    const rejected = attempts.filter((attempt) => attempt.status === 'rejected');
    for (const attempt of rejected)
      expect((attempt as PromiseRejectedResult).reason.code).toBe('TRADECTL_FENCED');
  });

  it('lists every checkpoint with the time it was written', async () => {
    now = '2026-03-02T10:00:00.000Z';
    await checkpoints.advance({
      platform: 'amazon',
      account: 'eu',
      cursorTime: '2026-02-15T00:00:00.000Z',
      cursorId: '',
      fencingToken: 1,
    });
    const list = await checkpoints.list();
    expect(list.map((entry) => `${entry.platform}:${entry.account}`)).toEqual([
      'amazon:eu',
      'ebay:main',
      'etsy:race',
      'shopify:shop-1',
    ]);
    expect(list[0]).toEqual({
      platform: 'amazon',
      account: 'eu',
      cursorTime: '2026-02-15T00:00:00.000Z',
      cursorId: '',
      fencingToken: 1,
      updatedAt: '2026-03-02T10:00:00.000Z',
    });
  });

  it('rejects a cursor time that is not a UTC instant', async () => {
    await expect(
      checkpoints.advance({
        platform: 'ebay',
        account: 'main',
        cursorTime: 'yesterday',
        cursorId: '',
        fencingToken: 10,
      }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
