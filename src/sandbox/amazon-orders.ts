import {
  amazonStatus,
  amazonTime,
  FULFILLMENT_STATUSES,
  INCLUDED_DATA,
  renderAmazonOrder,
} from './amazon-render.js';
import { json, listParam, parseTime, type Reply, type RequestContext } from './http.js';
import type { SimOrder } from './model.js';
import type { AccountState } from './state.js';

/**
 * `searchOrders` and `getOrder` of SP-API Orders 2026-01-01. The pagination token carries the
 * request's filters, its effective upper bound and the last row served; like Amazon's it is
 * standard base64 that always contains `+`, `/` and `=`, so a client that forgets to
 * percent-encode it gets 400 "could not decode".
 */
interface Search {
  mode: 'updated' | 'created';
  after: number;
  before: number;
  statuses: string[];
  marketplaces: string[];
  fulfilledBy: string[];
  /** [sort value, seq] of the last row served. */
  k: [number, number] | null;
  /** Issued at (ms): tokens live 24 hours. */
  t: number;
}

export const DECODE_ERROR =
  'We could not decode your NextToken. Possible reasons include: a transmission error, improper quoting or a truncation problem.';
const TOKEN_PREFIX = Buffer.from([0xfb, 0xef, 0xff]);
const FILTER_PARAMS = [
  'createdAfter',
  'createdBefore',
  'lastUpdatedAfter',
  'lastUpdatedBefore',
  'fulfillmentStatuses',
  'marketplaceIds',
  'fulfilledBy',
];

export function invalidInput(message: string, details = ''): Reply {
  return json(400, { errors: [{ code: 'InvalidInput', message, details }] });
}

function includedData(query: URLSearchParams): Set<string> | Reply {
  const values = listParam(query, 'includedData');
  const unknown = values.find((value) => !(INCLUDED_DATA as readonly string[]).includes(value));
  if (unknown) return invalidInput(`Invalid includedData value: ${unknown}`);
  return new Set(values);
}

export function searchOrders(ctx: RequestContext, account: AccountState, beforeLagMs: number): Reply {
  const included = includedData(ctx.query);
  if (!(included instanceof Set)) return included;
  const maxText = ctx.query.get('maxResultsPerPage') ?? '100';
  const max = Number(maxText);
  if (!/^\d+$/.test(maxText) || max < 1 || max > 100)
    return invalidInput('maxResultsPerPage must be between 1 and 100');
  const tokenText = ctx.query.get('paginationToken');
  let search: Search;
  if (tokenText !== null) {
    const decoded = decodeToken(tokenText);
    if (!decoded) return invalidInput(DECODE_ERROR);
    if (ctx.now - decoded.t > 86_400_000) return invalidInput('The paginationToken has expired.');
    const fresh = FILTER_PARAMS.some((name) => ctx.query.has(name)) ? parseSearch(ctx, beforeLagMs) : null;
    if (fresh && !('mode' in fresh)) return fresh;
    if (fresh && !sameFilters(fresh, decoded)) {
      return invalidInput(
        'The request parameters must be the same as those of the request that returned the paginationToken.',
      );
    }
    search = decoded;
  } else {
    const parsed = parseSearch(ctx, beforeLagMs);
    if (!('mode' in parsed)) return parsed;
    search = parsed;
  }

  const rows = scan(account, search, max + 1);
  const page = rows.slice(0, max);
  const records = page.map((order) => renderAmazonOrder(account.profile, order, order.visible!, included));
  const body: Record<string, unknown> = { orders: records };
  const last = page[page.length - 1];
  if (rows.length > max && last) {
    const k: [number, number] = [
      search.mode === 'updated' ? last.visible!.updatedAt : last.createdAt,
      last.seq,
    ];
    body.pagination = { nextToken: encodeToken({ ...search, k }) };
  }
  body[search.mode === 'updated' ? 'lastUpdatedBefore' : 'createdBefore'] = amazonTime(search.before);
  return { status: 200, body, records, mutationCandidates: rows.length > max ? rows : undefined };
}

export function getOrder(ctx: RequestContext, account: AccountState): Reply {
  const included = includedData(ctx.query);
  if (!(included instanceof Set)) return included;
  const order = account.store.get(ctx.params.orderId!);
  if (!order?.visible)
    return json(404, {
      errors: [{ code: 'NotFound', message: `Order ${ctx.params.orderId} was not found.`, details: '' }],
    });
  const record = renderAmazonOrder(account.profile, order, order.visible, included);
  return { status: 200, body: { order: record }, records: [record] };
}

function parseSearch(ctx: RequestContext, beforeLagMs: number): Search | Reply {
  const q = ctx.query;
  const times: Record<string, number | null> = {};
  for (const name of FILTER_PARAMS.slice(0, 4)) {
    const text = q.get(name);
    times[name] = text === null ? null : parseTime(text);
    if (text !== null && times[name] === null)
      return invalidInput(`Invalid date/time field [${name}]: "${text}" is not ISO 8601`);
  }
  const created = times.createdAfter !== null || times.createdBefore !== null;
  const updated = times.lastUpdatedAfter !== null || times.lastUpdatedBefore !== null;
  if (created && updated)
    return invalidInput(
      'createdAfter/createdBefore cannot be combined with lastUpdatedAfter/lastUpdatedBefore.',
    );
  const mode = created ? 'created' : 'updated';
  const after = (created ? times.createdAfter : times.lastUpdatedAfter) ?? null;
  if (after === null)
    return invalidInput('Exactly one of createdAfter and lastUpdatedAfter must be provided.');
  const latest = ctx.now - beforeLagMs;
  const beforeName = created ? 'createdBefore' : 'lastUpdatedBefore';
  const given = times[beforeName] ?? null;
  if (given !== null && given > latest) {
    return invalidInput(
      `${beforeName} must be at least ${Math.round(beforeLagMs / 1000)} seconds before the time of the request.`,
    );
  }
  const before = given ?? latest;
  if (given !== null && given < after)
    return invalidInput(
      `${beforeName} must be equal to or after ${created ? 'createdAfter' : 'lastUpdatedAfter'}.`,
    );
  const statuses = listParam(q, 'fulfillmentStatuses');
  const bad = statuses.find((status) => !(FULFILLMENT_STATUSES as readonly string[]).includes(status));
  if (bad) return invalidInput(`Invalid fulfillmentStatuses value: ${bad}`);
  return {
    mode,
    after,
    before,
    statuses,
    marketplaces: listParam(q, 'marketplaceIds'),
    fulfilledBy: listParam(q, 'fulfilledBy'),
    k: null,
    t: ctx.now,
  };
}

function sameFilters(a: Search, b: Search): boolean {
  return (
    a.mode === b.mode &&
    a.after === b.after &&
    // A repeated request without an explicit upper bound gets a later default one: compare only explicit ones.
    (a.before === b.before || a.before > b.before) &&
    a.statuses.join() === b.statuses.join() &&
    a.marketplaces.join() === b.marketplaces.join() &&
    a.fulfilledBy.join() === b.fulfilledBy.join()
  );
}

function scan(account: AccountState, search: Search, take: number): SimOrder[] {
  const { profile, store } = account;
  if (search.marketplaces.length > 0 && !search.marketplaces.includes(profile.marketplaceId!)) return [];
  if (search.fulfilledBy.length > 0 && !search.fulfilledBy.includes('MERCHANT')) return [];
  const out: SimOrder[] = [];
  const keep = (order: SimOrder) =>
    order.visible !== null &&
    (search.statuses.length === 0 || search.statuses.includes(amazonStatus(order, order.visible)));
  if (search.mode === 'updated') {
    const start = search.k
      ? store.lowerBoundUpdated(search.k[0], search.k[1] + 1)
      : store.lowerBoundUpdated(search.after);
    for (let position = start; position < store.visibleCount && out.length < take; position++) {
      const order = store.updatedAt(position)!;
      if (order.visible!.updatedAt > search.before) break;
      if (keep(order)) out.push(order);
    }
    return out;
  }
  const start = search.k
    ? store.lowerBoundCreated(search.k[0], search.k[1] + 1)
    : store.lowerBoundCreated(search.after);
  for (let position = start; position < store.byCreated.length && out.length < take; position++) {
    const order = store.byCreated[position]!;
    if (order.createdAt > search.before) break;
    if (keep(order)) out.push(order);
  }
  return out;
}

function encodeToken(search: Search): string {
  let text = JSON.stringify(search);
  // Pad so the encoding ends in "==": with the fixed prefix ("++//") every token has + / =.
  while ((TOKEN_PREFIX.length + Buffer.byteLength(text)) % 3 !== 1) text += ' ';
  return Buffer.concat([TOKEN_PREFIX, Buffer.from(text)]).toString('base64');
}

function decodeToken(token: string): Search | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token) || token.length % 4 !== 0) return null;
  const bytes = Buffer.from(token, 'base64');
  if (!bytes.subarray(0, TOKEN_PREFIX.length).equals(TOKEN_PREFIX)) return null;
  try {
    const search = JSON.parse(bytes.subarray(TOKEN_PREFIX.length).toString('utf8')) as Search;
    return search && (search.mode === 'updated' || search.mode === 'created') && Number.isFinite(search.after)
      ? search
      : null;
  } catch {
    return null;
  }
}
