import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMysqlDeadLetterQueue,
  type DeadLetterInput,
  type DeadLetterQueue,
  dlqTablesDdl,
} from '../../src/core/bus/dlq.js';
import type { Config } from '../../src/core/config.js';
import { ValidationError } from '../../src/core/errors.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { routerForConfig } from '../../src/core/shard-admin.js';
import { addMs } from '../../src/core/time.js';
import { dropDatabases, testConfig } from '../helpers/services.js';

let config: Config;
let pools: MysqlPools;
let dlq: DeadLetterQueue;
let now = '2026-03-01T10:00:00.000Z';

beforeAll(async () => {
  config = testConfig({ shards: { databases: 1, tablesPerDatabase: 1 } });
  const router = routerForConfig(config);
  pools = new MysqlPools(config, router, { connectionLimit: 2 });
  await pools.meta().query(`CREATE DATABASE IF NOT EXISTS \`${router.metaDatabaseName}\``);
  // Twice: the DDL is idempotent, as `tradectl shards init` re-runs it.
  for (const ddl of [...dlqTablesDdl(router), ...dlqTablesDdl(router)]) await pools.meta().query(ddl);
  dlq = createMysqlDeadLetterQueue({ pools, router, clock: () => now });
});

afterAll(async () => {
  await pools?.close();
  if (config) await dropDatabases(config);
});

let sequence = 0;
function entry(overrides: Partial<DeadLetterInput> = {}): DeadLetterInput {
  sequence++;
  return {
    key: `shopify:us-store:PO-${sequence}`,
    reason: 'order.currency: expected an ISO-4217 currency code',
    original: Buffer.from(`{"v":1,"n":${sequence}}`),
    source: { topic: 'tradectl.orders.v1', partition: 3, offset: String(1000 + sequence) },
    ...overrides,
  };
}

describe('MySQL dead letter queue', () => {
  it('keeps the reason, the original bytes, the source and the identity taken from the key', async () => {
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x7d]);
    const input = entry({
      original: bytes,
      source: { topic: 't', partition: 2, offset: '9007199254740993' },
    });
    await dlq.put([input]);
    const listed = (await dlq.list({ limit: 1000 })).find((candidate) => candidate.key === input.key)!;
    expect(listed).toMatchObject({
      reason: input.reason,
      platform: 'shopify',
      account: 'us-store',
      size: bytes.length,
      source: { topic: 't', partition: 2, offset: '9007199254740993' },
      createdAt: now,
      seenCount: 1,
      replayedAt: null,
    });
    const stored = await dlq.get(listed.id);
    expect(stored?.original.equals(bytes)).toBe(true);
  });

  it('stores a redelivered message once, counting the sightings', async () => {
    const input = entry();
    await dlq.put([input]);
    now = addMs(now, 1000);
    await dlq.put([{ ...input, reason: 'a newer reason' }]);
    const matches = (await dlq.list({ limit: 1000 })).filter((candidate) => candidate.key === input.key);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ seenCount: 2, reason: 'a newer reason', lastSeenAt: now });
    expect(matches[0]!.createdAt < matches[0]!.lastSeenAt).toBe(true);
  });

  it('deduplicates messages without a source by key and bytes', async () => {
    const input = entry({ source: null, platform: 'ebay', account: 'de-shop' });
    await dlq.put([input, input]);
    await dlq.put([{ ...input, original: Buffer.from('other bytes') }]);
    const matches = (await dlq.list({ limit: 1000 })).filter((candidate) => candidate.key === input.key);
    expect(matches.map((match) => match.seenCount)).toEqual([2, 1]);
    expect(matches[0]).toMatchObject({ source: null, platform: 'ebay', account: 'de-shop' });
  });

  it('marks an entry replayed, and re-opens it when the replay fails again', async () => {
    const input = entry();
    await dlq.put([input]);
    const { id } = (await dlq.list({ limit: 1000 })).find((candidate) => candidate.key === input.key)!;
    expect(await dlq.markReplayed(id)).toBe(true);
    expect((await dlq.get(id))?.replayedAt).toBe(now);
    expect((await dlq.list({ limit: 1000, state: 'open' })).some((candidate) => candidate.id === id)).toBe(
      false,
    );
    expect(
      (await dlq.list({ limit: 1000, state: 'replayed' })).some((candidate) => candidate.id === id),
    ).toBe(true);
    await dlq.put([input]);
    expect((await dlq.get(id))?.replayedAt).toBeNull();
    expect(await dlq.markReplayed('999999999')).toBe(false);
  });

  it('pages by id', async () => {
    await dlq.put(Array.from({ length: 7 }, () => entry()));
    const all = await dlq.list({ limit: 1000 });
    const pages: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await dlq.list({ limit: 3, after });
      if (page.length === 0) break;
      pages.push(page.map((candidate) => candidate.id));
      after = page.at(-1)!.id;
    }
    expect(pages.flat()).toEqual(all.map((candidate) => candidate.id));
    expect(pages.every((page) => page.length <= 3)).toBe(true);
  });

  it('stores a batch larger than one statement', async () => {
    const big = Array.from({ length: 15 }, () => entry({ original: Buffer.alloc(600 * 1024, 0x61) }));
    await dlq.put(big);
    const keys = new Set(big.map((input) => input.key));
    const stored = (await dlq.list({ limit: 1000 })).filter((candidate) => keys.has(candidate.key ?? ''));
    expect(stored).toHaveLength(15);
    expect(stored.every((candidate) => candidate.size === 600 * 1024)).toBe(true);
  });

  it('rejects an id that is not a number, and finds nothing for an unknown one', async () => {
    await expect(dlq.get('1 OR 1=1')).rejects.toBeInstanceOf(ValidationError);
    expect(await dlq.get('123456789')).toBeNull();
  });
});
