/**
 * eBay Sell Fulfillment API v1, the OAuth token endpoint, and inventory quantity updates.
 *
 * Endpoints (base URL = the sandbox root; the seller is the one whose token the request carries):
 * - `POST /identity/v1/oauth2/token` — `Authorization: Basic base64(client_id:client_secret)`,
 *   form `grant_type=refresh_token&refresh_token=…&scope=…` (space-separated, optional) →
 *   `{access_token, expires_in:7200, token_type:"User Access Token"}`; bad client → 401
 *   invalid_client; unknown/revoked refresh token → 400 invalid_grant; bad scope → 400 invalid_scope.
 * - `GET /sell/fulfillment/v1/order` (getOrders) — `filter` (`lastmodifieddate:[from..to]`,
 *   `creationdate:[from..]`, `orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}` or
 *   `{FULFILLED|IN_PROGRESS}`; ISO UTC with `Z`; bounds inclusive; errors 30700–30850),
 *   `limit` 1–200 (default 50; otherwise 400 errorId 31100), `offset` (31000), `orderIds` (≤50,
 *   30900; ignores everything else), `fieldGroups=TAX_BREAKDOWN`. Response `{href, total, limit,
 *   offset, orders, next?, prev?}` with absolute `next`/`prev` URIs; rows sorted by the filtered
 *   date ascending.
 * - `GET /sell/fulfillment/v1/order/{orderId}` (getOrder, with cancelRequests) → `Order`
 * - `POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment` `{lineItems:[{lineItemId,
 *   quantity}], shippedDate?, shippingCarrierCode, trackingNumber}` → 201, `Location` header, `{}`
 * - `GET /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment[/{fulfillmentId}]`
 * - `POST /sell/inventory/v1/bulk_update_price_quantity` `{requests:[{sku,
 *   shipToLocationAvailability:{quantity}}]}` → 200, or 207 when some SKUs fail
 *
 * `Authorization: Bearer <token>`; missing/expired/unknown → 401 errorId 1001 (Inventory paths
 * answer an expired token with 403 errorId 1100, as reported). Limits are the daily call quotas
 * (Fulfillment 100,000, Inventory 2,000,000) → 429 errorId 2001. Money `{value, currency}`.
 */

import type { TokenStore } from './auth.js';
import { ebayError, getOrder, getOrders } from './ebay-orders.js';
import { breakEbayRecord } from './ebay-render.js';
import { bulkUpdate, createFulfillment, listFulfillments } from './ebay-writes.js';
import type { Faults } from './faults.js';
import { type AuthResult, header, json, type PlatformApi, type Reply, type RequestContext } from './http.js';
import type { SandboxState } from './state.js';

export interface EbayDeps {
  state: SandboxState;
  tokens: TokenStore;
  faults: Faults;
  tokenLifetimeSec: number;
}

const SCOPES = new Set([
  'https://api.ebay.com/oauth/api_scope',
  'https://api.ebay.com/oauth/api_scope/sell.fulfillment',
  'https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly',
  'https://api.ebay.com/oauth/api_scope/sell.inventory',
  'https://api.ebay.com/oauth/api_scope/sell.inventory.readonly',
]);
const ORDER = '/sell/fulfillment/v1/order';

export function createEbayApi(deps: EbayDeps): PlatformApi {
  const accounts = deps.state.accounts.filter((account) => account.profile.platform === 'ebay');
  const accountOf = (ctx: RequestContext) => ctx.account!;
  const invalidToken = () =>
    ebayError(401, 1001, 'Invalid access token', {
      domain: 'OAuth',
      longMessage: 'Invalid access token. Check the value of the Authorization HTTP request header.',
    });
  return {
    platform: 'ebay',
    prefixes: ['/sell/', '/identity/'],
    routes: [
      {
        method: 'POST',
        pattern: /^\/identity\/v1\/oauth2\/token$/,
        operation: 'oauthToken',
        bucket: null,
        auth: false,
        handle: token,
      },
      {
        method: 'GET',
        pattern: new RegExp(`^${ORDER}$`),
        operation: 'getOrders',
        bucket: 'fulfillment',
        auth: true,
        handle: (ctx) => getOrders(ctx, accountOf(ctx)),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^${ORDER}/(?<orderId>[^/]+)$`),
        operation: 'getOrder',
        bucket: 'fulfillment',
        auth: true,
        handle: (ctx) => getOrder(ctx, accountOf(ctx)),
      },
      {
        method: 'POST',
        pattern: new RegExp(`^${ORDER}/(?<orderId>[^/]+)/shipping_fulfillment$`),
        operation: 'createShippingFulfillment',
        bucket: 'fulfillment',
        auth: true,
        handle: (ctx) => createFulfillment(ctx, deps.state),
      },
      {
        method: 'GET',
        pattern: new RegExp(`^${ORDER}/(?<orderId>[^/]+)/shipping_fulfillment(?:/(?<fulfillmentId>[^/]+))?$`),
        operation: 'getShippingFulfillments',
        bucket: 'fulfillment',
        auth: true,
        handle: listFulfillments,
      },
      {
        method: 'POST',
        pattern: /^\/sell\/inventory\/v1\/bulk_update_price_quantity$/,
        operation: 'bulkUpdatePriceQuantity',
        bucket: 'inventory',
        auth: true,
        handle: bulkUpdate,
      },
    ],
    authenticate(ctx): AuthResult {
      const match = /^Bearer\s+(.+)$/i.exec(header(ctx, 'authorization') ?? '');
      const check = deps.tokens.check('ebay', match?.[1]?.trim(), ctx.now);
      if (check.status === 'invalid') return { reply: invalidToken() };
      const account = accounts.find((candidate) => candidate.profile.account === check.account)!;
      if (check.status === 'expired') {
        const reply = ctx.path.startsWith('/sell/inventory/')
          ? ebayError(403, 1100, 'Access denied', {
              longMessage: 'Insufficient permissions to fulfill the request.',
            })
          : invalidToken();
        return { reply, account };
      }
      return { account };
    },
    decorate(ctx, reply) {
      reply.headers = { ...reply.headers, 'x-ebay-c-request-id': ctx.requestId };
    },
    throttled: () =>
      ebayError(429, 2001, 'Too many requests', {
        longMessage: 'The request limit has been reached for the resource.',
      }),
    serverError: (_ctx, status) =>
      json(status, {
        errors: [
          { errorId: 30500, domain: 'API_FULFILLMENT', category: 'APPLICATION', message: 'System error' },
        ],
      }),
    notFound: () =>
      json(404, {
        errors: [{ errorId: 2002, domain: 'ACCESS', category: 'REQUEST', message: 'Resource not found' }],
      }),
    breakRecord: breakEbayRecord,
    recordId: (record) => (typeof record.orderId === 'string' ? record.orderId : null),
  };

  function token(ctx: RequestContext): Reply {
    const basic = /^Basic\s+(.+)$/i.exec(header(ctx, 'authorization') ?? '');
    const [clientId, clientSecret] = basic
      ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')
      : [];
    const form = new URLSearchParams(ctx.body);
    const byClient = accounts.filter((candidate) => candidate.profile.credentials.clientId === clientId);
    if (byClient.length === 0 || byClient[0]!.profile.credentials.clientSecret !== clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'client authentication failed' });
    }
    if (form.get('grant_type') !== 'refresh_token') {
      return json(400, {
        error: 'unsupported_grant_type',
        error_description: 'grant type in request is not supported by the authorization server',
      });
    }
    const account = byClient.find(
      (candidate) => candidate.profile.credentials.refreshToken === form.get('refresh_token'),
    );
    if (!account || deps.tokens.isRevoked('ebay', account.profile.account)) {
      return json(400, {
        error: 'invalid_grant',
        error_description:
          'the provided authorization refresh token is invalid or was issued to another client',
      });
    }
    const scopes = (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    if (scopes.some((scope) => !SCOPES.has(scope))) {
      return json(400, {
        error: 'invalid_scope',
        error_description:
          'The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client',
      });
    }
    const lifetime = deps.faults.get('ebay').tokenLifetimeSec ?? deps.tokenLifetimeSec;
    return json(200, {
      access_token: deps.tokens.issue('ebay', account.profile.account, lifetime, ctx.now),
      expires_in: lifetime,
      token_type: 'User Access Token',
    });
  }
}
