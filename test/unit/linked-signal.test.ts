import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { linkedSignal } from '../../src/core/linked-signal.js';

describe('linked signal', () => {
  it('aborts with the reason of whichever source aborts first', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkedSignal([a.signal, b.signal]);
    expect(linked.signal.aborted).toBe(false);
    b.abort(new Error('stop'));
    expect(linked.signal.aborted).toBe(true);
    expect((linked.signal.reason as Error).message).toBe('stop');
    // Having fired, it no longer listens to the other source either.
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
  });

  it('starts aborted when a source already is', () => {
    const a = new AbortController();
    a.abort('gone');
    expect(linkedSignal([new AbortController().signal, a.signal]).signal.reason).toBe('gone');
  });

  it('leaves nothing behind on a long-lived source once disposed', () => {
    const process = new AbortController();
    for (let run = 0; run < 1000; run++) {
      const lease = new AbortController();
      linkedSignal([lease.signal, process.signal]).dispose();
    }
    expect(getEventListeners(process.signal, 'abort')).toHaveLength(0);
    const linked = linkedSignal([process.signal]);
    linked.dispose();
    process.abort();
    expect(linked.signal.aborted).toBe(false);
  });
});
