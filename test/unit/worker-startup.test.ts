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
  dir = await mkdtemp(join(tmpdir(), 'tradectl-worker-startup-'));
  config = join(dir, 'worker.yaml');
  await writeFile(
    config,
    [
      'mysql: { url: "mysql://tradectl:tradectl@127.0.0.1:1" }',
      'redis: { url: "redis://127.0.0.1:1" }',
      'api: { port: 0, host: 127.0.0.1 }',
      'log: { level: silent }',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tradectl worker start-up', () => {
  it('exits 1 when Redis does not answer, naming the socket reason and what to check', async () => {
    const io = { stdout: new Collector(), stderr: new Collector(), env: {} } satisfies CliIo;
    const code = await runCli(['worker', '--roles', 'sync,sink', '--config', config], io);
    expect(code).toBe(EXIT.failed);
    // The reason from the socket, not ioredis's "Connection is closed.".
    expect(io.stderr.text).toContain(
      'tradectl: could not connect to Redis (leases, ids and rate limits): connect ECONNREFUSED 127.0.0.1:1\n' +
        'hint: check redis.url (TRADECTL_REDIS_URL); the worker exits so its supervisor restarts it\n',
    );
  });
});
