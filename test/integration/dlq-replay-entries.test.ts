import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlDeadLetterQueue, type DeadLetterStore, dlqTablesDdl } from '../../src/core/bus/dlq.js';
import type { Config } from '../../src/core/config.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { routerForConfig } from '../../src/core/shard-admin.js';
import { dropDatabases, testConfig } from '../helpers/services.js';

// What the MySQL DLQ adds for `tradectl dlq replay` and `tradectl status`: a replay that fails
// again lands in its own entry, a conditional mark, filters and open counts.
let config: Config;
let pools: MysqlPools;
let dlq: DeadLetterStore;

beforeAll(async () => {
  config = testConfig({ shards: { databases: 1, tablesPerDatabase: 1 } });
  const router = routerForConfig(config);
  pools = new MysqlPools(config, router, { connectionLimit: 2 });
  await pools.meta().query(`CREATE DATABASE IF NOT EXISTS \`${router.metaDatabaseName}\``);
  for (const ddl of dlqTablesDdl(router)) await pools.meta().query(ddl);
  dlq = createMysqlDeadLetterQueue({ pools, router });
});

afterAll(async () => {
  await pools?.close();
  if (config) await dropDatabases(config);
});

const entry = (key: string, offset: string) => ({
  key,
  reason: 'order.total: expected an integer',
  original: Buffer.from(`{"v":1,"k":"${key}"}`),
  source: { topic: 'orders', partition: 0, offset },
});

describe('dead letter entries and replays', () => {
  it('counts a failed replay (new offset) on its own entry and re-opens it', async () => {
    await dlq.put([entry('shopify:a:1', '10')]);
    const [first] = await dlq.list({ platform: 'shopify', account: 'a' });
    expect(await dlq.markReplayed(first!.id, { ifSeenCount: 1 })).toBe(true);
    await dlq.put([
      { ...entry('shopify:a:1', '99'), reason: 'order.total: still not an integer', replayOf: first!.id },
    ]);
    expect(await dlq.list({ platform: 'shopify', account: 'a', state: 'all' })).toEqual([
      expect.objectContaining({
        id: first!.id,
        seenCount: 2,
        replayedAt: null,
        reason: 'order.total: still not an integer',
        source: { topic: 'orders', partition: 0, offset: '10' },
      }),
    ]);
  });

  it('does not mark an entry replayed when it was quarantined again since it was read', async () => {
    await dlq.put([entry('shopify:b:1', '11')]);
    const [read] = await dlq.list({ account: 'b' });
    await dlq.put([{ ...entry('shopify:b:1', '12'), replayOf: read!.id }]);
    expect(await dlq.markReplayed(read!.id, { ifSeenCount: read!.seenCount })).toBe(false);
    expect(await dlq.get(read!.id)).toMatchObject({ replayedAt: null, seenCount: 2 });
    expect(await dlq.markReplayed(read!.id, { ifSeenCount: 2 })).toBe(true);
  });

  it('keeps a replay whose entry was deleted meanwhile as a new entry', async () => {
    await dlq.put([{ ...entry('ebay:c:1', '13'), replayOf: '987654321' }]);
    expect(await dlq.list({ platform: 'ebay', account: 'c' })).toEqual([
      expect.objectContaining({
        key: 'ebay:c:1',
        seenCount: 1,
        source: { topic: 'orders', partition: 0, offset: '13' },
      }),
    ]);
  });

  it('counts open entries per platform and account', async () => {
    await dlq.put([entry('amazon:d:1', '20'), entry('amazon:d:2', '21'), entry('amazon:e:1', '22')]);
    const [replayed] = await dlq.list({ account: 'e' });
    await dlq.markReplayed(replayed!.id);
    await dlq.put([{ key: null, reason: 'not JSON', original: Buffer.from('x'), source: null }]);
    const counts = await dlq.openCounts();
    expect(counts).toEqual(
      expect.arrayContaining([
        { platform: 'amazon', account: 'd', open: 2 },
        { platform: 'shopify', account: 'a', open: 1 },
        { platform: null, account: null, open: 1 },
      ]),
    );
    expect(counts.find((row) => row.account === 'e')).toBeUndefined();
  });
});
