import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { parseSnowflake } from '../../src/core/snowflake.js';

function memoryIo(env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: '', stderr: '' };
  const sink = (key: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk, _encoding, done) {
        out[key] += String(chunk);
        done();
      },
    });
  const io: CliIo = { stdout: sink('stdout'), stderr: sink('stderr'), env };
  return { io, out };
}

// A fixed worker id (env TRADECTL_WORKER_ID) needs no Redis: these run without services.
describe('tradectl ids', () => {
  it('ids new prints the requested count of increasing ids from the configured worker', async () => {
    const { io, out } = memoryIo({ TRADECTL_WORKER_ID: '77' });
    expect(await runCli(['ids', 'new', '--count', '5'], io)).toBe(0);
    const ids = out.stdout.trim().split('\n');
    expect(ids).toHaveLength(5);
    const values = ids.map((id) => BigInt(id));
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    expect(ids.map((id) => parseSnowflake(id).workerId)).toEqual([77, 77, 77, 77, 77]);
  });

  it('ids new --json prints a JSON array of strings', async () => {
    const { io, out } = memoryIo({ TRADECTL_WORKER_ID: '5' });
    expect(await runCli(['ids', 'new', '-n', '3', '--json'], io)).toBe(0);
    const ids = JSON.parse(out.stdout) as unknown[];
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^\d+$/);
  });

  it('ids new rejects a count out of range as a usage error', async () => {
    const { io, out } = memoryIo({ TRADECTL_WORKER_ID: '5' });
    expect(await runCli(['ids', 'new', '--count', '0'], io)).toBe(2);
    expect(out.stderr).toContain('--count must be an integer from 1');
    expect(out.stdout).toBe('');
  });

  it('ids new without a fixed worker id and no reachable Redis fails at once with a hint', async () => {
    // Port 1 on loopback refuses connections: nothing listens there.
    const { io, out } = memoryIo({ TRADECTL_REDIS_URL: 'redis://127.0.0.1:1' });
    const started = performance.now();
    expect(await runCli(['ids', 'new'], io)).toBe(1);
    expect(performance.now() - started).toBeLessThan(4000);
    expect(out.stderr).toContain(
      'could not connect to Redis (worker id lease): connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(out.stderr).toContain('hint: check redis.url, or set ids.workerId');
    expect(out.stdout).toBe('');
  });

  it('ids parse prints timestamp, worker and sequence as tab-separated rows when piped', async () => {
    const { io, out } = memoryIo();
    expect(await runCli(['ids', 'parse', '4198400', '4198401'], io)).toBe(0);
    expect(out.stdout).toBe(
      'id\ttimestamp\tworker\tsequence\n' +
        '4198400\t2024-01-01T00:00:00.001Z\t1\t0\n' +
        '4198401\t2024-01-01T00:00:00.001Z\t1\t1\n',
    );
  });

  it('ids parse --json prints one object per id', async () => {
    const { io, out } = memoryIo();
    expect(await runCli(['ids', 'parse', '4198400', '--json'], io)).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual([
      { id: '4198400', timestamp: '2024-01-01T00:00:00.001Z', workerId: 1, sequence: 0 },
    ]);
  });

  it('ids parse names every malformed id and exits with the usage code', async () => {
    const { io, out } = memoryIo();
    expect(await runCli(['ids', 'parse', '4198400', 'abc', '9223372036854775808'], io)).toBe(2);
    expect(out.stderr).toContain('not a Snowflake id: "abc", "9223372036854775808"');
    expect(out.stdout).toBe('');
  });

  it('ids new --help shows examples', async () => {
    const { io, out } = memoryIo();
    expect(await runCli(['ids', 'new', '--help'], io)).toBe(0);
    expect(out.stdout).toContain('Examples:');
    expect(out.stdout).toContain('tradectl ids new --count 5 --json');
  });
});
