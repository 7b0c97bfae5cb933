import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Accounting } from './accounting.js';
import type { Clock } from './clock.js';
import type { Faults } from './faults.js';
import { type PlatformApi, type Reply, type RequestContext, type Route, readBody } from './http.js';
import type { SandboxState } from './state.js';
import type { TakeResult, Throttle } from './throttle.js';

/**
 * The request pipeline every platform call goes through, in the order a real platform applies
 * it: route -> authenticate -> rate limit (the engine's 429s are what "exceeded" means) ->
 * injected faults (latency, dropped connection, forced 429, 5xx) -> handler -> malformed records
 * -> usage headers. An injected fault still consumed a token, as a failed call does upstream.
 */
export interface PipelineDeps {
  apis: readonly PlatformApi[];
  state: SandboxState;
  throttle: Throttle;
  faults: Faults;
  accounting: Accounting;
  clock: Clock;
  faultTokenEndpoints: boolean;
  /** Runs before each request: the timeline tick and late-update promotion. */
  beforeRequest(now: number): void;
  /** The sandbox's own endpoints (/_sandbox/...): a reply, or null when not one of them. */
  control(ctx: RequestContext): Reply | null;
  onError(error: unknown): void;
}

export function createRequestHandler(deps: PipelineDeps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(deps, req, res).catch((error: unknown) => {
      deps.onError(error);
      if (!res.headersSent) send(res, { status: 500, body: { error: 'sandbox internal error' } });
      else res.destroy();
    });
  };
}

async function handle(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const origin = `http://${req.headers.host ?? 'localhost'}`;
  const url = new URL(req.url ?? '/', origin);
  const method = (req.method ?? 'GET').toUpperCase();
  const body = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);
  const ctx: RequestContext = {
    method,
    target: req.url ?? '/',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
    now: deps.clock.now(),
    requestId: randomUUID(),
    origin,
    params: {},
  };
  deps.beforeRequest(ctx.now);
  const control = deps.control(ctx);
  if (control) return send(res, control);

  const api = deps.apis.find((candidate) => owns(candidate, ctx.path));
  if (!api) return send(res, { status: 404, body: { error: `no sandbox API at ${ctx.path}` } });
  const route = match(api, ctx);
  if (!route) return finish(res, api, ctx, api.notFound(ctx), null);

  if (route.auth) {
    const auth = api.authenticate(ctx);
    if ('reply' in auth) {
      deps.accounting.authFailure(api.platform);
      const usage =
        auth.account && route.bucket
          ? peek(deps.throttle, api, auth.account.profile.account, route.bucket, ctx.now)
          : null;
      return finish(res, api, ctx, auth.reply, usage);
    }
    ctx.account = auth.account;
  } else {
    deps.accounting.tokenRequest(api.platform);
  }

  const accountId = ctx.account?.profile.account;
  const target =
    route.bucket && accountId
      ? {
          platform: api.platform,
          account: accountId,
          bucket: route.bucket,
          limit: deps.throttle.limit(api.platform, route.bucket),
          scale: deps.throttle.scaleOf(api.platform),
        }
      : null;
  let usage: TakeResult | null = null;
  if (target) {
    usage = deps.throttle.take(api.platform, target.account, target.bucket, ctx.now);
    deps.accounting.request(target, route.operation, usage.ok, ctx.now);
    if (!usage.ok) return finish(res, api, ctx, api.throttled(ctx, usage), usage);
  }

  const faultable = route.auth || deps.faultTokenEndpoints;
  const decision = faultable ? deps.faults.decide(api.platform) : null;
  if (decision && decision.delayMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
    ctx.now = deps.clock.now();
  }
  if (decision?.action && target) deps.accounting.fault(target, decision.action);
  if (decision?.action === 'drop' && !decision.partial) {
    req.socket.destroy();
    return;
  }
  if (decision?.action === 'forced429') {
    const shown = usage ?? (target ? peek(deps.throttle, api, target.account, target.bucket, ctx.now) : null);
    return finish(res, api, ctx, api.throttled(ctx, shown ?? noUsage()), shown);
  }
  if (decision?.action === 'injected5xx')
    return finish(res, api, ctx, api.serverError(ctx, decision.status), usage);

  let reply: Reply;
  try {
    reply = route.handle(ctx);
  } catch (error) {
    deps.onError(error);
    reply = api.serverError(ctx, 500);
  }
  breakRecords(deps, api, ctx, reply, target);
  mutateWindow(deps, api, ctx, reply);
  if (decision?.action === 'drop') {
    api.decorate(ctx, reply, usage);
    return sendPartial(res, reply);
  }
  return finish(res, api, ctx, reply, usage);
}

function owns(api: PlatformApi, path: string): boolean {
  return (
    api.routes.some((route) => route.pattern.test(path)) ||
    api.prefixes.some((prefix) => path.startsWith(prefix))
  );
}

function match(api: PlatformApi, ctx: RequestContext): Route | null {
  for (const route of api.routes) {
    if (route.method !== ctx.method) continue;
    const found = route.pattern.exec(ctx.path);
    if (!found) continue;
    ctx.params = Object.fromEntries(
      Object.entries(found.groups ?? {}).map(([name, value]) => [name, decodeURIComponent(value ?? '')]),
    );
    return route;
  }
  return null;
}

function peek(
  throttle: Throttle,
  api: PlatformApi,
  account: string,
  bucket: string,
  now: number,
): TakeResult {
  return throttle.peek(api.platform, account, bucket, now);
}

function noUsage(): TakeResult {
  return { ok: false, limit: { kind: 'bucket', rate: 0, burst: 0 }, remaining: 0, retryAfterMs: 0 };
}

function breakRecords(
  deps: PipelineDeps,
  api: PlatformApi,
  ctx: RequestContext,
  reply: Reply,
  target: { platform: PlatformApi['platform']; account: string; bucket: string } | null,
): void {
  for (const record of reply.records ?? []) {
    if (!deps.faults.malformed(api.platform)) continue;
    const orderId = api.recordId(record);
    const field = api.breakRecord(record, deps.faults.rng(api.platform));
    deps.accounting.malformedRecord(target, {
      platform: api.platform,
      account: ctx.account?.profile.account ?? '',
      orderId,
      field,
    });
  }
}

// A change between two page requests: an order already served moves behind the cursor (a
// repeat later) or one still ahead moves out of the remaining pages (a skip for offset paging).
function mutateWindow(deps: PipelineDeps, api: PlatformApi, ctx: RequestContext, reply: Reply): void {
  const candidates = reply.mutationCandidates;
  if (!candidates?.length || !ctx.account || !deps.faults.mutateDuringPagination(api.platform)) return;
  const rng = deps.faults.rng(api.platform);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (deps.state.updateOrder(ctx.account, rng.pick(candidates), ctx.now, { late: false })) return;
  }
}

function finish(
  res: ServerResponse,
  api: PlatformApi,
  ctx: RequestContext,
  reply: Reply,
  usage: TakeResult | null,
): void {
  api.decorate(ctx, reply, usage);
  send(res, reply);
}

function serialise(reply: Reply): { headers: Record<string, string | number>; text: string } {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  const headers: Record<string, string | number> = {
    ...reply.headers,
    'content-length': Buffer.byteLength(text),
  };
  if (text !== '') headers['content-type'] = 'application/json; charset=utf-8';
  return { headers, text };
}

function send(res: ServerResponse, reply: Reply): void {
  const { headers, text } = serialise(reply);
  res.writeHead(reply.status, headers);
  res.end(text);
}

// Headers and part of the body, then the connection dies: the client sees a truncated response.
function sendPartial(res: ServerResponse, reply: Reply): void {
  const { headers, text } = serialise(reply);
  res.writeHead(reply.status, headers);
  res.write(text.slice(0, Math.floor(text.length / 2)));
  setImmediate(() => res.destroy());
}
