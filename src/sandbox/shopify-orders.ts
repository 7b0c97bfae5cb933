import { json, listParam, parseTime, type Reply, type RequestContext } from './http.js';
import type { SimOrder } from './model.js';
import { fulfillmentStatus, renderShopifyOrder } from './shopify-render.js';
import type { AccountState } from './state.js';

/**
 * Shopify REST `orders.json` listing with cursor pagination. The first request's filters are
 * frozen into the opaque `page_info` (base64url JSON with the sort key of the last row served);
 * a request carrying page_info may add only `limit` and `fields`, as Shopify enforces.
 */
type SortField = 'updated_at' | 'created_at' | 'id';

interface Filters {
  status: 'open' | 'closed' | 'cancelled' | 'any';
  updatedMin: number | null;
  updatedMax: number | null;
  createdMin: number | null;
  createdMax: number | null;
  financial: string | null;
  fulfillment: string | null;
  ids: string[] | null;
  sinceId: number | null;
  sort: SortField;
  dir: 1 | -1;
}

interface Cursor {
  f: Filters;
  /** [sort value, seq] of the row the page continues from. */
  k: [number, number];
  /** 'next' continues in sort order; 'prev' goes back towards the start. */
  d: 'next' | 'prev';
}

const PAGE_INFO_PARAMS = new Set(['page_info', 'limit', 'fields']);
const FINANCIAL = [
  'authorized',
  'pending',
  'paid',
  'partially_paid',
  'refunded',
  'voided',
  'partially_refunded',
  'unpaid',
  'any',
];
const FULFILLMENT = ['shipped', 'partial', 'unshipped', 'unfulfilled', 'any'];

export function listOrders(ctx: RequestContext, account: AccountState, version: string): Reply {
  const limitText = ctx.query.get('limit');
  const limit = limitText && /^\d+$/.test(limitText) ? Math.min(250, Math.max(1, Number(limitText))) : 50;
  const fields = listParam(ctx.query, 'fields');
  let filters: Filters;
  let cursor: Cursor | null = null;
  const pageInfo = ctx.query.get('page_info');
  if (pageInfo !== null) {
    const extra = [...new Set(ctx.query.keys())].find((name) => !PAGE_INFO_PARAMS.has(name));
    if (extra) {
      return json(400, {
        errors: {
          [extra]: `${extra} cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest for more information.`,
        },
      });
    }
    cursor = decodeCursor(pageInfo);
    if (!cursor) return json(400, { errors: { page_info: 'Invalid value.' } });
    filters = cursor.f;
  } else {
    const parsed = parseFilters(ctx.query);
    if ('error' in parsed) return json(400, { errors: parsed.error });
    filters = parsed;
  }

  const forward = cursor?.d !== 'prev';
  const rows = scan(account, filters, cursor?.k ?? null, forward, limit + 1);
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (!forward) page.reverse();
  const links: string[] = [];
  const link = (row: SimOrder, d: Cursor['d'], rel: string) => {
    const token = encodeCursor({ f: filters, k: [sortValue(row, filters.sort), row.seq], d });
    const extra = fields.length > 0 ? `&fields=${encodeURIComponent(fields.join(','))}` : '';
    links.push(
      `<${ctx.origin}/admin/api/${version}/orders.json?limit=${limit}${extra}&page_info=${token}>; rel="${rel}"`,
    );
  };
  const hasPrevious = forward ? cursor !== null : more;
  const hasNext = forward ? more : true;
  if (page.length > 0 && hasPrevious) link(page[0]!, 'prev', 'previous');
  if (page.length > 0 && hasNext) link(page[page.length - 1]!, 'next', 'next');
  const records = page.map((order) =>
    pick(renderShopifyOrder(account.profile, order, order.visible!), fields),
  );
  return {
    status: 200,
    body: { orders: records },
    headers: links.length > 0 ? { link: links.join(', ') } : {},
    records,
    mutationCandidates: hasNext ? rows : undefined,
  };
}

export function countOrders(ctx: RequestContext, account: AccountState): Reply {
  const parsed = parseFilters(ctx.query);
  if ('error' in parsed) return json(400, { errors: parsed.error });
  return json(200, { count: scan(account, parsed, null, true, Number.POSITIVE_INFINITY).length });
}

/** Keeps only the requested top-level fields (`fields=id,updated_at`). */
export function pick(record: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  if (fields.length === 0) return record;
  return Object.fromEntries(fields.filter((name) => name in record).map((name) => [name, record[name]]));
}

function parseFilters(query: URLSearchParams): Filters | { error: Record<string, string> } {
  const status = query.get('status') ?? 'open';
  if (!['open', 'closed', 'cancelled', 'any'].includes(status))
    return { error: { status: `"${status}" is not a valid status` } };
  const times: Record<string, number | null> = {};
  for (const name of ['updated_at_min', 'updated_at_max', 'created_at_min', 'created_at_max']) {
    const text = query.get(name);
    times[name] = text === null ? null : parseTime(text);
    if (text !== null && times[name] === null)
      return { error: { [name]: `"${text}" is not an ISO 8601 time` } };
  }
  const financial = query.get('financial_status');
  if (financial !== null && !FINANCIAL.includes(financial))
    return { error: { financial_status: 'is invalid' } };
  const fulfillment = query.get('fulfillment_status');
  if (fulfillment !== null && !FULFILLMENT.includes(fulfillment))
    return { error: { fulfillment_status: 'is invalid' } };
  const sinceId = query.get('since_id');
  // The sandbox sorts by updated_at, created_at or id; Shopify's own default is newest first.
  const order = (query.get('order') ?? (sinceId ? 'id asc' : 'created_at desc')).trim().split(/\s+/);
  const [field = '', direction = 'asc'] = order;
  if (
    !['updated_at', 'created_at', 'id'].includes(field) ||
    !['asc', 'desc'].includes(direction.toLowerCase())
  ) {
    return { error: { order: 'the sandbox sorts by updated_at, created_at or id, asc or desc' } };
  }
  return {
    status: status as Filters['status'],
    updatedMin: times.updated_at_min!,
    updatedMax: times.updated_at_max!,
    createdMin: times.created_at_min!,
    createdMax: times.created_at_max!,
    financial: financial === 'any' ? null : financial,
    fulfillment: fulfillment === 'any' ? null : fulfillment,
    ids: query.has('ids') ? listParam(query, 'ids') : null,
    sinceId: sinceId !== null && /^\d+$/.test(sinceId) ? Number(sinceId) : null,
    sort: field as SortField,
    dir: direction.toLowerCase() === 'desc' ? -1 : 1,
  };
}

function sortValue(order: SimOrder, sort: SortField): number {
  if (sort === 'updated_at') return order.visible!.updatedAt;
  return sort === 'created_at' ? order.createdAt : order.seq;
}

/** Walks the matching index from the cursor, collecting up to `take` rows that pass the filters. */
function scan(
  account: AccountState,
  f: Filters,
  after: [number, number] | null,
  forward: boolean,
  take: number,
): SimOrder[] {
  const step = (forward ? f.dir : -f.dir) as 1 | -1;
  const store = account.store;
  const byUpdated = f.sort === 'updated_at';
  const size = byUpdated ? store.visibleCount : store.byCreated.length;
  const at = (position: number) => (byUpdated ? store.updatedAt(position)! : store.byCreated[position]!);
  const bound = (value: number, seq: number) =>
    byUpdated
      ? store.lowerBoundUpdated(value, seq)
      : f.sort === 'created_at'
        ? store.lowerBoundCreated(value, seq)
        : seq - 1;
  const [low, high] = byUpdated
    ? [f.updatedMin, f.updatedMax]
    : f.sort === 'created_at'
      ? [f.createdMin, f.createdMax]
      : [null, null];
  let position: number;
  if (after) position = step === 1 ? bound(after[0], after[1] + 1) : bound(after[0], after[1]) - 1;
  else if (step === 1) position = low === null ? 0 : bound(low, 0);
  else position = high === null ? size - 1 : bound(high + 1, 0) - 1;
  const out: SimOrder[] = [];
  for (; position >= 0 && position < size && out.length < take; position += step) {
    const order = at(position);
    const value = sortValue(order, f.sort);
    if ((step === 1 && high !== null && value > high) || (step === -1 && low !== null && value < low)) break;
    if (matches(order, f)) out.push(order);
  }
  return out;
}

function matches(order: SimOrder, f: Filters): boolean {
  const version = order.visible;
  if (!version) return false;
  if (f.updatedMin !== null && version.updatedAt < f.updatedMin) return false;
  if (f.updatedMax !== null && version.updatedAt > f.updatedMax) return false;
  if (f.createdMin !== null && order.createdAt < f.createdMin) return false;
  if (f.createdMax !== null && order.createdAt > f.createdMax) return false;
  if (f.ids && !f.ids.includes(order.id)) return false;
  if (f.sinceId !== null && Number(order.id) <= f.sinceId) return false;
  const closed = version.closedAt !== null || version.cancelledAt !== null;
  if (f.status === 'open' && closed) return false;
  if (f.status === 'closed' && !closed) return false;
  if (f.status === 'cancelled' && version.cancelledAt === null) return false;
  if (f.financial !== null) {
    const wanted = f.financial === 'unpaid' ? ['pending', 'authorized'] : [f.financial];
    if (!wanted.includes(version.payment)) return false;
  }
  if (f.fulfillment !== null) {
    const status = fulfillmentStatus(order, version);
    const ok =
      f.fulfillment === 'shipped'
        ? status === 'fulfilled'
        : f.fulfillment === 'partial'
          ? status === 'partial'
          : f.fulfillment === 'unshipped'
            ? status === null
            : status !== 'fulfilled';
    if (!ok) return false;
  }
  return true;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor | null {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    const valid =
      cursor &&
      typeof cursor.f === 'object' &&
      Array.isArray(cursor.k) &&
      cursor.k.every((value) => Number.isFinite(value)) &&
      (cursor.d === 'next' || cursor.d === 'prev');
    return valid ? cursor : null;
  } catch {
    return null;
  }
}
