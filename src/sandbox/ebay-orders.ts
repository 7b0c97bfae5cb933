import { parseEbayFilter } from './ebay-filter.js';
import { fulfillmentStatus, renderEbayOrder } from './ebay-render.js';
import { json, listParam, type Reply, type RequestContext } from './http.js';
import type { SimOrder } from './model.js';
import type { AccountState } from './state.js';

/**
 * eBay getOrders (offset pagination over the filtered window, sorted by the filtered date
 * ascending, then by creation) and getOrder. `total` counts the window as it is at the time of
 * the request, so orders changing between two pages shift the offsets, as they do on eBay.
 */
export function ebayError(
  status: number,
  errorId: number,
  message: string,
  extra: Record<string, unknown> = {},
): Reply {
  const domain = errorId < 10_000 ? 'ACCESS' : 'API_FULFILLMENT';
  return json(status, { errors: [{ errorId, domain, category: 'REQUEST', message, ...extra }] });
}

export function getOrders(ctx: RequestContext, account: AccountState): Reply {
  const q = ctx.query;
  const fieldGroups = q.get('fieldGroups');
  if (fieldGroups !== null && fieldGroups !== 'TAX_BREAKDOWN')
    return ebayError(400, 32800, `Invalid field group: ${fieldGroups}`);
  const href = `${ctx.origin}${ctx.target}`;
  const render = (order: SimOrder) =>
    renderEbayOrder(account.profile, order, order.visible!, { detail: false, origin: ctx.origin });

  if (q.has('orderIds')) {
    const ids = listParam(q, 'orderIds');
    if (ids.length > 50)
      return ebayError(400, 30900, 'Exceeded maximum number of order IDs (the current limit is 50)');
    const found = ids
      .map((id) => account.store.get(id))
      .filter((order): order is SimOrder => Boolean(order?.visible));
    const records = found.map(render);
    return {
      status: 200,
      body: { href, total: records.length, limit: 50, offset: 0, orders: records },
      records,
    };
  }

  const limitText = q.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 200) {
    return ebayError(400, 31100, `Invalid limit: ${limitText}`, {
      parameters: [{ name: 'limit', value: limitText }],
    });
  }
  const offsetText = q.get('offset') ?? '0';
  const offset = Number(offsetText);
  if (!/^\d+$/.test(offsetText)) return ebayError(400, 31000, `Invalid offset: ${offsetText}`);
  const filter = parseEbayFilter(q.get('filter'), ctx.now);
  if ('errorId' in filter)
    return ebayError(400, filter.errorId, filter.message, {
      parameters: [{ name: 'filter', value: filter.value }],
    });

  const { store } = account;
  const to = filter.to ?? Number.POSITIVE_INFINITY;
  const wanted = filter.fulfillment;
  let total: number;
  let page: SimOrder[];
  let ahead: SimOrder[] = [];
  if (filter.field === 'lastmodifieddate' && wanted === null) {
    // The common incremental call: a contiguous slice of the update index, no scan.
    const [start, end] = store.updatedRange(filter.from, to);
    total = end - start;
    page = [];
    for (let position = start + offset; position < Math.min(end, start + offset + limit); position++)
      page.push(store.updatedAt(position)!);
    for (
      let position = start + offset + limit;
      position < Math.min(end, start + offset + 2 * limit);
      position++
    )
      ahead.push(store.updatedAt(position)!);
  } else {
    const all: SimOrder[] = [];
    const keep = (order: SimOrder) =>
      wanted === null || wanted.includes(fulfillmentStatus(order, order.visible!));
    if (filter.field === 'lastmodifieddate') {
      const [start, end] = store.updatedRange(filter.from, to);
      for (let position = start; position < end; position++) {
        const order = store.updatedAt(position)!;
        if (keep(order)) all.push(order);
      }
    } else {
      for (
        let position = store.lowerBoundCreated(filter.from);
        position < store.byCreated.length;
        position++
      ) {
        const order = store.byCreated[position]!;
        if (order.createdAt > to) break;
        if (order.visible && keep(order)) all.push(order);
      }
    }
    total = all.length;
    page = all.slice(offset, offset + limit);
    ahead = all.slice(offset + limit, offset + 2 * limit);
  }

  const records = page.map(render);
  const link = (at: number) => {
    const params = new URLSearchParams(q);
    params.set('limit', String(limit));
    params.set('offset', String(at));
    return `${ctx.origin}${ctx.path}?${params.toString()}`;
  };
  const body: Record<string, unknown> = { href, total, limit, offset, orders: records };
  if (offset > 0) body.prev = link(Math.max(0, offset - limit));
  const hasNext = offset + limit < total;
  if (hasNext) body.next = link(offset + limit);
  return { status: 200, body, records, mutationCandidates: hasNext ? [...page, ...ahead] : undefined };
}

export function getOrder(ctx: RequestContext, account: AccountState): Reply {
  const fieldGroups = ctx.query.get('fieldGroups');
  if (fieldGroups !== null && fieldGroups !== 'TAX_BREAKDOWN')
    return ebayError(400, 32800, `Invalid field group: ${fieldGroups}`);
  const order = account.store.get(ctx.params.orderId!);
  if (!order?.visible) return ebayError(404, 32100, `Invalid order ID: ${ctx.params.orderId}`);
  const record = renderEbayOrder(account.profile, order, order.visible, { detail: true, origin: ctx.origin });
  return { status: 200, body: record, records: [record] };
}
