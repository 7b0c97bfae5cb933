import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import { tenantKeys } from '../../src/core/stock/keys.js';
import { createStockFixture, type StockFixture } from '../helpers/stock-fixture.js';

let fixture: StockFixture;
let dir: string;
let configFile: string;

beforeAll(async () => {
  fixture = await createStockFixture();
  dir = await mkdtemp(join(tmpdir(), 'tradectl-stock-cli-'));
  configFile = join(dir, 'config.json');
  const { mysql, shards, redis } = fixture.config;
  await writeFile(configFile, JSON.stringify({ mysql, shards, redis }));
});

afterAll(async () => {
  await fixture?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

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

describe('tradectl stock', () => {
  it('set without --expected-version reads the version first and says it writes with compare-and-set', async () => {
    const created = await cli('stock', 'set', 'MUG', '10', '--json');
    expect(created.code).toBe(EXIT.ok);
    expect(created.stderr).toContain('read MUG at version 0 (new SKU); writing with compare-and-set');
    expect(JSON.parse(created.stdout)).toMatchObject({
      sku: 'MUG',
      available: 10,
      version: 1,
      replayed: false,
    });
    const again = await cli('stock', 'set', 'MUG', '12', '--expected-version', '1', '--op', 'recount-1');
    expect(again.code).toBe(EXIT.ok);
    expect(again.stderr).toBe('');
    expect(again.stdout).toBe('sku\ttenant\tavailable\tversion\toperation\nMUG\tdefault\t12\t2\trecount-1\n');
  });

  it('refuses a stale --expected-version with exit 1 and changes nothing', async () => {
    const stale = await cli('stock', 'adjust', 'MUG', '--delta', '-5', '--expected-version', '1');
    expect(stale.code).toBe(EXIT.failed);
    expect(stale.stderr).toContain('MUG is at version 2, not 1: it changed since it was read');
    expect(await fixture.redisStock('MUG')).toMatchObject({ available: 12, version: 2 });
    const adjusted = await cli('stock', 'adjust', 'MUG', '--delta', '-2');
    expect(adjusted.code).toBe(EXIT.ok);
    expect(adjusted.stderr).toContain('read MUG at version 2 (available 12)');
    expect(await fixture.redisStock('MUG')).toMatchObject({ available: 10, version: 3 });
  });

  it('gets levels as a table or JSON, and exits 1 naming unknown SKUs', async () => {
    const table = await cli('stock', 'get', 'MUG');
    expect(table).toMatchObject({
      code: EXIT.ok,
      stdout: 'sku\ttenant\tavailable\treserved\tversion\nMUG\tdefault\t10\t0\t3\n',
    });
    const mixed = await cli('stock', 'get', 'MUG', 'GHOST', '--json');
    expect(mixed.code).toBe(EXIT.failed);
    expect(JSON.parse(mixed.stdout)).toEqual({
      levels: [{ tenant: 'default', sku: 'MUG', available: 10, reserved: 0, version: 3 }],
      unknown: ['GHOST'],
    });
  });

  it('deducts once per --op, and exits 1 with a clear message on insufficient stock', async () => {
    const sold = await cli('stock', 'deduct', 'MUG=4', '--op', 'order-1');
    expect(sold.code).toBe(EXIT.ok);
    expect(sold.stdout).toBe('sku\tquantity\tavailable\tversion\nMUG\t4\t6\t4\n');
    expect(sold.stderr).toBe('deducted (operation order-1)\n');
    const retried = await cli('stock', 'deduct', 'MUG=4', '--op', 'order-1');
    expect(retried.code).toBe(EXIT.ok);
    expect(retried.stderr).toContain('was applied before');
    const short = await cli('stock', 'deduct', 'MUG=7', '--op', 'order-2');
    expect(short.code).toBe(EXIT.failed);
    expect(short.stderr).toBe('tradectl: insufficient stock for MUG: 7 requested, 6 available\n');
    expect(await fixture.redisStock('MUG')).toMatchObject({ available: 6, version: 4 });
  });

  it.each([
    [['stock', 'deduct', 'MUG=1.5', '--op', 'x'], /quantity of MUG must be an integer/],
    [['stock', 'deduct', 'MUG=-1', '--op', 'x'], /quantity of MUG must be an integer from 1/],
    [['stock', 'deduct', 'MUG'], /required option '--op <id>'/],
    [['stock', 'deduct', 'MUG', '--op', 'bad id'], /--op must be 1-128/],
    [['stock', 'adjust', 'MUG', '--delta', '0'], /--delta must not be zero/],
    [['stock', 'set', 'MUG', 'ten'], /<available> must be an integer/],
  ])('exits 2 naming the argument for %j', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(message);
    expect(await fixture.redisStock('MUG')).toMatchObject({ available: 6, version: 4 });
  });

  it('releases a reservation and restores a sale', async () => {
    await fixture
      .service()
      .reserve({ reservationId: 'cart-9', lines: [{ sku: 'MUG', quantity: 2 }], ttlMs: 60_000 });
    const released = await cli('stock', 'release', '--op', 'cart-9', '--json');
    expect(released.code).toBe(EXIT.ok);
    expect(JSON.parse(released.stdout)).toMatchObject({
      state: 'released',
      lines: [{ sku: 'MUG', available: 6 }],
    });
    const restored = await cli('stock', 'restore', '--op', 'undo-order-1', '--sale', 'order-1');
    expect(restored.code).toBe(EXIT.ok);
    expect(await fixture.redisStock('MUG')).toMatchObject({ available: 10 });
  });

  it('warmup loads what Redis lost from MySQL and keeps what it has', async () => {
    await cli('stock', 'set', 'LAMP', '8', '--tenant', 'acme');
    await fixture.drain().drainUntilIdle();
    await fixture.redis.del(tenantKeys(fixture.keyPrefix, 'acme').stock('LAMP'));
    const warm = await cli('stock', 'warmup', '--tenant', 'acme', '--json');
    expect(warm.code).toBe(EXIT.ok);
    expect(JSON.parse(warm.stdout)).toMatchObject({ loaded: 1, kept: 0 });
    // The load is a change of its own: the version moves on from MySQL's 1.
    expect(await fixture.redisStock('LAMP', 'acme')).toMatchObject({ available: 8, reserved: 0, version: 2 });
    const again = await cli('stock', 'warmup', '--tenant', 'acme');
    expect(again.stdout).toMatch(/^loaded 0 SKU\(s\) from MySQL; kept 1 that Redis already had/);
  });

  it('shows examples in --help', async () => {
    const help = await cli('stock', 'deduct', '--help');
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain('$ tradectl stock deduct SKU-1=2 SKU-2 --op order-1001');
  });
});
