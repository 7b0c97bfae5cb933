import { ValidationError } from './errors.js';

/**
 * Where an owning user's orders live. The rule is the seed's, with configurable counts:
 *
 *   database = floor(user_id / tablesPerDatabase) % databases
 *   table    = user_id % tablesPerDatabase
 *
 * so consecutive users spread over the tables of one database, and each block of
 * `tablesPerDatabase` users moves on to the next database. All of one user's orders share a
 * table: per-user queries touch one table; operations queries fan out (see order-query.ts).
 * Table names only ever come from here: nothing else builds an identifier into SQL.
 */
export interface ShardLayout {
  databases: number;
  tablesPerDatabase: number;
  /** Database names are `<prefix>_<index>`, the meta database `<prefix>_meta`. */
  databasePrefix: string;
}

export interface ShardLocation {
  database: number;
  table: number;
  /** `tradectl_07` */
  databaseName: string;
  /** `003`: the suffix of every table of this shard (`orders_003`, `order_lines_003`). */
  tableSuffix: string;
}

export const ORDER_TABLES = ['orders', 'order_details', 'order_lines'] as const;
export type OrderTable = (typeof ORDER_TABLES)[number];

export class ShardRouter {
  readonly layout: ShardLayout;
  readonly #dbWidth: number;
  readonly #tableWidth: number;
  readonly #dbCount: bigint;
  readonly #tableCount: bigint;

  constructor(layout: ShardLayout) {
    if (!Number.isInteger(layout.databases) || layout.databases < 1)
      throw new RangeError('databases must be >= 1');
    if (!Number.isInteger(layout.tablesPerDatabase) || layout.tablesPerDatabase < 1) {
      throw new RangeError('tablesPerDatabase must be >= 1');
    }
    if (!/^[a-z][a-z0-9_]*$/.test(layout.databasePrefix)) throw new RangeError('invalid database prefix');
    this.layout = layout;
    this.#dbWidth = Math.max(2, String(layout.databases - 1).length);
    this.#tableWidth = Math.max(3, String(layout.tablesPerDatabase - 1).length);
    this.#dbCount = BigInt(layout.databases);
    this.#tableCount = BigInt(layout.tablesPerDatabase);
  }

  /** Total tables per order table kind (databases x tablesPerDatabase). */
  get shardCount(): number {
    return this.layout.databases * this.layout.tablesPerDatabase;
  }

  get metaDatabaseName(): string {
    return `${this.layout.databasePrefix}_meta`;
  }

  /** The shard of a user id given as a decimal string (ids may exceed 2^53) or safe integer. */
  route(userId: string | number | bigint): ShardLocation {
    const id = toUserId(userId);
    const database = Number((id / this.#tableCount) % this.#dbCount);
    const table = Number(id % this.#tableCount);
    return this.location(database, table);
  }

  location(database: number, table: number): ShardLocation {
    if (
      database < 0 ||
      database >= this.layout.databases ||
      table < 0 ||
      table >= this.layout.tablesPerDatabase
    ) {
      throw new RangeError(`shard ${database}/${table} is outside the layout`);
    }
    return {
      database,
      table,
      databaseName: this.databaseName(database),
      tableSuffix: String(table).padStart(this.#tableWidth, '0'),
    };
  }

  databaseName(database: number): string {
    return `${this.layout.databasePrefix}_${String(database).padStart(this.#dbWidth, '0')}`;
  }

  /** Fully qualified, quoted name: `tradectl_07`.`orders_003`. */
  qualifiedTable(location: ShardLocation, kind: OrderTable): string {
    return `\`${location.databaseName}\`.\`${kind}_${location.tableSuffix}\``;
  }

  /** Every shard, database by database. */
  *all(): Generator<ShardLocation> {
    for (let database = 0; database < this.layout.databases; database++) {
      for (let table = 0; table < this.layout.tablesPerDatabase; table++)
        yield this.location(database, table);
    }
  }

  /** A stable key for grouping work by shard. */
  static key(location: ShardLocation): string {
    return `${location.database}/${location.table}`;
  }
}

function toUserId(value: string | number | bigint): bigint {
  if (typeof value === 'bigint') {
    if (value >= 0n) return value;
  } else if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  } else if (/^\d{1,19}$/.test(value)) {
    return BigInt(value);
  }
  throw new ValidationError('invalid user id', [
    { path: 'userId', message: `expected a non-negative integer, got ${JSON.stringify(String(value))}` },
  ]);
}
