import { Redis } from 'ioredis';
import { TradectlError } from './errors.js';

/**
 * Connects a `lazyConnect` client. ioredis rejects a failed connect with "Connection is
 * closed."; the socket's own error ("connect ECONNREFUSED 127.0.0.1:6379") comes as an 'error'
 * event, so it is kept and handed to `explain`, whose error is thrown instead.
 */
export async function connectRedis(
  client: Redis,
  explain: (reason: string, cause: unknown) => Error,
): Promise<void> {
  let socketError: Error | undefined;
  const keep = (error: Error) => {
    socketError = error;
  };
  client.on('error', keep);
  try {
    await client.connect();
  } catch (error) {
    throw explain(
      socketError?.message ?? (error as Error | null)?.message ?? String(error),
      socketError ?? error,
    );
  } finally {
    client.off('error', keep);
  }
}

/**
 * `connectRedis` for a process that cannot go on without Redis: a failure is a transient
 * TradectlError `code`, "could not connect to Redis (<purpose>): <socket's reason>", with `hint`.
 */
export function connectRedisFor(
  client: Redis,
  failure: { code: string; purpose: string; hint: string },
): Promise<void> {
  return connectRedis(
    client,
    (reason, cause) =>
      new TradectlError(failure.code, `could not connect to Redis (${failure.purpose}): ${reason}`, {
        kind: 'transient',
        cause,
        hint: failure.hint,
      }),
  );
}

/**
 * The Redis client of a one-shot command (`tradectl stock`, `reconcile stock`, `stock push`):
 * one retry per request rather than queueing while it reconnects for ever, and connected before
 * it is handed out, so an unreachable Redis is named with its reason before anything is sent.
 */
export async function connectCommandRedis(url: string, purpose: string): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await connectRedisFor(redis, {
      code: 'TRADECTL_STOCK_UNAVAILABLE',
      purpose,
      hint: 'check redis.url (TRADECTL_REDIS_URL); nothing was read or changed',
    });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}
