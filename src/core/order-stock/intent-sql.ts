import { columnList, multiRowInsert, type SqlStatement } from '../order-store-sql.js';
import { type Instant, toSqlDateTime } from '../time.js';
import { INTENT_COLUMNS, type IntentRow, intentValues, type ReleaseSelection } from './intent-rows.js';

/**
 * The SQL of the order stock outbox, built by pure functions (table-tested). Table names come
 * in qualified from intent-schema.ts; values are bound.
 */

// Intents are found by the marketplace order (the unique key's prefix), never by order id: an
// order re-stored under a new id has its lines' intents under the id that first wrote them.
const ORDER_IDENTITY = '`platform` = ? AND `account` = ? AND `platform_order_id` = ?';

// A new intent's columns, through its target (`tenant`, `sku`: NULL until resolved); the rest
// start at their defaults (NULL, attempts 0). Fewer values per row: this statement runs in every
// shard transaction that stores new orders.
const NEW_INTENT_COLUMNS = INTENT_COLUMNS.slice(0, 12).concat([
  'next_attempt_at',
  'created_at',
  'updated_at',
  'operation_key',
]);

/**
 * New pending intents; an existing intent of the same marketplace line and kind is left as it
 * is, also one written under another order id (the table's unique key on the line).
 */
export function insertIntentsSql(table: string, rows: readonly IntentRow[]): SqlStatement {
  const values = rows.map((row) => {
    const all = intentValues(row);
    return [...all.slice(0, 12), ...all.slice(-4)];
  });
  return multiRowInsert(table, NEW_INTENT_COLUMNS, values, { ignore: true });
}

/**
 * Release intents copied from the deduct intents of the selected orders, except the lines each
 * selection keeps. Runs in the upsert's transaction, after the deduct intents of the same
 * versions were inserted, so it sees every line that ever got a deduct intent (also lines the
 * new version no longer lists, and lines deducted under an earlier id of the order). A release
 * copies its deduct's order id and operation key. INSERT IGNORE: a line is released at most once.
 */
export function insertReleasesSql(
  table: string,
  selections: readonly ReleaseSelection[],
  times: { now: Instant; dueAt: Instant },
): SqlStatement {
  if (selections.length === 0) throw new RangeError('insertReleasesSql needs at least one order');
  const copied = INTENT_COLUMNS.map((column) => {
    switch (column) {
      case 'kind':
        return `'release'`;
      case 'status':
        return `'pending'`;
      case 'tenant':
      case 'sku':
      case 'applied_quantity':
      case 'shortfall':
      case 'last_error':
        return 'NULL';
      case 'attempts':
        return '0';
      case 'next_attempt_at':
      case 'created_at':
      case 'updated_at':
        return '?';
      default:
        return `\`${column}\``;
    }
  });
  const conditions: string[] = [];
  const values: unknown[] = [toSqlDateTime(times.dueAt), toSqlDateTime(times.now), toSqlDateTime(times.now)];
  for (const selection of selections) {
    const order = [selection.platform, selection.account, selection.platformOrderId];
    if (selection.keep.length === 0) {
      conditions.push(`(${ORDER_IDENTITY})`);
      values.push(...order);
    } else {
      conditions.push(`(${ORDER_IDENTITY} AND \`line_id\` NOT IN (?))`);
      values.push(...order, selection.keep);
    }
  }
  return {
    sql:
      `INSERT IGNORE INTO ${table} (${columnList(INTENT_COLUMNS)}) SELECT ${copied.join(', ')} ` +
      `FROM ${table} WHERE \`kind\` = 'deduct' AND (${conditions.join(' OR ')})`,
    values,
  };
}

const SELECT = `SELECT ${columnList(INTENT_COLUMNS)} FROM`;

/** A marketplace order: the leading columns of the intents' unique key. */
export interface MarketplaceOrderKey {
  platform: string;
  account: string;
  platformOrderId: string;
}

/** Every intent of some marketplace orders, whatever order id wrote them (a layout move copies them). */
export function selectOfOrdersSql(table: string, orders: readonly MarketplaceOrderKey[]): SqlStatement {
  if (orders.length === 0) throw new RangeError('selectOfOrdersSql needs at least one order');
  return {
    sql: `${SELECT} ${table} WHERE (\`platform\`, \`account\`, \`platform_order_id\`) IN (?)`,
    values: [orders.map((order) => [order.platform, order.account, order.platformOrderId])],
  };
}

/**
 * Pending intents of some marketplace orders (the sink's own batch, right after its commit),
 * whatever order id wrote them.
 */
export function selectPendingOfOrdersSql(
  table: string,
  orders: readonly MarketplaceOrderKey[],
): SqlStatement {
  if (orders.length === 0) throw new RangeError('selectPendingOfOrdersSql needs at least one order');
  const all = selectOfOrdersSql(table, orders);
  return { sql: `${all.sql} AND \`status\` = 'pending'`, values: all.values };
}

/** Pending intents whose time has come, oldest first (the sweep). */
export function selectDueSql(table: string, now: Instant, limit: number): SqlStatement {
  return {
    sql: `${SELECT} ${table} WHERE \`status\` = 'pending' AND \`next_attempt_at\` <= ? ORDER BY \`next_attempt_at\` LIMIT ?`,
    values: [toSqlDateTime(now), limit],
  };
}

/** The deduct intents of some lines (what their releases depend on). */
export function selectDeductsSql(
  table: string,
  lines: readonly { orderId: string; lineId: string }[],
): SqlStatement {
  if (lines.length === 0) throw new RangeError('selectDeductsSql needs at least one line');
  return {
    sql: `${SELECT} ${table} WHERE \`kind\` = 'deduct' AND (\`order_id\`, \`line_id\`) IN (?)`,
    values: [lines.map((line) => [line.orderId, line.lineId])],
  };
}

// The first resolution wins: a row that has a target keeps it, so a mapping changed meanwhile
// can never point a retry of the same operation at another SKU. `tenant` is assigned last
// because every condition reads the row's old value (assignments see the ones before them).
const UNRESOLVED = "`tenant` IS NULL AND `status` = 'pending'";

/**
 * Whole intent rows, upserted: a missing row is inserted, an existing one takes `assigned` only
 * where `condition` holds. MySQL assigns left to right and later conditions see earlier
 * assignments, so the columns the condition reads come last in `assigned`.
 */
export function guardedIntentUpsertSql(
  table: string,
  rows: readonly IntentRow[],
  assigned: readonly string[],
  condition: string,
): SqlStatement {
  const assignments = assigned.map(
    (column) => `\`${column}\` = IF(${condition}, VALUES(\`${column}\`), \`${column}\`)`,
  );
  return {
    sql: `INSERT INTO ${table} (${columnList(INTENT_COLUMNS)}) VALUES ? ON DUPLICATE KEY UPDATE ${assignments.join(', ')}`,
    values: [rows.map(intentValues)],
  };
}

/** Persists the internal SKU each pending deduct resolved to, unless one is there already. */
export function persistTargetsSql(table: string, rows: readonly IntentRow[]): SqlStatement {
  if (rows.length === 0) throw new RangeError('persistTargetsSql needs at least one row');
  return guardedIntentUpsertSql(table, rows, ['sku', 'updated_at', 'tenant'], UNRESOLVED);
}

// An outcome lands only on a row still pending, and for a deduct only if its target is the one
// the outcome was computed for (NULL for `unmapped`): a drainer that resolved a line as
// unmapped while another one persisted a mapping and deducts changes nothing. `status` is
// assigned last, after `tenant`, which then equals what the condition compared.
const MAY_FINALIZE = "`status` = 'pending' AND (`kind` = 'release' OR VALUES(`tenant`) <=> `tenant`)";
const OUTCOME_COLUMNS = [
  'sku',
  'applied_quantity',
  'shortfall',
  'attempts',
  'last_error',
  'next_attempt_at',
  'updated_at',
  'tenant',
  'status',
] as const;

/** Writes the drainer's outcomes: a final status, or a failed attempt with its next time. */
export function writeOutcomesSql(table: string, rows: readonly IntentRow[]): SqlStatement {
  if (rows.length === 0) throw new RangeError('writeOutcomesSql needs at least one row');
  return guardedIntentUpsertSql(table, rows, OUTCOME_COLUMNS, MAY_FINALIZE);
}

/**
 * Deducts of one tenant that took all they asked, finalized by their keys alone (two values a
 * row, not a whole row of twenty: the common outcome, once per sold line). Same guard as
 * `writeOutcomesSql`: only rows still pending and resolved to this tenant; `applied_quantity` is
 * the row's own quantity, which is what such a deduct took.
 */
export function finishFullDeductsSql(
  table: string,
  tenant: string,
  lines: readonly { orderId: string; lineId: string }[],
  updatedAt: Instant,
): SqlStatement {
  if (lines.length === 0) throw new RangeError('finishFullDeductsSql needs at least one line');
  return {
    sql:
      `UPDATE ${table} SET \`applied_quantity\` = \`quantity\`, \`shortfall\` = 0, \`last_error\` = NULL, ` +
      `\`updated_at\` = ?, \`status\` = 'applied' WHERE \`kind\` = 'deduct' AND \`status\` = 'pending' ` +
      'AND `tenant` = ? AND (`order_id`, `line_id`) IN (?)',
    values: [toSqlDateTime(updatedAt), tenant, lines.map((line) => [line.orderId, line.lineId])],
  };
}

export type IssueKind = 'unmapped' | 'oversold' | 'unknown_sku';

export interface OrderStockIssue {
  orderId: string;
  lineId: string;
  kind: IssueKind;
  platform: string;
  account: string;
  platformOrderId: string;
  channelSku: string | null;
  listingId: string | null;
  tenant: string | null;
  sku: string | null;
  requested: number;
  deducted: number;
  shortfall: number;
  detail: string;
  createdAt: Instant;
}

export const ISSUE_COLUMNS = [
  'order_id',
  'line_id',
  'kind',
  'platform',
  'account',
  'platform_order_id',
  'channel_sku',
  'listing_id',
  'tenant',
  'sku',
  'requested',
  'deducted',
  'shortfall',
  'detail',
  'created_at',
] as const;

/** Issue rows; INSERT IGNORE: a retried outcome reports its line once. */
export function insertIssuesSql(table: string, issues: readonly OrderStockIssue[]): SqlStatement {
  return multiRowInsert(
    table,
    ISSUE_COLUMNS,
    issues.map((issue) => [
      issue.orderId,
      issue.lineId,
      issue.kind,
      issue.platform,
      issue.account,
      issue.platformOrderId,
      issue.channelSku,
      issue.listingId,
      issue.tenant,
      issue.sku,
      issue.requested,
      issue.deducted,
      issue.shortfall,
      issue.detail.slice(0, 500),
      toSqlDateTime(issue.createdAt),
    ]),
    { ignore: true },
  );
}
