import type { RowDataPacket } from 'mysql2/promise';
import { classifyMysqlError } from '../mysql-errors.js';
import type { MysqlPools } from '../mysql-pools.js';
import type { ShardRouter } from '../shard-router.js';
import { fromSqlDateTime, type Instant } from '../time.js';

/**
 * The order half of reconcile, without I/O to the platforms: what the database holds for a
 * batch of platform keys (one query per batch in the account's shard, by the unique platform
 * key), and how a listed order compares with it.
 */

export interface StoredVersion {
  id: string;
  /** The platform's update time of the stored version. */
  updatedAt: Instant;
  status: string;
}

export type OrderProblem = 'missing' | 'stale';

export type Comparison =
  | { state: 'match' }
  /** The database is newer than the listing (the listing lagged): not drift. */
  | { state: 'ahead' }
  | { state: OrderProblem };

/** Instants are canonical ISO text, which sorts in time order. */
export function compareListed(platformUpdatedAt: Instant, stored: StoredVersion | undefined): Comparison {
  if (stored === undefined) return { state: 'missing' };
  if (stored.updatedAt < platformUpdatedAt) return { state: 'stale' };
  return { state: stored.updatedAt === platformUpdatedAt ? 'match' : 'ahead' };
}

/** Matching share in percent with two decimals; null when nothing was listed. */
export function accuracy(matched: number, compared: number): number | null {
  return compared === 0 ? null : Math.floor((matched / compared) * 10_000) / 100;
}

// Keys per statement: one range of the unique key each, far below max_allowed_packet.
const KEYS_PER_QUERY = 500;

/** The stored versions of an account's orders among `platformOrderIds` (absent ones are left out). */
export async function storedVersions(input: {
  pools: MysqlPools;
  router: ShardRouter;
  /** The account's owner: decides the shard. */
  userId: string;
  platform: string;
  account: string;
  platformOrderIds: readonly string[];
}): Promise<Map<string, StoredVersion>> {
  const location = input.router.route(input.userId);
  const orders = input.router.qualifiedTable(location, 'orders');
  const pool = input.pools.forDatabase(location.database);
  const found = new Map<string, StoredVersion>();
  for (let at = 0; at < input.platformOrderIds.length; at += KEYS_PER_QUERY) {
    let rows: RowDataPacket[];
    try {
      [rows] = await pool.query<RowDataPacket[]>(
        `SELECT \`id\`, \`platform_order_id\`, \`status\`, \`updated_at\` FROM ${orders} ` +
          'WHERE `platform` = ? AND `account` = ? AND `platform_order_id` IN (?)',
        [input.platform, input.account, input.platformOrderIds.slice(at, at + KEYS_PER_QUERY)],
      );
    } catch (error) {
      throw classifyMysqlError(error, 'read stored order versions', { database: location.databaseName });
    }
    for (const row of rows) {
      found.set(String(row.platform_order_id), {
        id: String(row.id),
        updatedAt: fromSqlDateTime(String(row.updated_at)),
        status: String(row.status),
      });
    }
  }
  return found;
}
