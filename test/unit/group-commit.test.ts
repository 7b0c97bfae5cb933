import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../src/core/bus/group-commit.js';
import type { BusBatch, BusMessage } from '../../src/core/bus/order-bus.js';

function batch(name: string, size: number, signal = new AbortController().signal) {
  const quarantined: string[] = [];
  const messages = Array.from({ length: size }, (_, index) => ({ key: `${name}-${index}` }) as BusMessage);
  const value: BusBatch = {
    messages,
    signal,
    heartbeat: async () => undefined,
    deadLetter: async (entries) => {
      quarantined.push(...entries.map((entry) => entry.message.key));
    },
  };
  return { batch: value, quarantined };
}

/** A handler that records each call's keys and waits until released. */
function gatedHandler() {
  const calls: string[][] = [];
  const gates: (() => void)[] = [];
  let fail: Error | undefined;
  return {
    calls,
    failNext(error: Error) {
      fail = error;
    },
    release() {
      gates.shift()?.();
    },
    handler: async (combined: BusBatch) => {
      calls.push(combined.messages.map((message) => message.key));
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail) {
        const error = fail;
        fail = undefined;
        throw error;
      }
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('writes batches handed over in one turn as one call, and those arriving meanwhile as the next', async () => {
    const gate = gatedHandler();
    const handle = groupCommit(gate.handler);
    const done: string[] = [];
    const track = (name: string, promise: Promise<void>) => promise.then(() => done.push(name));
    const first = [track('a', handle(batch('a', 2).batch)), track('b', handle(batch('b', 1).batch))];
    await tick();
    const later = [track('c', handle(batch('c', 1).batch)), track('d', handle(batch('d', 1).batch))];
    await tick();
    expect(gate.calls).toEqual([['a-0', 'a-1', 'b-0']]);
    expect(done).toEqual([]);
    gate.release();
    await Promise.all(first);
    expect(done).toEqual(['a', 'b']);
    await tick();
    expect(gate.calls[1]).toEqual(['c-0', 'd-0']);
    gate.release();
    await Promise.all(later);
    expect(done).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects every batch of a failed call with its error, and writes them again when retried', async () => {
    const gate = gatedHandler();
    const handle = groupCommit(gate.handler);
    const a = batch('a', 1).batch;
    const b = batch('b', 1).batch;
    gate.failNext(new Error('deadlock'));
    const attempts = [handle(a), handle(b)];
    await tick();
    gate.release();
    for (const attempt of attempts) await expect(attempt).rejects.toThrow('deadlock');
    const retried = Promise.all([handle(a), handle(b)]);
    await tick();
    gate.release();
    await retried;
    expect(gate.calls).toEqual([
      ['a-0', 'b-0'],
      ['a-0', 'b-0'],
    ]);
  });

  it('keeps a call within maxMessages in whole batches', async () => {
    const gate = gatedHandler();
    const handle = groupCommit(gate.handler, { maxMessages: 3 });
    const all = Promise.all([
      handle(batch('a', 2).batch),
      handle(batch('b', 2).batch),
      handle(batch('c', 5).batch),
    ]);
    for (let call = 0; call < 3; call++) {
      await tick();
      gate.release();
    }
    await all;
    expect(gate.calls.map((keys) => keys.length)).toEqual([2, 2, 5]);
  });

  it('routes quarantined messages to the batch they came from', async () => {
    const a = batch('a', 2);
    const b = batch('b', 2);
    const handle = groupCommit(async (combined) => {
      await combined.deadLetter(
        combined.messages
          .filter((message) => message.key.endsWith('-1'))
          .map((message) => ({ message, reason: 'bad' })),
      );
    });
    await Promise.all([handle(a.batch), handle(b.batch)]);
    expect(a.quarantined).toEqual(['a-1']);
    expect(b.quarantined).toEqual(['b-1']);
  });

  it('drops a waiting batch the bus abandoned, rejecting it, and writes the others', async () => {
    const gate = gatedHandler();
    const handle = groupCommit(gate.handler);
    const running = handle(batch('a', 1).batch);
    await tick();
    const abandon = new AbortController();
    const abandoned = handle(batch('b', 1, abandon.signal).batch);
    const kept = handle(batch('c', 1).batch);
    abandon.abort(new Error('stop timed out'));
    gate.release();
    await running;
    await expect(abandoned).rejects.toThrow('stop timed out');
    await tick();
    gate.release();
    await kept;
    expect(gate.calls).toEqual([['a-0'], ['c-0']]);
  });
});
