import type { Pool } from 'mysql2/promise';
import type { Config } from '../config.js';
import { MysqlPools } from '../mysql-pools.js';
import { type ShardLayout, ShardRouter } from '../shard-router.js';

/**
 * The shard layouts a migration moves between. A layout is `databases x tablesPerDatabase`
 * under a database prefix; two layouts of one deployment differ in their prefix (the database
 * names `<prefix>_NN` of 2 x 4 and 4 x 8 under one prefix would collide), and both keep ONE meta
 * database, the config's `<mysql.databasePrefix>_meta`: the order locator, checkpoints, stock,
 * the DLQ and the migration state do not depend on the layout and are never moved.
 */
export interface LayoutSpec {
  databases: number;
  tablesPerDatabase: number;
  databasePrefix: string;
}

/** `4x8` (or `4 x 8`) -> { databases: 4, tablesPerDatabase: 8 }; null when it is not that shape. */
export function parseLayoutShape(text: string): { databases: number; tablesPerDatabase: number } | null {
  const match = /^\s*(\d{1,4})\s*x\s*(\d{1,4})\s*$/i.exec(text);
  if (!match) return null;
  const databases = Number(match[1]);
  const tablesPerDatabase = Number(match[2]);
  if (databases < 1 || databases > 1024 || tablesPerDatabase < 1 || tablesPerDatabase > 4096) return null;
  return { databases, tablesPerDatabase };
}

export function sameLayout(a: LayoutSpec, b: LayoutSpec): boolean {
  return (
    a.databases === b.databases &&
    a.tablesPerDatabase === b.tablesPerDatabase &&
    a.databasePrefix === b.databasePrefix
  );
}

export function describeLayout(layout: LayoutSpec): string {
  return `${layout.databases} x ${layout.tablesPerDatabase} (${layout.databasePrefix}_*)`;
}

/** The layout the config describes (before any migration recorded another one). */
export function configLayout(config: Pick<Config, 'mysql' | 'shards'>): LayoutSpec {
  return {
    databases: config.shards.databases,
    tablesPerDatabase: config.shards.tablesPerDatabase,
    databasePrefix: config.mysql.databasePrefix,
  };
}

export function metaDatabaseOf(config: Pick<Config, 'mysql'>): string {
  return `${config.mysql.databasePrefix}_meta`;
}

/** A router whose shard databases follow its layout but whose meta database is the deployment's. */
class SharedMetaRouter extends ShardRouter {
  readonly #meta: string;

  constructor(layout: ShardLayout, metaDatabaseName: string) {
    super(layout);
    this.#meta = metaDatabaseName;
  }

  override get metaDatabaseName(): string {
    return this.#meta;
  }
}

/**
 * Pools for a layout other than the config's: its databases live on `mysql.url` (the server of
 * the meta database), and it borrows that server's pool from the config's pools, so a sink that
 * writes two layouts opens no second pool and has nothing extra to close.
 */
class BorrowedPools extends MysqlPools {
  readonly #base: MysqlPools;
  readonly #url: string;
  readonly #databases: number;

  constructor(config: Pick<Config, 'mysql' | 'shards'>, router: ShardRouter, base: MysqlPools) {
    super({ mysql: config.mysql, shards: { ...config.shards, dsns: {} } }, router);
    this.#base = base;
    this.#url = config.mysql.url;
    this.#databases = router.layout.databases;
  }

  override forDatabase(index: number): Pool {
    if (!Number.isInteger(index) || index < 0 || index >= this.#databases) {
      throw new RangeError(`database ${index} is outside the layout`);
    }
    return this.#base.meta();
  }

  override meta(): Pool {
    return this.#base.meta();
  }

  override servers(): { url: string; pool: Pool; databases: number[] }[] {
    return [
      {
        url: this.#url,
        pool: this.#base.meta(),
        databases: Array.from({ length: this.#databases }, (_, index) => index),
      },
    ];
  }

  /** The borrowed pool belongs to the base pools, which their owner closes. */
  override async close(): Promise<void> {}
}

/** A layout with the router and pools to reach it. */
export interface LayoutHandle {
  spec: LayoutSpec;
  router: ShardRouter;
  pools: MysqlPools;
}

/**
 * The handle of `spec`: the config's own router and pools (with `shards.dsns`) when `spec` is the
 * config's layout, else a router with the shared meta database over pools borrowed from `pools`.
 */
export function layoutHandle(
  config: Pick<Config, 'mysql' | 'shards'>,
  base: { router: ShardRouter; pools: MysqlPools },
  spec: LayoutSpec,
): LayoutHandle {
  if (sameLayout(spec, configLayout(config))) return { spec, router: base.router, pools: base.pools };
  const router = new SharedMetaRouter(spec, metaDatabaseOf(config));
  return { spec, router, pools: new BorrowedPools(config, router, base.pools) };
}
