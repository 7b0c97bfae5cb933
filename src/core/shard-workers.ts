import type { Pool, PoolConnection } from 'mysql2/promise';
import { classifyMysqlError } from './mysql-errors.js';

/**
 * Runs one transaction per item (a shard's share of a batch) with at most `concurrency` in
 * flight. Each worker keeps ONE connection per server for the whole batch, in autocommit-off
 * mode: every statement then runs inside a transaction that the worker ends with COMMIT or
 * ROLLBACK, so no START TRANSACTION round trip is spent per shard. A batch touches hundreds or
 * thousands of shards with a few rows each, where round trips are most of the cost.
 *
 * The connection goes back to the pool with autocommit on again, or is destroyed when that
 * cannot be guaranteed: a pooled connection must never carry an open transaction to its next user.
 * After the first failure no new item starts; items in flight finish, then the error is thrown.
 */
export interface ShardTransactionContext {
  connection: PoolConnection;
  /** Call when the connection may still hold a transaction (its ROLLBACK failed). */
  markBroken(): void;
}

export async function forEachShardTransaction<T>(
  items: readonly T[],
  options: { concurrency: number; poolOf: (item: T) => Pool },
  work: (context: ShardTransactionContext, item: T) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError('concurrency must be >= 1');
  }
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    const held = new Map<Pool, PoolConnection>();
    try {
      while (failure === undefined && next < items.length) {
        const item = items[next++]!;
        const pool = options.poolOf(item);
        let broken = false;
        try {
          let connection = held.get(pool);
          if (!connection) {
            connection = await acquire(pool);
            held.set(pool, connection);
          }
          await work({ connection, markBroken: () => (broken = true) }, item);
        } catch (error) {
          failure ??= { error };
        } finally {
          const connection = held.get(pool);
          if (broken && connection) {
            held.delete(pool);
            connection.destroy();
          }
        }
      }
    } finally {
      await Promise.all([...held.values()].map(restore));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

async function acquire(pool: Pool): Promise<PoolConnection> {
  let connection: PoolConnection | undefined;
  try {
    connection = await pool.getConnection();
    await connection.query('SET autocommit = 0');
    return connection;
  } catch (error) {
    connection?.destroy();
    throw classifyMysqlError(error, 'connect');
  }
}

async function restore(connection: PoolConnection): Promise<void> {
  try {
    // Nothing should be open here; if something is, it is rolled back, never committed by the SET.
    await connection.query('ROLLBACK');
    await connection.query('SET autocommit = 1');
    connection.release();
  } catch {
    connection.destroy();
  }
}
