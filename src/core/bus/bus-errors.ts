import { TradectlError } from '../errors.js';

/** The bus was stopped before a publish was handed off: nothing was acknowledged, sync retries later. */
export function busStopped(): TradectlError {
  return new TradectlError(
    'TRADECTL_BUS_STOPPED',
    'the order bus is stopping: the batch was not handed off',
    {
      kind: 'transient',
      hint: 'nothing to do: the sync checkpoint did not move, the next run fetches these orders again',
    },
  );
}

/** The broker could not take or give messages (connection, timeout, not enough replicas). */
export function busUnavailable(operation: string, cause: unknown): TradectlError {
  return new TradectlError(
    'TRADECTL_BUS_UNAVAILABLE',
    `${operation}: ${(cause as Error)?.message ?? String(cause)}`,
    {
      kind: 'transient',
      cause,
      hint: 'check kafka.brokers and the brokers themselves; the operation is retried',
    },
  );
}

/** A second consumer on a bus that delivers to one (the inline bus). A wiring bug. */
export function consumerActive(groupId: string): TradectlError {
  return new TradectlError(
    'TRADECTL_BUS_CONSUMER_ACTIVE',
    `the inline order bus already has a consumer (group ${groupId}); stop it before starting another`,
    { kind: 'internal', details: { groupId } },
  );
}
