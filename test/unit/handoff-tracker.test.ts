import { describe, expect, it } from 'vitest';
import { HandoffTracker } from '../../src/workers/handoff-tracker.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('HandoffTracker', () => {
  it('lets the next page be fetched only while fewer than maxInFlight hand-offs are pending', async () => {
    const tracker = new HandoffTracker(2);
    const first = deferred();
    const second = deferred();
    tracker.add(first.promise);
    await tracker.waitForRoom();
    tracker.add(second.promise);
    const waiting = tracker.waitForRoom();
    expect(await settled(waiting)).toBe(false);
    first.resolve();
    await waiting;
    expect(tracker.inFlight).toBe(1);
    second.resolve();
    await tracker.drain();
    expect(tracker.inFlight).toBe(0);
  });

  it('throws the first failed hand-off from drain, after every hand-off settled', async () => {
    const tracker = new HandoffTracker(4);
    const slow = deferred();
    tracker.add(Promise.reject(new Error('broker down')));
    tracker.add(slow.promise);
    const drained = tracker.drain();
    expect(await settled(drained)).toBe(false);
    slow.resolve();
    await expect(drained).rejects.toThrow('broker down');
    // Remembered: the chunk stays failed.
    await expect(tracker.waitForRoom()).rejects.toThrow('broker down');
  });

  it('stops waiting when the run is cancelled, even if a hand-off never resolves', async () => {
    const tracker = new HandoffTracker(1);
    tracker.add(new Promise(() => {}));
    const controller = new AbortController();
    const waiting = tracker.waitForRoom(controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    await expect(tracker.drain(controller.signal)).rejects.toThrow('cancelled');
  });
});
