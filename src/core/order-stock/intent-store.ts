import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { classifyMysqlError } from '../mysql-errors.js';
import type { MysqlPools } from '../mysql-pools.js';
import type { SqlStatement } from '../order-store-sql.js';
import type { ShardRouter } from '../shard-router.js';
import type { Instant } from '../time.js';
import { type IntentRow, intentFromRow } from './intent-rows.js';
import { intentsTable, issuesTable } from './intent-schema.js';
import {
  finishFullDeductsSql,
  insertIssuesSql,
  type MarketplaceOrderKey,
  type OrderStockIssue,
  persistTargetsSql,
  selectDeductsSql,
  selectDueSql,
  selectPendingOfOrdersSql,
  writeOutcomesSql,
} from './intent-sql.js';

/**
 * The drainer's reads and writes of the outbox, one shard database at a time (each statement
 * autocommits: every write is idempotent and guarded by the row's status, so no transaction is
 * held across the Redis calls in between).
 */
export class IntentStore {
  readonly #pools: MysqlPools;
  readonly #router: ShardRouter;
  readonly #chunk: number;

  constructor(options: { pools: MysqlPools; router: ShardRouter; maxRowsPerStatement?: number }) {
    this.#pools = options.pools;
    this.#router = options.router;
    this.#chunk = options.maxRowsPerStatement ?? 1000;
  }

  pendingOfOrders(database: number, orders: readonly MarketplaceOrderKey[]): Promise<IntentRow[]> {
    return this.#selectChunked(database, orders, (table, part) => selectPendingOfOrdersSql(table, part));
  }

  async due(database: number, now: Instant, limit: number): Promise<IntentRow[]> {
    return this.#select(database, selectDueSql(intentsTable(this.#router, database), now, limit));
  }

  deductsOf(database: number, lines: readonly { orderId: string; lineId: string }[]): Promise<IntentRow[]> {
    return this.#selectChunked(database, lines, (table, part) => selectDeductsSql(table, part));
  }

  /**
   * Persists the target of each row (first resolution wins) and returns the targets now stored:
   * the rows as given when every one was this call's, else as read back.
   */
  async persistTargets(database: number, rows: readonly IntentRow[]): Promise<IntentRow[]> {
    const table = intentsTable(this.#router, database);
    let mine = true;
    for (const part of this.#parts(rows)) {
      const header = await this.#write(
        database,
        persistTargetsSql(table, part),
        'persist stock intent targets',
      );
      // ON DUPLICATE KEY UPDATE counts 2 per changed row and (with CLIENT_FOUND_ROWS, which
      // mysql2 sets) 1 per row left as it was: anything short of 2 each means another drainer
      // resolved some rows first, and its targets are the ones that count.
      if (header.affectedRows !== 2 * part.length) mine = false;
    }
    if (mine) return [...rows];
    const stored = await this.deductsOf(database, rows);
    const byKey = new Map(stored.map((row) => [`${row.orderId}\u0000${row.lineId}`, row]));
    return rows.flatMap((row) => {
      const found = byKey.get(`${row.orderId}\u0000${row.lineId}`);
      return found && found.status === 'pending' && found.tenant !== null ? [found] : [];
    });
  }

  /**
   * Writes the drainer's outcomes. Deducts that took all they asked (nearly all of them) by one
   * UPDATE per tenant with their keys; the rest as whole rows.
   */
  async writeOutcomes(database: number, rows: readonly IntentRow[]): Promise<void> {
    const table = intentsTable(this.#router, database);
    const full = new Map<string, IntentRow[]>();
    const others: IntentRow[] = [];
    for (const row of rows) {
      if (!isFullDeduct(row)) {
        others.push(row);
        continue;
      }
      const group = `${row.tenant}\u0000${row.updatedAt}`;
      const members = full.get(group);
      if (members) members.push(row);
      else full.set(group, [row]);
    }
    for (const group of full.values()) {
      const { tenant, updatedAt } = group[0]!;
      for (const part of this.#parts(group)) {
        const statement = finishFullDeductsSql(table, tenant!, part, updatedAt);
        await this.#write(database, statement, 'write stock intent outcomes');
      }
    }
    for (const part of this.#parts(others)) {
      await this.#write(database, writeOutcomesSql(table, part), 'write stock intent outcomes');
    }
  }

  async insertIssues(issues: readonly OrderStockIssue[]): Promise<void> {
    const table = issuesTable(this.#router);
    for (const part of this.#parts(issues)) {
      try {
        const statement = insertIssuesSql(table, part);
        await this.#pools.meta().query(statement.sql, statement.values);
      } catch (error) {
        throw classifyMysqlError(error, 'record order stock issues', { issues: part.length });
      }
    }
  }

  #parts<T>(items: readonly T[]): T[][] {
    const out: T[][] = [];
    for (let at = 0; at < items.length; at += this.#chunk) out.push(items.slice(at, at + this.#chunk));
    return out;
  }

  async #selectChunked<T>(
    database: number,
    keys: readonly T[],
    build: (table: string, part: T[]) => SqlStatement,
  ): Promise<IntentRow[]> {
    const table = intentsTable(this.#router, database);
    const rows: IntentRow[] = [];
    for (const part of this.#parts(keys)) rows.push(...(await this.#select(database, build(table, part))));
    return rows;
  }

  async #select(database: number, statement: SqlStatement): Promise<IntentRow[]> {
    try {
      const [rows] = await this.#pool(database).query<RowDataPacket[]>(statement.sql, statement.values);
      return rows.map(intentFromRow);
    } catch (error) {
      throw classifyMysqlError(error, 'read stock intents', {
        database: this.#router.databaseName(database),
      });
    }
  }

  async #write(database: number, statement: SqlStatement, operation: string): Promise<ResultSetHeader> {
    try {
      const [header] = await this.#pool(database).query<ResultSetHeader>(statement.sql, statement.values);
      return header;
    } catch (error) {
      throw classifyMysqlError(error, operation, { database: this.#router.databaseName(database) });
    }
  }

  #pool(database: number): Pool {
    return this.#pools.forDatabase(database);
  }
}

/** A deduct applied in full, as `finishFullDeductsSql` writes it: nothing else to record. */
function isFullDeduct(row: IntentRow): boolean {
  return (
    row.kind === 'deduct' &&
    row.status === 'applied' &&
    row.tenant !== null &&
    row.shortfall === 0 &&
    row.appliedQuantity === row.quantity &&
    row.lastError === null
  );
}
