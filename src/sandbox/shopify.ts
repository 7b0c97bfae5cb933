/**
 * Shopify Admin REST API (legacy REST, as the 2024-01..2025-10 versions serve it).
 *
 * Endpoints (base URL = the sandbox root; `{v}` is any `YYYY-MM` version; the shop is the one
 * whose access token the request carries, header `X-Shopify-Access-Token`):
 * - `GET  /admin/api/{v}/orders.json` — params `status` (open default | closed | cancelled | any),
 *   `updated_at_min`/`updated_at_max`/`created_at_min`/`created_at_max` (ISO 8601 with offset,
 *   inclusive), `financial_status`, `fulfillment_status`, `ids`, `since_id`, `fields`,
 *   `limit` (default 50, capped at 250), `order` (`updated_at asc|desc`, `created_at asc|desc`,
 *   `id asc|desc`; default `created_at desc`), `page_info` (from the `Link` header; only `limit`
 *   and `fields` may accompany it, anything else is 400). Response `{orders:[…]}` and
 *   `Link: <…page_info=…>; rel="previous", <…>; rel="next"` (absolute URLs).
 * - `GET  /admin/api/{v}/orders/count.json` (same filters) → `{count}`
 * - `GET  /admin/api/{v}/orders/{id}.json[?fields=]` → `{order}` or 404 `{"errors":"Not Found"}`
 * - `GET  /admin/api/{v}/orders/{id}/fulfillment_orders.json` → `{fulfillment_orders:[…]}` (one per order)
 * - `POST /admin/api/{v}/fulfillments.json` `{fulfillment:{line_items_by_fulfillment_order:[{fulfillment_order_id,
 *   fulfillment_order_line_items?:[{id,quantity}]}], tracking_info:{number,url,company}}}` → 201 `{fulfillment}`;
 *   422 when the fulfillment order is not open. The shipment becomes an order update at once.
 * - `POST /admin/api/{v}/inventory_levels/set.json` `{location_id, inventory_item_id, available}` → `{inventory_level}`
 * - `GET  /admin/api/{v}/shop.json`, `locations.json`, `products.json` (the catalogue: variant sku → inventory_item_id)
 *
 * Every response carries `X-Shopify-Shop-Api-Call-Limit: n/40` (leaky bucket 40, leak 2/s x
 * rate scale, per shop). Over the limit: 429, `Retry-After: 2.0` (divided by the scale) and
 * `{"errors":"Exceeded 2 calls per second for api client. …"}`. Bad token: 401
 * `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`.
 * Times carry the shop's offset (whole seconds); money is decimal strings.
 */

import type { TokenStore } from './auth.js';
import { type AuthResult, header, json, type PlatformApi, type Reply, type RequestContext } from './http.js';
import { countOrders, listOrders, pick } from './shopify-orders.js';
import { breakShopifyRecord, renderShopifyOrder } from './shopify-render.js';
import {
  createFulfillment,
  fulfillmentOrders,
  locations,
  products,
  setInventory,
  shop,
} from './shopify-writes.js';
import type { SandboxState } from './state.js';

const V = String.raw`/admin/api/(?<version>\d{4}-\d{2})`;
const route = (path: string) => new RegExp(`^${V}${path}$`);

export function createShopifyApi(deps: { state: SandboxState; tokens: TokenStore }): PlatformApi {
  const { state, tokens } = deps;
  const byToken = new Map(
    state.accounts
      .filter((account) => account.profile.platform === 'shopify')
      .map((account) => [account.profile.credentials.accessToken!, account]),
  );
  const accountOf = (ctx: RequestContext) => ctx.account!;
  return {
    platform: 'shopify',
    prefixes: ['/admin/'],
    routes: [
      {
        method: 'GET',
        pattern: route(String.raw`/orders\.json`),
        operation: 'orders.json',
        bucket: 'rest',
        auth: true,
        handle: (ctx) => listOrders(ctx, accountOf(ctx), ctx.params.version!),
      },
      {
        method: 'GET',
        pattern: route(String.raw`/orders/count\.json`),
        operation: 'orders/count.json',
        bucket: 'rest',
        auth: true,
        handle: (ctx) => countOrders(ctx, accountOf(ctx)),
      },
      {
        method: 'GET',
        pattern: route(String.raw`/orders/(?<id>\d+)\.json`),
        operation: 'orders/{id}.json',
        bucket: 'rest',
        auth: true,
        handle: getOrder,
      },
      {
        method: 'GET',
        pattern: route(String.raw`/orders/(?<id>\d+)/fulfillment_orders\.json`),
        operation: 'fulfillment_orders.json',
        bucket: 'rest',
        auth: true,
        handle: fulfillmentOrders,
      },
      {
        method: 'POST',
        pattern: route(String.raw`/fulfillments\.json`),
        operation: 'fulfillments.json',
        bucket: 'rest',
        auth: true,
        handle: (ctx) => createFulfillment(ctx, state),
      },
      {
        method: 'POST',
        pattern: route(String.raw`/inventory_levels/set\.json`),
        operation: 'inventory_levels/set.json',
        bucket: 'rest',
        auth: true,
        handle: setInventory,
      },
      {
        method: 'GET',
        pattern: route(String.raw`/shop\.json`),
        operation: 'shop.json',
        bucket: 'rest',
        auth: true,
        handle: shop,
      },
      {
        method: 'GET',
        pattern: route(String.raw`/locations\.json`),
        operation: 'locations.json',
        bucket: 'rest',
        auth: true,
        handle: locations,
      },
      {
        method: 'GET',
        pattern: route(String.raw`/products\.json`),
        operation: 'products.json',
        bucket: 'rest',
        auth: true,
        handle: products,
      },
    ],
    authenticate(ctx): AuthResult {
      const account = byToken.get(header(ctx, 'x-shopify-access-token') ?? '');
      if (!account || tokens.isRevoked('shopify', account.profile.account)) {
        return {
          reply: json(401, {
            errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
          }),
        };
      }
      return { account };
    },
    decorate(ctx, reply, usage) {
      reply.headers = { ...reply.headers, 'x-request-id': ctx.requestId };
      if (ctx.params.version) reply.headers['x-shopify-api-version'] = ctx.params.version;
      if (usage && usage.limit.kind === 'bucket') {
        const used = Math.min(usage.limit.burst, Math.ceil(usage.limit.burst - usage.remaining - 1e-9));
        reply.headers['x-shopify-shop-api-call-limit'] = `${Math.max(0, used)}/${usage.limit.burst}`;
      }
    },
    throttled(_ctx, usage) {
      // Shopify says 2.0 at its leak rate of 2/s; a scaled bucket asks for a scaled wait.
      const wait = usage.limit.kind === 'bucket' && usage.limit.rate > 0 ? 4 / usage.limit.rate : 2;
      return json(
        429,
        {
          errors:
            'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
        },
        { 'retry-after': wait >= 1 ? wait.toFixed(1) : String(Number(wait.toFixed(3))) },
      );
    },
    serverError: (_ctx, status) =>
      json(status, { errors: status === 503 ? 'Service Unavailable' : 'Internal Server Error' }),
    notFound: () => json(404, { errors: 'Not Found' }),
    breakRecord: breakShopifyRecord,
    recordId: (record) => (record.id === undefined ? null : String(record.id)),
  };

  function getOrder(ctx: RequestContext): Reply {
    const account = accountOf(ctx);
    const order = account.store.get(ctx.params.id!);
    if (!order?.visible) return json(404, { errors: 'Not Found' });
    const record = pick(
      renderShopifyOrder(account.profile, order, order.visible),
      ctx.query.getAll('fields').join(',').split(',').filter(Boolean),
    );
    return { status: 200, body: { order: record }, records: [record] };
  }
}
