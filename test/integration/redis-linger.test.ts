import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lingerWrites } from '../../src/core/redis-linger.js';
import { InsufficientStockError } from '../../src/core/stock/stock-errors.js';
import { StockService } from '../../src/core/stock/stock-service.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';

// The stock API's connection holds a busy client's commands for a moment so they share one write
// (lingerWrites). What must hold: every call still gets its own answer, in order; a quiet client
// is not delayed; nothing held is lost when the connection drops. A Redis of this file's own,
// because the writes are counted from the server's side (INFO stats) and one test kills a client.

let server: PrivateRedis;
let observer: Redis;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startPrivateRedis();
  observer = new Redis(server.url);
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  observer?.disconnect();
  await server?.stop();
});

async function lingeringClient(lingerMs: number): Promise<Redis> {
  const client = new Redis(server.url);
  clients.push(client);
  await client.ping();
  lingerWrites(client, lingerMs);
  return client;
}

/** Socket reads the server has done so far, every client's (INFO stats, Redis 6+). */
async function serverReads(): Promise<number> {
  const stats = await observer.info('stats');
  const reads = /^total_reads_processed:(\d+)/m.exec(stats)?.[1];
  if (reads === undefined) throw new Error('INFO stats has no total_reads_processed');
  return Number(reads);
}

const settle = <T>(call: Promise<T>) =>
  call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('lingerWrites', () => {
  it('sends a busy burst in a few writes and answers each call on its own', async () => {
    const client = await lingeringClient(5);
    const service = new StockService({ redis: client, keyPrefix: 'linger:' });
    await service.set({ operationId: 'stock-l', sku: 'L', expectedVersion: 0, available: 100 });
    const before = await serverReads();
    // 150 buyers for 100 units, all in one turn: the first script leaves at once, the rest are
    // held behind it and share the next write.
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        settle(service.deduct({ operationId: `l-${i}`, lines: [{ sku: 'L', quantity: 1 }] })),
      ),
    );
    // The observer's own INFO is one of the reads counted.
    const reads = (await serverReads()) - before - 1;
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(10);

    expect(answers.filter((answer) => answer.ok)).toHaveLength(100);
    for (const answer of answers.slice(100)) {
      expect(answer.ok ? answer.value : answer.error).toBeInstanceOf(InsufficientStockError);
    }
    // In order: buyer i got the unit that left 99 - i.
    expect(
      answers.slice(0, 100).map((answer) => (answer.ok ? answer.value.lines[0]?.available : -1)),
    ).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    expect(await service.get({ sku: 'L' })).toMatchObject({ available: 0, version: 101 });
  });

  it('writes a command on an idle client at once and holds only the ones behind it', async () => {
    const client = await lingeringClient(300);
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const first = client.incr('linger:quiet').then((value) => ({ value, at: elapsed() }));
    const second = client.incr('linger:quiet').then((value) => ({ value, at: elapsed() }));
    expect(await first).toMatchObject({ value: 1 });
    expect(await second).toMatchObject({ value: 2 });
    expect((await first).at).toBeLessThan(150);
    expect((await second).at).toBeGreaterThanOrEqual(250);

    // Idle again: the next command is not held.
    const again = performance.now();
    expect(await client.incr('linger:quiet')).toBe(3);
    expect(performance.now() - again).toBeLessThan(150);
  });

  it('loses nothing it holds when the connection drops: the held commands go out after the reconnect', async () => {
    const client = await lingeringClient(300);
    const id = await client.client('ID');
    const first = client.incr('linger:drop');
    const held = Array.from({ length: 20 }, () => settle(client.incr('linger:drop')));
    // The first is answered; the 20 behind it are still in the corked socket's buffer when the
    // server drops the connection.
    expect(await first).toBe(1);
    await observer.client('KILL', 'ID', String(id));
    const answers = await Promise.all(held);
    expect(answers.map((answer) => (answer.ok ? answer.value : String(answer.error)))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    expect(await observer.get('linger:drop')).toBe('21');
    expect(await client.client('ID')).not.toBe(id);
  });
});
