import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { Config } from '../../src/core/config.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { queryOrders } from '../../src/core/order-query.js';
import { ShardRouter } from '../../src/core/shard-router.js';
import { createOrderTables, insertOrders, randomOrders, seededRandom } from '../helpers/order-fixtures.js';
import { dropDatabases, testConfig } from '../helpers/services.js';

async function cli(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk) => out.push(String(chunk)));
  stderr.on('data', (chunk) => err.push(String(chunk)));
  const code = await runCli(argv, { stdout, stderr, env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('tradectl orders list against the shards', () => {
  let config: Config;
  let router: ShardRouter;
  let pools: MysqlPools;
  let dir: string;
  let configFile: string;

  beforeAll(async () => {
    config = testConfig({ shards: { databases: 2, tablesPerDatabase: 4 } });
    router = new ShardRouter({
      databases: 2,
      tablesPerDatabase: 4,
      databasePrefix: config.mysql.databasePrefix,
    });
    pools = new MysqlPools(config, router);
    await createOrderTables(pools, router);
    await insertOrders(pools, router, randomOrders(seededRandom(7), { count: 120, users: 30, instants: 10 }));
    dir = await mkdtemp(join(tmpdir(), 'tradectl-orders-'));
    configFile = join(dir, 'config.json');
    const { mysql, shards } = config;
    await writeFile(configFile, JSON.stringify({ mysql, shards }));
  });

  afterAll(async () => {
    await pools?.close();
    if (config) await dropDatabases(config);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pages with --after exactly like the library query', async () => {
    const query = { statuses: ['paid', 'shipped', 'pending'] as const, limit: 7, order: 'desc' as const };
    const expected = await queryOrders({ pools, router }, { ...query, statuses: [...query.statuses] });
    const first = await cli([
      'orders',
      'list',
      '-c',
      configFile,
      '--json',
      '--status',
      'paid,shipped',
      '--status',
      'pending',
      '--limit',
      '7',
      '--desc',
    ]);
    expect(first.code).toBe(0);
    const page = JSON.parse(first.stdout);
    expect(page.rows).toEqual(expected.rows);
    expect(page.nextCursor).toBe(expected.nextCursor);

    const next = await queryOrders(
      { pools, router },
      { ...query, statuses: [...query.statuses], after: expected.nextCursor! },
    );
    const second = await cli([
      'orders',
      'list',
      '-c',
      configFile,
      '--json',
      '--status',
      'pending,paid,shipped',
      '--limit',
      '7',
      '--desc',
      '--after',
      page.nextCursor,
    ]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).rows).toEqual(next.rows);
  });

  it('exits 2 naming the flag when the cursor belongs to other filters', async () => {
    const first = await cli(['orders', 'list', '-c', configFile, '--json', '--limit', '3']);
    const cursor = JSON.parse(first.stdout).nextCursor;
    const result = await cli([
      'orders',
      'list',
      '-c',
      configFile,
      '--status',
      'paid',
      '--limit',
      '3',
      '--after',
      cursor,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--after: the cursor belongs to a query with other filters');
  });
});
