import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { Config } from '../../src/core/config.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { routerForConfig } from '../../src/core/shard-admin.js';
import type { ShardRouter } from '../../src/core/shard-router.js';
import { ListingMap } from '../../src/core/stock/listing-map.js';
import { listingsTable } from '../../src/core/stock/listing-schema.js';
import { dropDatabases, testConfig } from '../helpers/services.js';

let config: Config;
let router: ShardRouter;
let pools: MysqlPools;
let dir: string;
let configFile: string;

async function cli(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk) => out.push(String(chunk)));
  stderr.on('data', (chunk) => err.push(String(chunk)));
  const code = await runCli([...argv, '--config', configFile], { stdout, stderr, env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function countListings(): Promise<number> {
  const [rows] = await pools
    .meta()
    .query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${listingsTable(router)}`);
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  config = testConfig({ shards: { databases: 1, tablesPerDatabase: 1 } });
  router = routerForConfig(config);
  pools = new MysqlPools(config, router);
  dir = await mkdtemp(join(tmpdir(), 'tradectl-listings-'));
  configFile = join(dir, 'config.json');
  const { mysql, shards } = config;
  await writeFile(configFile, JSON.stringify({ mysql, shards }));
  // The listings table is created by `tradectl shards init`, with the stock tables.
  const init = await cli('shards', 'init', '--json');
  expect(init.code).toBe(EXIT.ok);
  const meta = JSON.parse(init.stdout).schemas.find(
    (schema: { name: string }) => schema.name === router.metaDatabaseName,
  );
  expect(meta.missingTables).toEqual(
    expect.arrayContaining(['inventory', 'stock_ledger', 'stock_ledger_rejects', 'listings']),
  );
});

afterAll(async () => {
  await pools?.close();
  if (config) await dropDatabases(config);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ListingMap', () => {
  it('resolves by seller SKU before listing id, and reports unmapped lines instead of guessing', async () => {
    const map = new ListingMap({ pool: pools.meta(), router });
    await map.add({ platform: 'ebay', account: 'de', kind: 'listing', channelKey: '111', sku: 'SHIRT' });
    await map.add({
      platform: 'ebay',
      account: 'de',
      kind: 'sku',
      channelKey: 'SHIRT-RED-L',
      sku: 'SHIRT-RED-L',
      tenant: 'acme',
    });
    const resolved = await map.resolveOrderLines({
      platform: 'ebay',
      account: 'de',
      lines: [
        { lineId: 'l1', sku: 'SHIRT-RED-L', listingId: '111', quantity: 2 },
        { lineId: 'l2', sku: 'SHIRT-BLUE-M', listingId: '111', quantity: 1 },
        { lineId: 'l3', sku: 'MYSTERY', listingId: '999', quantity: 4 },
        { lineId: 'l4', sku: null, listingId: null, quantity: 1 },
        { lineId: 'l5', sku: 'SHIRT-RED-L', listingId: null, quantity: 3, cancelled: true },
      ],
    });
    expect(resolved).toEqual({
      mapped: [
        {
          lineId: 'l1',
          tenant: 'acme',
          sku: 'SHIRT-RED-L',
          quantity: 2,
          via: 'sku',
          channelSku: 'SHIRT-RED-L',
          listingId: '111',
        },
        {
          lineId: 'l2',
          tenant: 'default',
          sku: 'SHIRT',
          quantity: 1,
          via: 'listing',
          channelSku: 'SHIRT-BLUE-M',
          listingId: '111',
        },
      ],
      unmapped: [
        { lineId: 'l3', channelSku: 'MYSTERY', listingId: '999', quantity: 4, reason: 'no_mapping' },
        { lineId: 'l4', channelSku: null, listingId: null, quantity: 1, reason: 'no_channel_key' },
      ],
    });
    // Same account name on another platform: a different listing.
    expect(await map.resolve({ platform: 'amazon', account: 'de', listingId: '111' })).toBeNull();
  });

  it('caches lookups for their time-to-live; its own changes show at once', async () => {
    let now = Date.parse('2026-03-01T00:00:00.000Z');
    const reader = new ListingMap({ pool: pools.meta(), router, cacheTtlMs: 1000, clock: () => now });
    const writer = new ListingMap({ pool: pools.meta(), router });
    const key = { platform: 'amazon', account: 'us', sku: 'MUG-1' };
    expect(await reader.resolve(key)).toBeNull();
    await writer.add({ platform: 'amazon', account: 'us', kind: 'sku', channelKey: 'MUG-1', sku: 'MUG' });
    expect(await reader.resolve(key)).toBeNull(); // the cached miss, still within its ttl
    now += 1000;
    expect(await reader.resolve(key)).toEqual({ tenant: 'default', sku: 'MUG', via: 'sku' });
    await reader.add(
      { platform: 'amazon', account: 'us', kind: 'sku', channelKey: 'MUG-1', sku: 'MUG-V2' },
      { replace: true },
    );
    expect(await reader.resolve(key)).toEqual({ tenant: 'default', sku: 'MUG-V2', via: 'sku' });
    expect(await reader.remove({ platform: 'amazon', account: 'us', kind: 'sku', channelKey: 'MUG-1' })).toBe(
      true,
    );
    expect(await reader.resolve(key)).toBeNull();
  });

  it('refuses to remap a listing silently', async () => {
    const map = new ListingMap({ pool: pools.meta(), router });
    const mapping = {
      platform: 'shopify',
      account: 'store',
      kind: 'listing' as const,
      channelKey: '42',
      sku: 'CAP',
    };
    expect(await map.add(mapping)).toEqual({ outcome: 'created' });
    expect(await map.add(mapping)).toEqual({ outcome: 'unchanged' });
    await expect(map.add({ ...mapping, sku: 'HAT' })).rejects.toMatchObject({
      code: 'TRADECTL_LISTING_EXISTS',
    });
    expect(await map.add({ ...mapping, sku: 'HAT' }, { replace: true })).toEqual({
      outcome: 'updated',
      previous: { tenant: 'default', sku: 'CAP' },
    });
  });
});

describe('tradectl listings', () => {
  it('imports a CSV, counts what changed, and pages through the result', async () => {
    const csv = join(dir, 'good.csv');
    const rows = Array.from(
      { length: 25 },
      (_, i) => `walmart,wm1,W-${String(i).padStart(2, '0')},,INT-${i}`,
    );
    await writeFile(csv, ['platform,account,channel_sku,listing_id,sku', ...rows].join('\n'));
    const dry = await cli('listings', 'import', csv, '--dry-run', '--json');
    expect(JSON.parse(dry.stdout)).toEqual({ created: 25, updated: 0, unchanged: 0, dryRun: true });
    const first = await cli('listings', 'import', csv);
    expect(first).toMatchObject({ code: EXIT.ok, stdout: 'created 25, updated 0, unchanged 0\n' });
    rows[3] = 'walmart,wm1,W-03,,INT-CHANGED';
    await writeFile(csv, ['platform,account,channel_sku,listing_id,sku', ...rows].join('\n'));
    expect((await cli('listings', 'import', csv)).stdout).toBe('created 0, updated 1, unchanged 24\n');

    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await cli(
        'listings',
        'list',
        '--platform',
        'walmart',
        '--limit',
        '10',
        '--json',
        ...(after ? ['--after', after] : []),
      );
      const body = JSON.parse(result.stdout);
      seen.push(
        ...body.rows.map((row: { channelKey: string; sku: string }) => `${row.channelKey}=${row.sku}`),
      );
      if (!body.nextCursor) break;
      after = body.nextCursor;
    }
    expect(seen).toHaveLength(25);
    expect(seen[3]).toBe('W-03=INT-CHANGED');
    expect(seen).toEqual([...seen].sort());
  });

  it('imports nothing from a CSV with a bad row, naming each row and column', async () => {
    const before = await countListings();
    const csv = join(dir, 'bad.csv');
    await writeFile(
      csv,
      [
        'platform,account,channel_sku,listing_id,sku',
        'etsy,shop1,E-1,,INT-1',
        'etsy,shop1,E-2,,INT 2',
        'etsi,shop1,E-3,,INT-3',
      ].join('\n'),
    );
    const result = await cli('listings', 'import', csv);
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr.split('\n')).toEqual([
      `tradectl: ${csv}: nothing imported, 2 problem(s):`,
      expect.stringMatching(/^ {2}row 3, column sku: expected an internal SKU/),
      expect.stringMatching(/^ {2}row 4, column platform: expected one of amazon/),
      '',
    ]);
    expect(await countListings()).toBe(before);
  });

  it('adds and removes one mapping, with exit codes for conflicts and misses', async () => {
    const key = ['--platform', 'allegro', '--account', 'pl', '--listing-id', '777'];
    expect(await cli('listings', 'add', ...key, '--sku', 'KETTLE')).toMatchObject({
      code: EXIT.ok,
      stdout: 'created\n',
    });
    const clash = await cli('listings', 'add', ...key, '--sku', 'TEAPOT');
    expect(clash.code).toBe(EXIT.failed);
    expect(clash.stderr).toContain('is already mapped to default/KETTLE');
    expect(clash.stderr).toContain('hint: pass --replace');
    const bad = await cli(
      'listings',
      'add',
      '--platform',
      'allegro',
      '--account',
      'pl',
      '--channel-sku',
      ' X',
      '--sku',
      'A B',
    );
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('--channel-sku: has leading or trailing blanks');
    expect(bad.stderr).toContain('--sku: expected an internal SKU');
    expect(await cli('listings', 'remove', ...key)).toMatchObject({ code: EXIT.ok, stdout: 'removed\n' });
    expect(await cli('listings', 'remove', ...key)).toMatchObject({
      code: EXIT.failed,
      stdout: 'no such mapping\n',
    });
    expect((await cli('listings', 'remove', '--platform', 'allegro', '--account', 'pl')).code).toBe(
      EXIT.usage,
    );
  });
});
