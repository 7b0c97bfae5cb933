/** The order bus: envelopes, the OrderBus contract, its Kafka and inline implementations, the DLQ. */
export type { RetryBackoff } from './batch-delivery.js';
export { type CreateOrderBusOptions, createOrderBus } from './create-order-bus.js';
export {
  createMysqlDeadLetterQueue,
  type DeadLetterEntry,
  type DeadLetterEntryWithBytes,
  type DeadLetterInput,
  type DeadLetterOpenCount,
  type DeadLetterQueue,
  type DeadLetterReason,
  type DeadLetterStore,
  dlqTablesDdl,
  type ListDeadLettersOptions,
  type MessageSource,
} from './dlq.js';
export {
  createEnvelope,
  type DecodeResult,
  decodeEnvelope,
  ENVELOPE_VERSION,
  encodeEnvelope,
  envelopeKey,
  type OrderEnvelope,
  orderEnvelopeSchema,
} from './envelope.js';
export { createInlineBus, type InlineBusOptions } from './inline-bus.js';
export { createKafkaBus, type KafkaBusOptions } from './kafka-bus.js';
export type {
  BatchHandler,
  BusBatch,
  BusConsumer,
  BusMessage,
  BusStats,
  ConsumeOptions,
  OrderBus,
  RawMessage,
} from './order-bus.js';
