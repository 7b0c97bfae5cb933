import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import { createPushFixture, type PushFixture } from '../helpers/inventory-push-fixture.js';

// `tradectl stock push` in-process against real Redis, MariaDB and the sandbox: the operator's
// full re-push, with the accounts and rules of a config file like a user's.
let f: PushFixture;
let dir: string;
let configFile: string;

const MUG = 'MUG-CER-350-BLK';

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

beforeAll(async () => {
  f = await createPushFixture();
  dir = await mkdtemp(join(tmpdir(), 'tradectl-stock-push-'));
  configFile = join(dir, 'config.json');
  const { mysql, shards, redis } = f.stock.config;
  const accounts = f.sandbox.accounts.map((account, index) => ({
    platform: account.platform,
    id: account.account,
    userId: String(100 + index),
    baseUrl: account.baseUrl,
    ...(account.tokenUrl ? { tokenUrl: account.tokenUrl } : {}),
    credentials: account.credentials,
    options:
      account.platform === 'shopify'
        ? { shopDomain: account.shopDomain, locationId: account.locationId }
        : account.platform === 'amazon'
          ? { marketplaceIds: [account.marketplaceId], sellerId: account.sellerId }
          : { marketplaceId: account.marketplaceId },
  }));
  const inventoryPush = { rules: { safetyStock: 1, channels: { ebay: { maxShown: 10 } } } };
  await writeFile(configFile, JSON.stringify({ mysql, shards, redis, accounts, inventoryPush }));
  for (const platform of ['shopify', 'amazon', 'ebay'] as const)
    await f.mapListing('MUG-2', platform, 0, MUG);
  await f.service.set({ operationId: 'stock-mug-2', sku: 'MUG-2', expectedVersion: 0, available: 31 });
});

afterAll(async () => {
  await f?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('tradectl stock push', () => {
  it('--dry-run shows what each listing would get and writes nothing', async () => {
    const result = await cli('stock', 'push', '--dry-run', '--json');
    expect(result.code).toBe(EXIT.ok);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ skus: 1, applied: 0, failed: 0, dryRun: true });
    const planned = out.listings
      .filter((row: { status: string }) => row.status === 'dry_run')
      .map((row: { platform: string; quantity: number }) => [row.platform, row.quantity]);
    expect(planned.sort()).toEqual([
      ['amazon', 30],
      ['ebay', 10],
      ['shopify', 30],
    ]);
    expect(f.shown('amazon', 0, MUG)).toBe(100);
  });

  it('pushes every listed SKU, reports listings it cannot address, and exits 0', async () => {
    const result = await cli('stock', 'push');
    expect(result.code).toBe(EXIT.ok);
    expect([f.shown('shopify', 0, MUG), f.shown('amazon', 0, MUG), f.shown('ebay', 0, MUG)]).toEqual([
      30, 30, 10,
    ]);
    expect(result.stdout).toContain('skipped (shopify_needs_inventory_item)');
    expect(result.stderr).toContain('1 SKU(s) of every tenant: 3 listing(s) set, 0 failed, 1 not pushable');
  });

  it('exits 3 when some listings failed and names them', async () => {
    await f.service.adjust({ operationId: 'adjust-mug-2', sku: 'MUG-2', expectedVersion: 1, delta: -11 });
    f.sandbox.setFaults('ebay', { error5xx: 1 });
    try {
      const result = await cli('stock', 'push', '--sku', 'MUG-2', '--json');
      expect(result.code).toBe(EXIT.partial);
      const out = JSON.parse(result.stdout);
      expect(out).toMatchObject({ skus: 1, applied: 2, failed: 1 });
      expect(out.listings.find((row: { platform: string }) => row.platform === 'ebay')).toMatchObject({
        status: 'failed',
        transient: true,
        reason: 'TRADECTL_RETRIES_EXHAUSTED',
      });
    } finally {
      f.sandbox.setFaults('ebay', {});
    }
    expect([f.shown('shopify', 0, MUG), f.shown('amazon', 0, MUG)]).toEqual([19, 19]);
  });

  it('exits 1 when no listing maps the SKU, and 2 for a bad flag', async () => {
    const none = await cli('stock', 'push', '--sku', 'NO-SUCH-SKU');
    expect(none.code).toBe(EXIT.failed);
    expect(none.stderr).toContain('nothing to push: no listing maps a SKU of SKU default/NO-SUCH-SKU');
    const bad = await cli('stock', 'push', '--sku', 'has space');
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('--sku');
  });

  it('has help with examples', async () => {
    const help = await cli('stock', 'push', '--help');
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain('tradectl stock push --sku MUG-1');
    expect(help.stdout).toContain('--dry-run');
  });
});
