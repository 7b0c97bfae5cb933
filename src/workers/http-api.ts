import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Secret } from '../core/secret.js';
import { createBearerCheck } from './http-auth.js';
import {
  type HttpErrorAnswer,
  httpErrorFor,
  isServerFault,
  routeNotFound,
  unauthorized,
} from './http-errors.js';
import { registerStockRoutes, type StockApi } from './stock-routes.js';

/** One dependency's answer to /readyz. Say what failed, never how to log in to it. */
export interface ReadinessCheck {
  ok: boolean;
  message?: string;
}

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, ReadinessCheck>;
}

export interface HttpApiOptions {
  logger: Logger;
  /** Serves /v1/stock when given; then `authTokens` must not be empty. */
  stock?: StockApi;
  /** Asked by /readyz: do the dependencies answer? (Redis ping, MySQL SELECT 1, ...) */
  readiness: () => Promise<ReadinessReport>;
  /** Served by /metrics; the API adds its request counter and latency histogram to it. */
  metricsRegistry: Registry;
  /** Bearer tokens /v1 accepts (`config.api.tokens`). */
  authTokens: readonly Secret[];
  /** Longest /readyz waits for `readiness` before answering 503, ms. Default 2000. */
  readinessTimeoutMs?: number;
  /** Largest request body, bytes. Default 64 KiB (100 lines of an order fit many times over). */
  bodyLimit?: number;
}

export interface HttpApi {
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<{ host: string; port: number; url: string }>;
  /** Stops accepting, lets requests in flight finish, closes idle keep-alive connections. */
  close(): Promise<void>;
  /** The fastify instance, for in-process requests (`inject`) in tests. */
  readonly app: FastifyInstance;
}

/**
 * The worker's HTTP API (docs/stock-http.md): `GET /healthz` (the process is alive), `GET
 * /readyz` (its dependencies answer), `GET /metrics` (Prometheus text), and, with a StockService,
 * the stock API under `/v1/stock` behind bearer-token auth. Health, readiness and metrics need no
 * token: probes and scrapers run inside the deployment. Requests are not logged one by one (at
 * 10k/s that is a flood of lines nobody reads; the metrics count them); server faults are, with
 * their cause.
 */
export function createHttpApi(options: HttpApiOptions): HttpApi {
  if (options.stock && options.authTokens.length === 0) {
    throw new ConfigError([
      { path: 'api.tokens', message: 'the stock API needs at least one bearer token (none configured)' },
    ]);
  }
  const logger = options.logger.child({ component: 'http-api' });
  const app = Fastify({
    // No fastify logger: its per-request child loggers buy nothing when requests are not logged
    // one by one; server faults are logged below with ours.
    logger: false,
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // Keep-alive connections outlive a typical load balancer's idle timeout (60 s), so the
    // balancer, not the worker, closes them and never sends into a closing socket.
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
  });
  // Only JSON bodies: fastify would otherwise hand a text/plain body to the routes as a string.
  app.removeContentTypeParser('text/plain');
  const metrics = httpMetrics(options.metricsRegistry);
  const send = (reply: FastifyReply, answer: HttpErrorAnswer) =>
    reply.code(answer.status).headers(answer.headers).send(answer.body);

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
  app.setErrorHandler((error, request, reply) => {
    const answer = httpErrorFor(error);
    if (isServerFault(answer)) {
      logger.error({ err: error, method: request.method, route: request.routeOptions.url }, 'request failed');
    }
    return send(reply, answer);
  });
  app.setNotFoundHandler((request, reply) => send(reply, routeNotFound(request.method, request.url)));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = await withTimeout(options.readiness, options.readinessTimeoutMs ?? 2000);
    return reply.code(report.ok ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_request, reply) =>
    reply
      .header('content-type', options.metricsRegistry.contentType)
      .send(await options.metricsRegistry.metrics()),
  );

  const stock = options.stock;
  if (stock) {
    const authorized = createBearerCheck(options.authTokens);
    // An encapsulated scope: the bearer check runs for these routes only, before the body is
    // parsed, so a caller without a token learns nothing about the request it sent.
    app.register(async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        if (!authorized(request.headers.authorization)) {
          metrics.authFailures.inc();
          return send(reply, unauthorized());
        }
      });
      registerStockRoutes(scope, stock);
    });
  }

  return {
    app,
    async listen(port, host = '0.0.0.0') {
      await app.listen({ port, host });
      const address = app.server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      logger.info({ host, port: bound }, 'http api listening');
      return { host, port: bound, url: `http://${shown}:${bound}` };
    },
    async close() {
      await app.close();
    },
  };
}

function httpMetrics(registry: Registry) {
  // Registered once per registry: a second API on the same registry (tests) shares the metrics.
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  const requests =
    existing<Counter<'method' | 'route' | 'status'>>('tradectl_http_requests_total') ??
    new Counter({
      name: 'tradectl_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    });
  const duration =
    existing<Histogram<'method' | 'route'>>('tradectl_http_request_duration_seconds') ??
    new Histogram({
      name: 'tradectl_http_request_duration_seconds',
      help: 'Time from request received to response sent, by method and route template',
      labelNames: ['method', 'route'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  const authFailures =
    existing<Counter>('tradectl_http_auth_failures_total') ??
    new Counter({
      name: 'tradectl_http_auth_failures_total',
      help: 'Requests to /v1 refused for a missing or invalid bearer token',
      registers: [registry],
    });
  return { requests, duration, authFailures };
}

async function withTimeout(readiness: () => Promise<ReadinessReport>, ms: number): Promise<ReadinessReport> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ReadinessReport>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({ ok: false, checks: { readiness: { ok: false, message: `no answer within ${ms} ms` } } }),
      ms,
    );
    timer.unref();
  });
  try {
    return await Promise.race([
      readiness().catch(
        (error: unknown): ReadinessReport => ({
          ok: false,
          checks: { readiness: { ok: false, message: `check failed: ${(error as Error)?.name ?? 'error'}` } },
        }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
