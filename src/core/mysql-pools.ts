import mysql, { type Pool, type PoolOptions } from 'mysql2/promise';
import type { Config } from './config.js';
import type { ShardRouter } from './shard-router.js';

/**
 * One connection pool per MySQL server, shared by every database that lives on it (many shard
 * databases usually share a server, and 16 pools of 8 would waste connections). Queries name
 * their database explicitly (`db`.`table`), so a pooled connection is never tied to one.
 *
 * A write for shard N goes to shard N's server or fails: there is no failover to another node.
 */
export class MysqlPools {
  readonly #pools = new Map<string, Pool>();
  readonly #byDatabase: string[];
  readonly #metaUrl: string;
  readonly #options: Partial<PoolOptions>;

  constructor(
    config: Pick<Config, 'mysql' | 'shards'>,
    router: ShardRouter,
    options: Partial<PoolOptions> = {},
  ) {
    this.#byDatabase = Array.from(
      { length: router.layout.databases },
      (_, index) => config.shards.dsns[String(index)] ?? config.mysql.url,
    );
    this.#metaUrl = config.mysql.url;
    this.#options = { connectionLimit: config.mysql.connectionLimit, ...options };
  }

  /** The pool of the server that holds shard database `index`. */
  forDatabase(index: number): Pool {
    const url = this.#byDatabase[index];
    if (url === undefined) throw new RangeError(`database ${index} is outside the layout`);
    return this.#pool(url);
  }

  /** The pool of the server that holds the meta database (the main `mysql.url`). */
  meta(): Pool {
    return this.#pool(this.#metaUrl);
  }

  /** Distinct servers, for work done once per server (creating databases, health checks). */
  servers(): { url: string; pool: Pool; databases: number[] }[] {
    const byUrl = new Map<string, number[]>();
    this.#byDatabase.forEach((url, index) => {
      byUrl.set(url, [...(byUrl.get(url) ?? []), index]);
    });
    return [...byUrl].map(([url, databases]) => ({ url, pool: this.#pool(url), databases }));
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.end()));
  }

  #pool(url: string): Pool {
    let pool = this.#pools.get(url);
    if (!pool) {
      pool = mysql.createPool({
        uri: url,
        // UTC in and out: DATETIME(3) values are read as strings and converted by time.ts,
        // never through the process time zone.
        timezone: 'Z',
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        decimalNumbers: false,
        multipleStatements: false,
        waitForConnections: true,
        enableKeepAlive: true,
        ...this.#options,
      });
      this.#pools.set(url, pool);
    }
    return pool;
  }
}
