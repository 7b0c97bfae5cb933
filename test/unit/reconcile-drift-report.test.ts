import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { createDriftWebhook, reconcileMetrics } from '../../src/core/reconcile/drift-report.js';
import { Secret } from '../../src/core/secret.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0K3N-secret-path`;
}

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

describe('drift webhook', () => {
  it('posts the report as JSON and says it was accepted', async () => {
    const received: { method?: string; type?: string; body: string }[] = [];
    const url = await listen((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push({ method: request.method, type: request.headers['content-type'], body });
        response.end('ok');
      });
    });
    const { logger, lines } = memoryLogger();
    const post = createDriftWebhook({ url: new Secret(url), timeoutMs: 2000, logger });
    expect(await post({ subject: 'stock', drift: 2 })).toBe(true);
    expect(received).toEqual([
      { method: 'POST', type: 'application/json', body: '{"subject":"stock","drift":2}' },
    ]);
    expect(lines).toEqual([]);
  });

  it('gives up after the timeout, logs it without the URL, and never throws', async () => {
    const url = await listen(() => {
      // never answers
    });
    const { logger, lines } = memoryLogger();
    const post = createDriftWebhook({ url: new Secret(url), timeoutMs: 200, logger });
    const started = performance.now();
    expect(await post({ subject: 'orders' })).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', reason: 'no answer within 200 ms' });
    expect(JSON.stringify(lines)).not.toContain('T0K3N');
  });

  it('logs a refusal (non-2xx) and a refused connection as failures', async () => {
    const url = await listen((_request, response) => {
      response.statusCode = 500;
      response.end();
    });
    const { logger, lines } = memoryLogger();
    expect(await createDriftWebhook({ url: new Secret(url), timeoutMs: 2000, logger })({})).toBe(false);
    expect(lines[0]).toMatchObject({ status: 500 });
    // A port that was just free: nothing listens there.
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const port = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    const closed = createDriftWebhook({
      url: new Secret(`http://127.0.0.1:${port}/x`),
      timeoutMs: 2000,
      logger,
    });
    expect(await closed({})).toBe(false);
    expect(lines[1]).toMatchObject({ reason: 'ECONNREFUSED' });
  });

  it('posts nothing without a URL', async () => {
    const { logger } = memoryLogger();
    const fail = () => {
      throw new Error('no request expected');
    };
    expect(await createDriftWebhook({ url: undefined, timeoutMs: 100, logger, fetch: fail })({})).toBe(false);
  });
});

describe('reconcile metrics', () => {
  it('registers its counters once per registry and counts by subject and problem', async () => {
    const registry = new Registry();
    const metrics = reconcileMetrics(registry);
    expect(reconcileMetrics(registry).drift).toBe(metrics.drift);
    metrics.drift.inc({ subject: 'orders', problem: 'missing' });
    metrics.drift.inc({ subject: 'orders', problem: 'missing' });
    metrics.repairs.inc({ subject: 'stock', outcome: 'fixed' });
    const text = await registry.metrics();
    expect(text).toContain('tradectl_reconcile_drift_total{subject="orders",problem="missing"} 2');
    expect(text).toContain('tradectl_reconcile_repairs_total{subject="stock",outcome="fixed"} 1');
  });
});
