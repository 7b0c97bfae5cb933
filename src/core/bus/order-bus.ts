import type { DeadLetterReason, MessageSource } from './dlq.js';
import type { OrderEnvelope } from './envelope.js';

/**
 * The OrderBus carries order envelopes from the sync runners to the order sink. Two
 * implementations keep one contract (test/integration/order-bus-conformance.test.ts):
 * KafkaBus (kafka-bus.ts, production, scales out) and InlineBus (inline-bus.ts, one process,
 * no broker).
 *
 * What it promises:
 * - `publish` resolves only once the batch is durably handed off: Kafka acknowledged it on all
 *   in-sync replicas, or (inline) the consumer's handler finished, i.e. the database committed.
 *   Only then may a sync checkpoint move.
 * - Every message is delivered at least once, in publish order per key (the key is the order's
 *   `platform:account:platformOrderId`). A batch is acknowledged (offsets committed) only after
 *   its handler's promise resolved; a batch whose handler failed or never finished is delivered
 *   again. Consumers must be idempotent (the store's versioned upsert is).
 * - A message that cannot be decoded into a valid envelope never reaches the handler: it goes to
 *   the dead letter queue with a reason naming the field and its original bytes, durably, before
 *   the batch is acknowledged. The rest of the batch is delivered.
 * - A handler that throws is retried with capped backoff (the batch is neither skipped nor
 *   acknowledged, and nothing goes to the DLQ): transient failures heal by themselves. A record
 *   the handler can never store is the handler's to quarantine, through `batch.deadLetter`.
 * - `stop()` is bounded: in-flight batches get `stopTimeoutMs` to finish (and are acknowledged);
 *   a batch still running then is abandoned unacknowledged (its `signal` aborts) and is
 *   redelivered to the next consumer.
 *
 * What it leaves out: exactly-once delivery (duplicates after a crash or rebalance are expected),
 * ordering across keys, and transactions spanning the bus and the database.
 */
export interface OrderBus {
  readonly kind: 'kafka' | 'inline';
  /** Connects and ensures topics (Kafka). Idempotent; publish and consume call it too. */
  start(): Promise<void>;
  /** Hands a batch of envelopes off durably (see above). Rejects with a retriable error on failure. */
  publish(envelopes: readonly OrderEnvelope[]): Promise<void>;
  /**
   * Publishes messages as bytes (DLQ replay, tests of poison messages). Same guarantees as
   * `publish`; the consumer decodes and validates them like any other message.
   */
  publishRaw(messages: readonly RawMessage[]): Promise<void>;
  /** Starts a consumer; it runs until its own `stop()` or the bus's. */
  consume(options: ConsumeOptions): Promise<BusConsumer>;
  /** Counters for metrics; cheap, never does I/O. */
  stats(): BusStats;
  /** Stops every consumer (bounded, see above) and the producer. Pending publishes reject. */
  stop(): Promise<void>;
}

export interface RawMessage {
  key: string;
  value: Buffer;
  /** Id of the DLQ entry this message replays (travels as a Kafka header; see DeadLetterInput). */
  replayOf?: string | undefined;
}

/** One decoded message of a batch. */
export interface BusMessage {
  key: string;
  envelope: OrderEnvelope;
  /** The bytes as received: what goes to the DLQ if the handler quarantines the message. */
  raw: Buffer;
  /** Topic, partition and offset (Kafka); null on the inline bus. */
  source: MessageSource | null;
  /** Id of the DLQ entry this message replays, when it is a replay. */
  replayOf?: string | null | undefined;
}

export interface BusBatch {
  /** Decoded messages in delivery order (per key: publish order). Poison ones were already quarantined. */
  readonly messages: readonly BusMessage[];
  /**
   * Quarantines messages the handler can never store (unknown platform, fails a store rule),
   * durably: resolves once the DLQ holds them (and, on Kafka, the DLQ topic). Call it before
   * resolving the handler; the batch is acknowledged only after the handler resolves.
   */
  deadLetter(entries: readonly { message: BusMessage; reason: DeadLetterReason }[]): Promise<void>;
  /** Keeps the consumer's group membership alive during long work (no-op inline). */
  heartbeat(): Promise<void>;
  /** Aborts when the bus gives up on this batch (stop timed out): stop working, it will be redelivered. */
  readonly signal: AbortSignal;
}

/**
 * Handles one batch; the batch is acknowledged once the promise resolves. Batches of a partition
 * are handed over in offset order, but on Kafka the next one may be handed over before the last
 * one's promise resolved (the consumer fetches one batch ahead): a handler that must write them
 * one after another serialises them itself (the order sink does, through groupCommit). They are
 * acknowledged in offset order whatever order their promises resolve in.
 */
export type BatchHandler = (batch: BusBatch) => Promise<void>;

export interface ConsumeOptions {
  /** Consumer group: one per role (`tradectl-sink`). Consumers of a group share the partitions. */
  groupId: string;
  handler: BatchHandler;
  /** Largest batch handed to the handler (a bigger fetched batch is split). Default 500. */
  maxBatchMessages?: number;
}

export interface BusConsumer {
  readonly groupId: string;
  /** Bounded drain, then leaves (see OrderBus). Idempotent. */
  stop(): Promise<void>;
}

export interface BusStats {
  kind: 'kafka' | 'inline';
  /** Messages handed off by publish (acknowledged by Kafka, or handled inline). */
  published: number;
  /** Messages whose batch was handled (decoded ones plus quarantined ones); acknowledged right after. */
  consumed: number;
  /** Messages put in the DLQ, by the bus (undecodable) or by handlers. */
  deadLettered: number;
  /** Handler attempts that failed and were retried. */
  handlerRetries: number;
  /** Batches abandoned at stop (redelivered later). */
  abandonedBatches: number;
  /**
   * Messages waiting to be consumed: inline, the queue; Kafka, the sum over partitions of
   * high watermark minus the next offset, as of each partition's last fetched batch (null before
   * the first batch). A lower bound when partitions have not been fetched recently.
   */
  lag: number | null;
  /** True while a handler is failing and its batch is being retried (for /readyz). */
  retrying: boolean;
}
