import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RetryBackoff } from './batch-delivery.js';
import type { DeadLetterQueue } from './dlq.js';
import { createInlineBus } from './inline-bus.js';
import { createKafkaBus } from './kafka-bus.js';
import type { OrderBus } from './order-bus.js';

export interface CreateOrderBusOptions {
  config: Pick<Config, 'kafka'>;
  dlq: DeadLetterQueue;
  logger: Logger;
  /** Which bus; default: Kafka when `kafka.brokers` is set, otherwise inline. */
  via?: 'kafka' | 'inline';
  stopTimeoutMs?: number;
  retry?: RetryBackoff;
}

/** The bus a command or worker uses: KafkaBus when brokers are configured, else the InlineBus. */
export function createOrderBus(options: CreateOrderBusOptions): OrderBus {
  const via = options.via ?? (options.config.kafka.brokers.length > 0 ? 'kafka' : 'inline');
  if (via === 'kafka' && options.config.kafka.brokers.length === 0) {
    throw new ConfigError([{ path: 'kafka.brokers', message: 'empty, but the kafka bus was asked for' }]);
  }
  const common = {
    dlq: options.dlq,
    logger: options.logger,
    stopTimeoutMs: options.stopTimeoutMs,
    retry: options.retry,
  };
  return via === 'kafka'
    ? createKafkaBus({ ...common, config: options.config.kafka })
    : createInlineBus(common);
}
