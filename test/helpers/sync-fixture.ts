import type { RowDataPacket } from 'mysql2/promise';
import { mapAmazonPage } from '../../src/adapters/amazon/mapper.js';
import { mapEbayPage } from '../../src/adapters/ebay/mapper.js';
import { mapShopifyPage } from '../../src/adapters/shopify/mapper.js';
import type { AccountConfig } from '../../src/core/config.js';
import type { MysqlPools } from '../../src/core/mysql-pools.js';
import type { UnifiedOrder } from '../../src/core/order.js';
import { orderFromRows, type StoredOrder } from '../../src/core/order-rows.js';
import type { OrderStore } from '../../src/core/order-store.js';
import { selectLinesSql, selectOrderSql } from '../../src/core/order-store-sql.js';
import type { ShardRouter } from '../../src/core/shard-router.js';
import type { Clock, Sandbox, SandboxPlatform } from '../../src/sandbox/index.js';

/**
 * Pieces of the sync end-to-end tests: a clock both the sandbox and tradectl read, the config
 * accounts of a sandbox, and the comparison of the sharded store with the sandbox's ground truth.
 */

/**
 * Real time plus an offset that only grows. Rate limits and timeouts keep working at real speed;
 * `advance` lets a test jump past safety lags and late-visibility delays without waiting.
 */
export class ShiftedClock implements Clock {
  #offset = 0;
  readonly now = (): number => Date.now() + this.#offset;
  advance(ms: number): void {
    this.#offset += ms;
  }
}

/** Config entries for every account of the sandbox; user ids spread the accounts over the shards. */
export function sandboxAccounts(
  sandbox: Sandbox,
  extra: (platform: SandboxPlatform) => Record<string, unknown> = () => ({}),
): Record<string, unknown>[] {
  return sandbox.accounts.map((account, index) => ({
    platform: account.platform,
    id: account.account,
    userId: String(1000 + index * 9),
    baseUrl: account.baseUrl,
    ...(account.tokenUrl ? { tokenUrl: account.tokenUrl } : {}),
    credentials: account.credentials,
    options:
      account.platform === 'amazon'
        ? { marketplaceIds: [account.marketplaceId] }
        : account.platform === 'ebay'
          ? { marketplaceId: account.marketplaceId }
          : { shopDomain: account.shopDomain },
    ...extra(account.platform),
  }));
}

/** The sandbox's newest state of every order of an account, mapped by the account's own mapper. */
export function expectedOrders(sandbox: Sandbox, account: AccountConfig): UnifiedOrder[] {
  const records = sandbox.groundTruth(account.platform as SandboxPlatform, account.id);
  const context = { account: account.id, userId: account.userId };
  const page =
    account.platform === 'shopify'
      ? mapShopifyPage(records, { ...context, shopDomain: String(account.options.shopDomain) })
      : account.platform === 'amazon'
        ? mapAmazonPage(records, context)
        : mapEbayPage(records, context);
  if (page.rejected.length > 0) {
    throw new Error(
      `ground truth of ${account.platform}:${account.id} does not map: ${page.rejected[0]!.error.message}`,
    );
  }
  return page.orders;
}

export interface Comparison {
  expected: number;
  /** Orders missing from the store, stored with any field different, or stored without being expected. */
  mismatches: string[];
  /** Rows of the accounts in the store. */
  stored: number;
}

/**
 * Every stored order of each account read back in full (orders joined with details, and the
 * lines; the same row mapping the store's reads use) and compared field by field with the
 * expected order: totals, lines, address, times. A sample also goes through getByPlatformKey,
 * the store's own read path.
 */
export async function compareWithGroundTruth(input: {
  sandbox: Sandbox;
  accounts: readonly AccountConfig[];
  store: Pick<OrderStore, 'getByPlatformKey'>;
  pools: MysqlPools;
  router: ShardRouter;
  /** Orders per account also read through getByPlatformKey. Default 25. */
  sample?: number;
}): Promise<Comparison> {
  const result: Comparison = { expected: 0, mismatches: [], stored: 0 };
  for (const account of input.accounts) {
    const expected = expectedOrders(input.sandbox, account);
    result.expected += expected.length;
    const stored = await readAccount(input.pools, input.router, account);
    result.stored += stored.size;
    for (const order of expected) {
      const where = `${order.platform}:${order.account}:${order.platformOrderId}`;
      const found = stored.get(order.platformOrderId);
      stored.delete(order.platformOrderId);
      if (found === undefined) result.mismatches.push(`${where}: missing`);
      else if (!sameOrder(found, order)) {
        result.mismatches.push(`${where}: stored ${JSON.stringify(found)} expected ${JSON.stringify(order)}`);
      }
    }
    for (const extra of stored.keys())
      result.mismatches.push(`${account.platform}:${account.id}:${extra}: not expected`);
    for (const order of expected.slice(0, input.sample ?? 25)) {
      const read = await input.store.getByPlatformKey(order);
      if (read === null || !sameOrder(read, order)) {
        result.mismatches.push(
          `${order.platform}:${order.account}:${order.platformOrderId}: getByPlatformKey differs`,
        );
      }
    }
  }
  return result;
}

async function readAccount(
  pools: MysqlPools,
  router: ShardRouter,
  account: AccountConfig,
): Promise<Map<string, StoredOrder>> {
  const location = router.route(account.userId);
  const pool = pools.forDatabase(location.database);
  const orders = router.qualifiedTable(location, 'orders');
  const byKey = selectOrderSql(orders, router.qualifiedTable(location, 'order_details'), { id: '0' }).sql;
  const [rows] = await pool.query<RowDataPacket[]>(
    `${byKey.slice(0, byKey.lastIndexOf(' WHERE '))} WHERE o.\`platform\` = ? AND o.\`account\` = ?`,
    [account.platform, account.id],
  );
  const byLine = selectLinesSql(router.qualifiedTable(location, 'order_lines'), '0').sql;
  const [lineRows] = await pool.query<RowDataPacket[]>(
    `${byLine.slice(0, byLine.lastIndexOf(' WHERE '))} WHERE \`order_id\` IN ` +
      `(SELECT \`id\` FROM ${orders} WHERE \`platform\` = ? AND \`account\` = ?) ORDER BY \`order_id\`, \`line_no\`, \`line_id\``,
    [account.platform, account.id],
  );
  const linesOf = new Map<string, RowDataPacket[]>();
  for (const line of lineRows) {
    const id = String(line.order_id);
    const list = linesOf.get(id);
    if (list) list.push(line);
    else linesOf.set(id, [line]);
  }
  return new Map(
    rows.map((row) => [String(row.platform_order_id), orderFromRows(row, linesOf.get(String(row.id)) ?? [])]),
  );
}

function sameOrder(stored: StoredOrder, expected: UnifiedOrder): boolean {
  const { id: _id, storedAt: _storedAt, ...unified } = stored;
  return JSON.stringify(canonical(unified)) === JSON.stringify(canonical(expected));
}

/** Keys sorted at every level, so field order never decides equality. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, item]) => [key, canonical(item)]),
    );
  }
  return value;
}
