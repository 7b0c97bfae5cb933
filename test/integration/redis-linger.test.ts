import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lingerWrites } from '../../src/core/redis-linger.js';
import { InsufficientStockError } from '../../src/core/stock/stock-errors.js';
import { StockService } from '../../src/core/stock/stock-service.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { settle } from '../helpers/settle.js';

// The stock API's connection holds commands for a moment, while Redis is slow to answer, so they
// share one write (lingerWrites). What must hold: every call still gets its own answer, in order;
// nothing is held while answers come promptly; nothing held is lost when the connection drops. A
// Redis of this file's own, because the writes are counted from the server's side (INFO stats)
// and one test kills a client.

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

async function lingeringClient(lingerMs: number, afterSilenceMs?: number): Promise<Redis> {
  const client = new Redis(server.url);
  clients.push(client);
  await client.ping();
  lingerWrites(client, lingerMs, { afterSilenceMs });
  return client;
}

const corked = (client: Redis) => client.stream.writableCorked;

/** Socket reads the server has done so far, every client's (INFO stats, Redis 6+). */
async function serverReads(): Promise<number> {
  const stats = await observer.info('stats');
  const reads = /^total_reads_processed:(\d+)/m.exec(stats)?.[1];
  if (reads === undefined) throw new Error('INFO stats has no total_reads_processed');
  return Number(reads);
}

describe('lingerWrites', () => {
  it('sends a burst in a few writes and answers each call on its own, in order', async () => {
    // No silence needed: every command behind one awaiting its answer lingers.
    const client = await lingeringClient(5, 0);
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

  it('holds nothing while answers come promptly, and lingers once Redis has been silent', async () => {
    const client = await lingeringClient(300, 20);
    // Idle: written at once.
    expect(await client.incr('linger:quiet')).toBe(1);
    const both = [client.incr('linger:quiet'), client.incr('linger:quiet')];
    // The second is behind the first, but nothing has been waiting for 20 ms: not held.
    expect(corked(client)).toBe(0);
    expect(await Promise.all(both)).toEqual([2, 3]);

    // BLPOP keeps this connection waiting (~200 ms; Redis checks block timeouts about every
    // 100 ms). A command sent 40 ms into that silence lingers for 300 ms, the one behind it joins.
    const blocked = client.blpop('linger:empty', 0.2);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 40));
    const held = client.incr('linger:quiet').then((value) => ({ value, at: performance.now() - started }));
    const joined = client.incr('linger:quiet');
    expect(corked(client)).toBe(1);
    expect(await blocked).toBeNull();
    expect(await held).toMatchObject({ value: 4 });
    expect((await held).at).toBeGreaterThanOrEqual(330);
    expect(await joined).toBe(5);
    expect(corked(client)).toBe(0);

    // Answers came again: the next command is not held.
    const again = performance.now();
    expect(await client.incr('linger:quiet')).toBe(6);
    expect(performance.now() - again).toBeLessThan(150);
  });

  it('ends a hold with the first command sent lingerMs after it began, not a whole timer tick later', async () => {
    const client = await lingeringClient(0.25, 20);
    // Half a second of silence: room for a slow machine to send the first command inside it.
    const blocked = client.blpop('linger:empty', 0.5);
    await new Promise((resolve) => setTimeout(resolve, 40));
    const held = client.incr('linger:fine');
    expect(corked(client)).toBe(1);
    // Spinning keeps the timer (1 ms at the least) from firing: only the next command can end the
    // hold, and it does, because 0.25 ms have passed. It leaves in the same write as the held one.
    const spinUntil = performance.now() + 0.4;
    while (performance.now() < spinUntil);
    const ending = client.incr('linger:fine');
    expect(corked(client)).toBe(0);
    expect(await blocked).toBeNull();
    expect(await Promise.all([held, ending])).toEqual([1, 2]);
  });

  it('loses nothing it holds when the connection drops: the held commands go out after the reconnect', async () => {
    const client = await lingeringClient(300, 0);
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
