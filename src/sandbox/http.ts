import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { SimOrder } from './model.js';
import type { Rng } from './rng.js';
import type { AccountState } from './state.js';
import type { TakeResult } from './throttle.js';
import type { SandboxPlatform } from './types.js';

/** What a handler answers; the server serialises it after faults and usage headers. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Order records inside `body`, which the malformed fault may break one field of. */
  records?: Record<string, unknown>[];
  /** Orders of the served window when a next page exists: candidates for a mid-pagination change. */
  mutationCandidates?: SimOrder[];
}

export interface RequestContext {
  method: string;
  /** The request target as received (path and query, still encoded). */
  target: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  now: number;
  requestId: string;
  /** `http://host:port` as the client addressed the sandbox, for absolute links. */
  origin: string;
  params: Record<string, string>;
  /** Set once the request is authenticated. */
  account?: AccountState;
}

export interface Route {
  method: string;
  pattern: RegExp;
  /** Operation name for accounting (`searchOrders`, `orders.json`). */
  operation: string;
  /** Rate-limit bucket, or null for calls the limiter ignores (token endpoints). */
  bucket: string | null;
  /** False for token endpoints, which authenticate through their body. */
  auth: boolean;
  handle(ctx: RequestContext): Reply;
}

export type AuthResult = { account: AccountState } | { reply: Reply; account?: AccountState };

/** One platform's API as the server sees it: routes plus its envelopes and headers. */
export interface PlatformApi {
  platform: SandboxPlatform;
  /** Path prefixes this platform answers (its 404s for unknown paths under them). */
  prefixes: readonly string[];
  routes: Route[];
  authenticate(ctx: RequestContext): AuthResult;
  /** Adds the headers every response carries (request id, usage). */
  decorate(ctx: RequestContext, reply: Reply, usage: TakeResult | null): void;
  throttled(ctx: RequestContext, usage: TakeResult): Reply;
  serverError(ctx: RequestContext, status: number): Reply;
  notFound(ctx: RequestContext): Reply;
  /** Breaks one field of a rendered record; returns the field's path. */
  breakRecord(record: Record<string, unknown>, rng: Rng): string;
  recordId(record: Record<string, unknown>): string | null;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body, headers };
}

export function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parses a JSON body, or returns undefined when it is not JSON. */
export function parseJson(body: string): unknown {
  try {
    return body === '' ? undefined : JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function header(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** ISO-8601 with an explicit zone, to epoch ms; null when it is not one. */
export function parseTime(text: string | null | undefined): number | null {
  if (!text) return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim())) return null;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? null : ms;
}

/** A comma-separated (or repeated) list parameter. */
export function listParam(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
