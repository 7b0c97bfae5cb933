import type { DeliveryOutcome } from './batch-delivery.js';

/**
 * Commits of a Kafka consumer that fetches ahead of its database writes.
 *
 * kafkajs fetches a broker's next batches only after every batch of the last fetch was handled,
 * so a consumer that waits for each batch's database commit before returning leaves the database
 * idle while it fetches and decodes, and itself idle while the database writes. Instead the
 * consumer hands a chunk to its handler, lets kafkajs fetch past it at once (resolveOffset), and
 * commits the offset to Kafka only later, here: after the chunk's handler finished AND every
 * earlier chunk of the same partition finished and was committed. A commit therefore never covers
 * a message whose write is not durable, in whatever order the handlers end; a chunk that failed
 * or was abandoned stops the partition's commits for good (this generation), so what follows it
 * is redelivered from the last commit after the next rebalance or restart: an idempotent sink
 * stores it again, unchanged.
 *
 * A group rebalance starts a new epoch: kafkajs then fetches every partition from its committed
 * offset again, and handlers still running from the old epoch no longer commit (their partition
 * may belong to another member now; their work is redelivered and is idempotent).
 */
export type CommitOutcome = 'done' | 'stopped';

export interface PartitionCommitsOptions {
  /** Commits `offset` (the next offset to read) for the partition. */
  commit: (topic: string, partition: number, offset: string) => Promise<void>;
  /** Called once per chunk whose delivery was abandoned (the consumer stopped). */
  abandoned?: () => void;
}

interface Chain {
  epoch: number;
  tail: Promise<CommitOutcome>;
}

export class PartitionCommits {
  #epoch = 0;
  readonly #chains = new Map<string, Chain>();
  /** Every tail still running, of any epoch: what a stop waits for. */
  readonly #running = new Set<Promise<CommitOutcome>>();

  constructor(private readonly options: PartitionCommitsOptions) {}

  /** A rebalance: later chunks start fresh chains; chunks of the old epoch commit nothing more. */
  newEpoch(): void {
    this.#epoch++;
    this.#chains.clear();
  }

  /**
   * What the partition's chunks handed over so far come to: 'done' once all of them are
   * committed, 'stopped' if one was abandoned; rejects with a chunk's delivery or commit error.
   */
  settled(topic: string, partition: number): Promise<CommitOutcome> {
    return this.#chains.get(key(topic, partition))?.tail ?? Promise.resolve('done');
  }

  /**
   * Adds a chunk whose delivery (decode + handler) is under way; its last offset is committed
   * once it and every earlier chunk of the partition are done, then `committed` is called (e.g.
   * to update lag). Returns the partition's new tail.
   */
  add(
    topic: string,
    partition: number,
    lastOffset: string,
    delivery: Promise<DeliveryOutcome>,
    committed?: () => void,
  ): Promise<CommitOutcome> {
    const id = key(topic, partition);
    let chain = this.#chains.get(id);
    if (!chain) {
      chain = { epoch: this.#epoch, tail: Promise.resolve('done') };
      this.#chains.set(id, chain);
    }
    const epoch = chain.epoch;
    // Settled at once, so a delivery failing before its turn is never an unhandled rejection.
    const outcome = delivery.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const tail = chain.tail.then(async (before): Promise<CommitOutcome> => {
      const result = await outcome;
      if ('error' in result) throw result.error;
      if (result.value === 'abandoned') {
        this.options.abandoned?.();
        return 'stopped';
      }
      if (before !== 'done' || epoch !== this.#epoch) return 'stopped';
      await this.options.commit(topic, partition, (BigInt(lastOffset) + 1n).toString());
      committed?.();
      return 'done';
    });
    chain.tail = tail;
    this.#running.add(tail);
    const forget = () => this.#running.delete(tail);
    tail.then(forget, forget);
    return tail;
  }

  /** Resolves when every chunk handed over, of any epoch, has finished (committed or not). */
  async drained(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}

function key(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
