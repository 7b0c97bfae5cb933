import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { Collector } from '../helpers/collector.js';

// Runs without services: port 1 on loopback refuses connections, nothing listens there.
let dir: string;
let config: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tradectl-unreachable-redis-'));
  config = join(dir, 'worker.yaml');
  await writeFile(
    config,
    [
      'mysql: { url: "mysql://tradectl:tradectl@127.0.0.1:1" }',
      'redis: { url: "redis://127.0.0.1:1" }',
      'api: { port: 0, host: 127.0.0.1 }',
      'log: { level: silent }',
      'accounts:',
      '  - { platform: shopify, id: us-store, userId: "1", credentials: { accessToken: t }, options: { shopDomain: a.myshopify.com } }',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  const io = { stdout: new Collector(), stderr: new Collector(), env: {} } satisfies CliIo;
  const code = await runCli([...argv, '--config', config], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

// ioredis only says "Connection is closed."; these name the socket's reason and what to check.
describe('commands whose Redis does not answer', () => {
  it('worker: exits 1 at start-up', async () => {
    const { code, stderr } = await run(['worker', '--roles', 'sync,sink']);
    expect(code).toBe(EXIT.failed);
    expect(stderr).toContain(
      'tradectl: could not connect to Redis (leases, ids and rate limits): connect ECONNREFUSED 127.0.0.1:1\n' +
        'hint: check redis.url (TRADECTL_REDIS_URL); the worker exits so its supervisor restarts it\n',
    );
  });

  it.each([
    ['sync leases', ['sync'], 'check redis.url (TRADECTL_REDIS_URL)'],
    [
      'rate limits',
      ['trace', 'shopify', '1'],
      'check redis.url (TRADECTL_REDIS_URL), or trace with --offline',
    ],
    [
      'rate limits',
      ['reconcile', 'orders', '--since', '2026-01-01T00:00:00Z'],
      'check redis.url (TRADECTL_REDIS_URL)',
    ],
  ])('%s: %j exits 1 naming the reason', async (purpose, argv, hint) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(EXIT.failed);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      `tradectl: could not connect to Redis (${purpose}): connect ECONNREFUSED 127.0.0.1:1\nhint: ${hint}\n`,
    );
  });

  it.each([
    ['stock', ['stock', 'get', 'SKU-1']],
    ['stock', ['stock', 'deduct', 'SKU-1=1', '--op', 'op-1']],
    ['reconcile stock', ['reconcile', 'stock']],
    ['stock push', ['stock', 'push', '--dry-run']],
  ])('%s: exits 1 before sending anything (%j)', async (purpose, argv) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(EXIT.failed);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `tradectl: could not connect to Redis (${purpose}): connect ECONNREFUSED 127.0.0.1:1\n` +
        'hint: check redis.url (TRADECTL_REDIS_URL); nothing was read or changed\n',
    );
  });
});
