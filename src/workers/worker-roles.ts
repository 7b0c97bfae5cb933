import { UsageError } from '../core/errors.js';

/**
 * What a worker process does, chosen with `--roles` (default: all of them):
 *
 * - `sync`: schedules every enabled account on `sync.intervalSeconds` plus jitter (SyncRunner)
 * - `sink`: consumes the order bus into the shards (createSinkPipeline)
 * - `api`: /healthz, /readyz, /metrics, and the stock API when `api.tokens` is set
 * - `ledger`: drains the stock change streams into MySQL (LedgerDrain)
 * - `sweeper`: returns the stock of expired reservations (ReservationSweeper)
 * - `push`: pushes stock levels to the other channels' listings (createInventoryPusher)
 */
export const WORKER_ROLES = ['sync', 'sink', 'api', 'ledger', 'sweeper', 'push'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

/** `sync,sink,api` -> roles in canonical order; an unknown role is a usage error naming it. */
export function parseRoles(text: string): WorkerRole[] {
  const asked = text
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role.length > 0);
  if (asked.length === 0) {
    throw new UsageError('--roles is empty', `roles: ${WORKER_ROLES.join(', ')}`);
  }
  const unknown = asked.filter((role) => !(WORKER_ROLES as readonly string[]).includes(role));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown worker role${unknown.length > 1 ? 's' : ''} ${unknown.map((role) => `"${role}"`).join(', ')} in --roles`,
      `roles: ${WORKER_ROLES.join(', ')}`,
    );
  }
  return WORKER_ROLES.filter((role) => asked.includes(role));
}

/**
 * Combinations that cannot work. The in-process bus (no `kafka.brokers`) carries orders only
 * inside one process: a sync role there needs the sink role beside it (its publishes would wait
 * for ever), and a sink role without the sync role would never receive anything.
 */
export function checkRoleSet(roles: readonly WorkerRole[], via: 'kafka' | 'inline'): void {
  const has = (role: WorkerRole) => roles.includes(role);
  if (via !== 'inline') return;
  if (has('sync') && !has('sink')) {
    throw new UsageError(
      'the sync role needs the sink role in the same process when there is no Kafka (kafka.brokers is empty)',
      'add sink to --roles, or set kafka.brokers (TRADECTL_KAFKA_BROKERS) so another worker can sink',
    );
  }
  if (has('sink') && !has('sync')) {
    throw new UsageError(
      'the sink role receives nothing without the sync role when there is no Kafka (kafka.brokers is empty)',
      'add sync to --roles, or set kafka.brokers (TRADECTL_KAFKA_BROKERS)',
    );
  }
}
