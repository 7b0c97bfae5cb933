/**
 * Amazon Selling Partner API: Orders 2026-01-01, the LWA token endpoint, and the two writes an
 * adapter needs (Orders v0 confirmShipment, Listings Items patch).
 *
 * Endpoints (base URL = the sandbox root; the seller is the one whose token the request carries):
 * - `POST /auth/o2/token` — LWA, form-encoded (JSON accepted) `grant_type=refresh_token`,
 *   `refresh_token`, `client_id`, `client_secret` → `{access_token:"Atza|…", refresh_token,
 *   token_type:"bearer", expires_in:3600}`; unknown/revoked refresh token → 400
 *   `{error:"invalid_grant"}`, wrong client → 401 `{error:"invalid_client"}`.
 * - `GET /orders/2026-01-01/orders` (searchOrders) — exactly one of `createdAfter` /
 *   `lastUpdatedAfter`; optional `createdBefore` / `lastUpdatedBefore` (must be ≤ now − 2 min,
 *   else 400 InvalidInput; default now − 2 min, echoed as `lastUpdatedBefore` / `createdBefore`);
 *   `fulfillmentStatuses`, `marketplaceIds`, `fulfilledBy`, `includedData` (comma-separated or
 *   repeated), `maxResultsPerPage` 1–100 (default 100), `paginationToken` (the previous
 *   `pagination.nextToken`; filters may be repeated unchanged or left out). Response
 *   `{orders:[…], pagination?:{nextToken}, lastUpdatedBefore|createdBefore}`; rows sorted by
 *   (lastUpdatedTime | createdTime) ascending, bounds inclusive.
 * - `GET /orders/2026-01-01/orders/{orderId}[?includedData=]` (getOrder) → `{order}`
 * - `POST /orders/v0/orders/{orderId}/shipmentConfirmation` (confirmShipment) → 204
 * - `PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=` (patchListingsItem) with a
 *   `replace` of `/attributes/fulfillment_availability` → `{sku, status:"ACCEPTED", submissionId, issues:[]}`
 *
 * Order status is inside `fulfillment`, returned only with `includedData=FULFILLMENT`; money and
 * items' proceeds need PROCEEDS. Pending orders carry no prices. Header `x-amz-access-token`;
 * missing → 403 MissingAuthenticationToken, expired → 403 Unauthorized with details "The access
 * token you provided has expired.", unknown → "…revoked, malformed or invalid.". Token buckets
 * per operation (searchOrders 0.0056/s burst 20, getOrder 0.5/30, confirmShipment 2/10,
 * patchListingsItem 5/5, rates x scale); `x-amzn-RateLimit-Limit` on 200/400/404,
 * `x-amzn-RequestId` always; 429 `QuotaExceeded`.
 */

import { getOrder, searchOrders } from './amazon-orders.js';
import { breakAmazonRecord } from './amazon-render.js';
import { confirmShipment, denied, patchListing } from './amazon-writes.js';
import type { TokenStore } from './auth.js';
import type { Faults } from './faults.js';
import {
  type AuthResult,
  header,
  isRecord,
  json,
  type PlatformApi,
  parseJson,
  type Reply,
  type RequestContext,
} from './http.js';
import type { SandboxState } from './state.js';

export interface AmazonDeps {
  state: SandboxState;
  tokens: TokenStore;
  faults: Faults;
  beforeLagMs: number;
  tokenLifetimeSec: number;
}

export function createAmazonApi(deps: AmazonDeps): PlatformApi {
  const accounts = deps.state.accounts.filter((account) => account.profile.platform === 'amazon');
  const accountOf = (ctx: RequestContext) => ctx.account!;
  return {
    platform: 'amazon',
    prefixes: ['/orders/', '/auth/o2/', '/listings/'],
    routes: [
      {
        method: 'POST',
        pattern: /^\/auth\/o2\/token$/,
        operation: 'lwaToken',
        bucket: null,
        auth: false,
        handle: token,
      },
      {
        method: 'GET',
        pattern: /^\/orders\/2026-01-01\/orders$/,
        operation: 'searchOrders',
        bucket: 'searchOrders',
        auth: true,
        handle: (ctx) => searchOrders(ctx, accountOf(ctx), deps.beforeLagMs),
      },
      {
        method: 'GET',
        pattern: /^\/orders\/2026-01-01\/orders\/(?<orderId>[^/]+)$/,
        operation: 'getOrder',
        bucket: 'getOrder',
        auth: true,
        handle: (ctx) => getOrder(ctx, accountOf(ctx)),
      },
      {
        method: 'POST',
        pattern: /^\/orders\/v0\/orders\/(?<orderId>[^/]+)\/shipmentConfirmation$/,
        operation: 'confirmShipment',
        bucket: 'confirmShipment',
        auth: true,
        handle: (ctx) => confirmShipment(ctx, deps.state),
      },
      {
        method: 'PATCH',
        pattern: /^\/listings\/2021-08-01\/items\/(?<sellerId>[^/]+)\/(?<sku>[^/]+)$/,
        operation: 'patchListingsItem',
        bucket: 'patchListingsItem',
        auth: true,
        handle: patchListing,
      },
    ],
    authenticate(ctx): AuthResult {
      const token = header(ctx, 'x-amz-access-token');
      if (!token)
        return {
          reply: denied(
            'MissingAuthenticationToken',
            'The request is missing the x-amz-access-token header.',
          ),
        };
      const check = deps.tokens.check('amazon', token, ctx.now);
      if (check.status === 'invalid')
        return {
          reply: denied('Unauthorized', 'The access token you provided is revoked, malformed or invalid.'),
        };
      const account = accounts.find((candidate) => candidate.profile.account === check.account)!;
      if (check.status === 'expired')
        return { reply: denied('Unauthorized', 'The access token you provided has expired.'), account };
      return { account };
    },
    decorate(ctx, reply, usage) {
      reply.headers = { ...reply.headers, 'x-amzn-requestid': ctx.requestId };
      if (usage && usage.limit.kind === 'bucket' && [200, 400, 404].includes(reply.status)) {
        reply.headers['x-amzn-ratelimit-limit'] = String(Number(usage.limit.rate.toPrecision(6)));
      }
    },
    throttled: () =>
      json(429, {
        errors: [
          {
            code: 'QuotaExceeded',
            message: 'You exceeded your quota for the requested resource.',
            details: '',
          },
        ],
      }),
    serverError: (_ctx, status) =>
      json(status, {
        errors: [
          status === 503
            ? {
                code: 'ServiceUnavailable',
                message: 'Service temporarily unavailable. Please try again.',
                details: '',
              }
            : {
                code: 'InternalFailure',
                message: 'We encountered an internal error. Please try again.',
                details: '',
              },
        ],
      }),
    notFound: (ctx) =>
      json(404, {
        errors: [{ code: 'NotFound', message: `No resource at ${ctx.method} ${ctx.path}`, details: '' }],
      }),
    breakRecord: breakAmazonRecord,
    recordId: (record) => (typeof record.orderId === 'string' ? record.orderId : null),
  };

  function token(ctx: RequestContext): Reply {
    const type = header(ctx, 'content-type') ?? '';
    const parsed = type.includes('json')
      ? parseJson(ctx.body)
      : Object.fromEntries(new URLSearchParams(ctx.body));
    const form = isRecord(parsed) ? parsed : {};
    if (form.grant_type !== 'refresh_token') {
      return json(400, {
        error: 'unsupported_grant_type',
        error_description: 'The authorization grant type is not supported by the authorization server',
      });
    }
    const account = accounts.find(
      (candidate) => candidate.profile.credentials.refreshToken === form.refresh_token,
    );
    if (!account || deps.tokens.isRevoked('amazon', account.profile.account)) {
      return json(400, {
        error: 'invalid_grant',
        error_description: 'The request has an invalid grant parameter : refresh_token',
      });
    }
    const { clientId, clientSecret } = account.profile.credentials;
    if (form.client_id !== clientId || form.client_secret !== clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    const lifetime = deps.faults.get('amazon').tokenLifetimeSec ?? deps.tokenLifetimeSec;
    return json(200, {
      access_token: deps.tokens.issue('amazon', account.profile.account, lifetime, ctx.now),
      refresh_token: form.refresh_token,
      token_type: 'bearer',
      expires_in: lifetime,
    });
  }
}
