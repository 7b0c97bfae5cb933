import { describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../src/core/bus/batch-delivery.js';
import { PartitionCommits } from '../../src/core/bus/partition-commits.js';

/** A delivery the test finishes by hand. */
function delivery() {
  let resolve!: (outcome: DeliveryOutcome) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<DeliveryOutcome>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function recorder(options: { failCommitAt?: string } = {}) {
  const commits: string[] = [];
  const committed: string[] = [];
  let abandoned = 0;
  const partitionCommits = new PartitionCommits({
    commit: async (topic, partition, offset) => {
      if (offset === options.failCommitAt) throw new Error(`broker refused the commit of ${offset}`);
      commits.push(`${topic}/${partition}@${offset}`);
    },
    abandoned: () => {
      abandoned++;
    },
  });
  /** Adds a chunk of topic "orders", noting its commit as "orders/<partition>:<last offset>". */
  const add = (partition: number, lastOffset: string, promise: Promise<DeliveryOutcome>) =>
    partitionCommits.add('orders', partition, lastOffset, promise, () =>
      committed.push(`orders/${partition}:${lastOffset}`),
    );
  /** Two chunks of partition 0 (offsets ..9 and ..19) whose deliveries the test finishes. */
  const twoChunks = () => {
    const first = delivery();
    const second = delivery();
    add(0, '9', first.promise);
    const tail = add(0, '19', second.promise);
    return { first, second, tail };
  };
  return { commits, committed, partitionCommits, add, twoChunks, abandonedCount: () => abandoned };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('PartitionCommits', () => {
  it('commits the next offset to read, in offset order, however the deliveries finish', async () => {
    const { commits, committed, partitionCommits, add } = recorder();
    const first = delivery();
    const second = delivery();
    add(3, '99', first.promise);
    const tail = add(3, '199', second.promise);
    second.resolve('done');
    await flush();
    expect(commits).toEqual([]);
    first.resolve('done');
    await expect(tail).resolves.toBe('done');
    expect(commits).toEqual(['orders/3@100', 'orders/3@200']);
    expect(committed).toEqual(['orders/3:99', 'orders/3:199']);
    await expect(partitionCommits.settled('orders', 3)).resolves.toBe('done');
  });

  it('keeps partitions apart: a slow one does not hold the others back', async () => {
    const { commits, partitionCommits, add } = recorder();
    const slow = delivery();
    const fast = delivery();
    add(0, '9', slow.promise);
    const fastTail = add(1, '19', fast.promise);
    fast.resolve('done');
    await expect(fastTail).resolves.toBe('done');
    expect(commits).toEqual(['orders/1@20']);
    slow.resolve('done');
    await partitionCommits.drained();
    expect(commits).toEqual(['orders/1@20', 'orders/0@10']);
  });

  it('commits nothing past a failed delivery and reports its error, without unhandled rejections', async () => {
    const { commits, partitionCommits, twoChunks } = recorder();
    const { first, second, tail } = twoChunks();
    // The later delivery fails first, while the earlier one still runs.
    second.reject(new Error('membership lost'));
    await flush();
    first.resolve('done');
    await expect(tail).rejects.toThrow('membership lost');
    expect(commits).toEqual(['orders/0@10']);
    await expect(partitionCommits.settled('orders', 0)).rejects.toThrow('membership lost');
  });

  it('stops a partition at an abandoned chunk: later ones are not committed', async () => {
    const { commits, twoChunks, abandonedCount } = recorder();
    const { first, second, tail } = twoChunks();
    second.resolve('done');
    first.resolve('abandoned');
    await expect(tail).resolves.toBe('stopped');
    expect(commits).toEqual([]);
    expect(abandonedCount()).toBe(1);
  });

  it('stops at a commit the broker refused', async () => {
    const { commits, twoChunks } = recorder({ failCommitAt: '10' });
    const { first, second, tail } = twoChunks();
    first.resolve('done');
    second.resolve('done');
    await expect(tail).rejects.toThrow('broker refused the commit of 10');
    expect(commits).toEqual([]);
  });

  it('after a rebalance, chunks of the old epoch commit nothing and new chains start clean', async () => {
    const { commits, partitionCommits, add } = recorder();
    const old = delivery();
    const oldTail = add(0, '9', old.promise);
    partitionCommits.newEpoch();
    await expect(partitionCommits.settled('orders', 0)).resolves.toBe('done');
    const fresh = delivery();
    const freshTail = add(0, '4', fresh.promise);
    fresh.resolve('done');
    await expect(freshTail).resolves.toBe('done');
    old.resolve('done');
    await expect(oldTail).resolves.toBe('stopped');
    expect(commits).toEqual(['orders/0@5']);
  });

  it('drained waits for every chunk, of any epoch', async () => {
    const { partitionCommits, add } = recorder();
    const old = delivery();
    add(0, '9', old.promise);
    partitionCommits.newEpoch();
    const current = delivery();
    add(1, '9', current.promise);
    let drained = false;
    const waiting = partitionCommits.drained().then(() => {
      drained = true;
    });
    current.resolve('done');
    await flush();
    expect(drained).toBe(false);
    old.reject(new Error('gone'));
    await waiting;
    expect(drained).toBe(true);
  });
});
