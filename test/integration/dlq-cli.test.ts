import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { createMysqlDeadLetterQueue, type DeadLetterStore, dlqTablesDdl } from '../../src/core/bus/dlq.js';
import { createEnvelope, encodeEnvelope, envelopeKey } from '../../src/core/bus/envelope.js';
import { type Config, parseConfig } from '../../src/core/config.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { createOrderStore, type OrderStore } from '../../src/core/order-store.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import { Collector } from '../helpers/collector.js';
import { dropDatabases, MYSQL_URL, REDIS_URL, uniqueName } from '../helpers/services.js';
import { accountOrders } from '../helpers/sync-fakes.js';

// `tradectl dlq` as a user runs it, without Kafka: a replay goes through the inline bus into
// the real sink in the command's process, against real MariaDB and Redis (2 x 4 layout).
const PREFIX = uniqueName('dq');
const ENV = { TRADECTL_MYSQL_URL: MYSQL_URL, TRADECTL_REDIS_URL: REDIS_URL, TRADECTL_KAFKA_BROKERS: '' };
const RAW = {
  mysql: { databasePrefix: PREFIX },
  redis: { keyPrefix: `${PREFIX}:` },
  shards: { databases: 2, tablesPerDatabase: 4 },
};

let dir: string;
let file: string;
let config: Config;
let pools: MysqlPools;
let dlq: DeadLetterStore;
let store: OrderStore;
const [fixed, broken, other] = accountOrders('DLQ', 3, 'shopify');
const ids = {} as Record<'fixed' | 'broken' | 'binary' | 'record' | 'other', string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tradectl-dlq-'));
  file = join(dir, 'dlq.json');
  await writeFile(file, JSON.stringify(RAW));
  config = parseConfig(RAW, ENV);
  const router = routerForConfig(config);
  pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  for (const ddl of dlqTablesDdl(router)) await pools.meta().query(ddl);
  dlq = createMysqlDeadLetterQueue({ pools, router });
  store = createOrderStore({ pools, router, nextId: () => '1' });
  const envelope = (order: typeof fixed) => createEnvelope(order!, '2026-03-01T00:00:00.000Z');
  // Entries as the bus and the sink leave them. `fixed` stands for an order a since-fixed bug
  // refused (it validates now); `broken` is still invalid (a currency nobody knows).
  const brokenEnvelope = envelope({ ...broken!, currency: 'ZZZ' });
  await dlq.put([
    {
      key: envelopeKey(envelope(fixed)),
      reason: 'store refused the order: (a bug fixed in the next release)',
      original: encodeEnvelope(envelope(fixed)),
      source: { topic: 'tradectl.orders.v1', partition: 2, offset: '41' },
    },
    {
      key: envelopeKey(brokenEnvelope),
      reason: 'order.currency: expected an ISO-4217 currency code',
      original: encodeEnvelope(brokenEnvelope),
      source: null,
    },
    {
      key: 'shopify:us-store:BIN',
      reason: 'not UTF-8 text',
      original: Buffer.from([0x7b, 0xff, 0x00]),
      source: null,
    },
    {
      key: null,
      reason: 'adapter rejected the record: financial_status: unknown',
      original: Buffer.from('{"id":4711,"financial_status":"weird"}'),
      source: null,
      platform: 'shopify',
      account: 'DLQ',
    },
    {
      key: envelopeKey(envelope(other)),
      reason: 'store refused the order: (the same bug)',
      original: encodeEnvelope(envelope(other)),
      source: null,
    },
  ]);
  const listed = await dlq.list({ limit: 10 });
  [ids.fixed, ids.broken, ids.binary, ids.record, ids.other] = listed.map((entry) => entry.id) as [
    string,
    string,
    string,
    string,
    string,
  ];
});

afterAll(async () => {
  await pools?.close();
  if (config) await dropDatabases(config);
  await rm(dir, { recursive: true, force: true });
});

async function dlqCli(args: string[], tty = false) {
  const io = { stdout: new Collector(tty), stderr: new Collector(tty), env: ENV } satisfies CliIo;
  const code = await runCli(['dlq', ...args, '--config', file], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('tradectl dlq', () => {
  it('lists open entries by id, filtered, a page at a time', async () => {
    const all = await dlqCli(['list', '--json']);
    expect(all.code).toBe(EXIT.ok);
    const { entries, next } = JSON.parse(all.stdout);
    expect(entries.map((entry: { id: string }) => entry.id)).toEqual(Object.values(ids));
    expect(next).toBeNull();
    expect(entries[0]).toMatchObject({
      platform: 'shopify',
      account: 'DLQ',
      seenCount: 1,
      replayedAt: null,
      source: { topic: 'tradectl.orders.v1', partition: 2, offset: '41' },
    });
    expect(entries[0]).not.toHaveProperty('original');

    const page = await dlqCli(['list', '--limit', '2', '--after', ids.fixed, '--json']);
    expect(JSON.parse(page.stdout)).toMatchObject({
      entries: [{ id: ids.broken }, { id: ids.binary }],
      next: ids.binary,
    });
    const table = await dlqCli(['list', '--account', 'DLQ', '--limit', '2']);
    expect(table.stdout.split('\n')[0]).toBe(
      'id\tplatform\taccount\tseen\tlast seen\tstate\tbytes\tkey\treason',
    );
    expect(table.stdout.trim().split('\n')).toHaveLength(3);
    expect(table.stderr).toContain(`more: tradectl dlq list --after ${ids.broken}`);
  });

  it('shows one entry: JSON pretty-printed, other bytes as base64 and hex', async () => {
    const json = await dlqCli(['show', ids.fixed], true);
    expect(json.code).toBe(EXIT.ok);
    expect(json.stdout).toContain('reason:      store refused the order');
    expect(json.stdout).toContain('source:      tradectl.orders.v1 partition 2 offset 41');
    expect(json.stdout).toMatch(/original \(\d+ bytes, JSON\):\n\{\n {2}"v": 1,\n {2}"platform": "shopify"/);

    const binary = await dlqCli(['show', ids.binary]);
    expect(binary.stdout).toContain('original (3 bytes, not JSON), base64:\ne/8A\n');
    expect(binary.stdout).toContain('00000000  7b ff 00');
    const machine = JSON.parse((await dlqCli(['show', ids.binary, '--json'])).stdout);
    expect(machine).toMatchObject({
      id: ids.binary,
      originalBase64: 'e/8A',
      originalJson: null,
      seenCount: 1,
    });

    const missing = await dlqCli(['show', '99999999']);
    expect(missing.code).toBe(EXIT.failed);
    expect(missing.stderr).toContain('no dead letter entry 99999999');
  });

  it('replays an entry that validates now: the order is stored and the entry marked; again is a no-op', async () => {
    expect(await store.getByPlatformKey(fixed!)).toBeNull();
    const first = await dlqCli(['replay', ids.fixed, '--json']);
    expect(first.code).toBe(EXIT.ok);
    expect(JSON.parse(first.stdout)).toMatchObject({
      via: 'inline',
      items: [{ id: ids.fixed, outcome: 'replayed' }],
    });
    const stored = await store.getByPlatformKey(fixed!);
    expect(stored).toMatchObject({ platformOrderId: fixed!.platformOrderId, updatedAt: fixed!.updatedAt });
    const entry = await dlq.get(ids.fixed);
    expect(entry?.replayedAt).not.toBeNull();

    const again = await dlqCli(['replay', ids.fixed, '--json']);
    expect(again.code).toBe(EXIT.ok);
    expect(JSON.parse(again.stdout).items[0].outcome).toBe('already-replayed');
    expect((await dlq.get(ids.fixed))?.replayedAt).toBe(entry?.replayedAt);
    expect((await store.getByPlatformKey(fixed!))?.storedAt).toBe(stored?.storedAt);
  });

  it('puts a replay that is still invalid back into its own entry: seen count up, still open, not lost', async () => {
    const before = (await dlq.list({ limit: 100 })).length;
    const result = await dlqCli(['replay', ids.broken]);
    expect(result.code).toBe(EXIT.failed);
    expect(result.stdout).toMatch(
      new RegExp(`^${ids.broken}\\tfailed-again\\tshopify\\tDLQ\\t2\\torder\\.currency`, 'm'),
    );
    expect(result.stderr).toContain('0 replayed, 1 failed again (still open)');
    expect(await dlq.get(ids.broken)).toMatchObject({ seenCount: 2, replayedAt: null });
    expect((await dlq.list({ limit: 100 })).length).toBe(before);
    expect(await store.getByPlatformKey(broken!)).toBeNull();
  });

  it('leaves what is not an order envelope open and says why', async () => {
    const result = await dlqCli(['replay', ids.record, ids.binary, '--json']);
    expect(result.code).toBe(EXIT.failed);
    const items = JSON.parse(result.stdout).items;
    expect(items.map((item: { outcome: string }) => item.outcome)).toEqual([
      'not-replayable',
      'not-replayable',
    ]);
    expect(items.find((item: { id: string }) => item.id === ids.record).reason).toMatch(
      /re-sync the account window/,
    );
    expect(await dlq.get(ids.record)).toMatchObject({ seenCount: 1, replayedAt: null });
  });

  it('--all needs --yes; its dry run changes nothing; with --yes it replays every open entry (exit 3: some failed)', async () => {
    expect((await dlqCli(['replay', '--all'])).code).toBe(EXIT.usage);
    const dry = await dlqCli(['replay', '--all', '--dry-run', '--json']);
    // Two would be replayed, two never can: partial, as the real run below.
    expect(dry.code).toBe(EXIT.partial);
    expect(
      JSON.parse(dry.stdout).items.map((item: { id: string; outcome: string }) => [item.id, item.outcome]),
    ).toEqual([
      [ids.broken, 'would-replay'],
      [ids.binary, 'not-replayable'],
      [ids.record, 'not-replayable'],
      [ids.other, 'would-replay'],
    ]);
    expect(await store.getByPlatformKey(other!)).toBeNull();

    const real = await dlqCli(['replay', '--all', '--yes', '--json']);
    expect(real.code).toBe(EXIT.partial);
    const outcomes = Object.fromEntries(
      JSON.parse(real.stdout).items.map((item: { id: string; outcome: string }) => [item.id, item.outcome]),
    );
    expect(outcomes).toEqual({
      [ids.broken]: 'failed-again',
      [ids.binary]: 'not-replayable',
      [ids.record]: 'not-replayable',
      [ids.other]: 'replayed',
    });
    expect(await store.getByPlatformKey(other!)).not.toBeNull();
    expect((await dlq.get(ids.broken))?.seenCount).toBe(3);
    const open = JSON.parse((await dlqCli(['list', '--json'])).stdout).entries.map(
      (entry: { id: string }) => entry.id,
    );
    expect(open).toEqual([ids.broken, ids.binary, ids.record]);
  });
});
