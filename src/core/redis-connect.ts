import type { Redis } from 'ioredis';

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
