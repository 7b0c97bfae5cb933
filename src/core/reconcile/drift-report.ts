import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import type { Secret } from '../secret.js';

/**
 * Where drift goes besides the command's own output: a warn log line per item (reconcile
 * callers log them), Prometheus counters, and an optional webhook (`reconcile.webhookUrl`).
 */

export type ReconcileSubject = 'stock' | 'orders';

export interface ReconcileMetrics {
  /** Drift found, by subject and problem (`mismatch`, `missing`, `stale`…). */
  readonly drift: Counter<'subject' | 'problem'>;
  /** Repairs by subject and outcome (`fixed`, `failed`). */
  readonly repairs: Counter<'subject' | 'outcome'>;
}

const DRIFT = 'tradectl_reconcile_drift_total';
const REPAIRS = 'tradectl_reconcile_repairs_total';

/**
 * The reconcile counters in `registry` (the worker's, for /metrics; a fresh one in a CLI run).
 * Registered once per registry: a second call returns the same counters.
 */
export function reconcileMetrics(registry: Registry): ReconcileMetrics {
  const drift =
    (registry.getSingleMetric(DRIFT) as Counter<'subject' | 'problem'> | undefined) ??
    new Counter({
      name: DRIFT,
      help: 'Drift found by reconcile (stock: SKUs, orders: orders), by problem',
      labelNames: ['subject', 'problem'],
      registers: [registry],
    });
  const repairs =
    (registry.getSingleMetric(REPAIRS) as Counter<'subject' | 'outcome'> | undefined) ??
    new Counter({
      name: REPAIRS,
      help: 'Repairs made by reconcile --fix, by outcome',
      labelNames: ['subject', 'outcome'],
      registers: [registry],
    });
  return { drift, repairs };
}

export interface DriftWebhookOptions {
  /** `reconcile.webhookUrl`; nothing is posted when undefined. */
  url: Secret | undefined;
  /** `reconcile.webhookTimeoutMs`: the whole request, connect to last byte. */
  timeoutMs: number;
  logger: Logger;
  /** Injected for tests. Default: the global fetch. */
  fetch?: typeof fetch;
}

/** Posts a drift report; resolves to whether it was accepted (2xx). Never throws. */
export type DriftNotifier = (report: Record<string, unknown>) => Promise<boolean>;

/**
 * A webhook that receives each run's drift as JSON (POST). Failures (timeout, refused, non-2xx)
 * are logged at warn and otherwise ignored: a reconcile run never fails because a chat channel
 * is down. The URL is a secret (webhook URLs usually carry their token) and is never logged.
 */
export function createDriftWebhook(options: DriftWebhookOptions): DriftNotifier {
  const send = options.fetch ?? fetch;
  return async (report) => {
    const url = options.url;
    if (url === undefined) return false;
    try {
      const response = await send(url.reveal(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(report),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      // Read (and drop) the body so the connection is released.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return true;
      options.logger.warn({ status: response.status }, 'reconcile webhook refused the drift report');
    } catch (error) {
      const name = (error as Error | null)?.name;
      options.logger.warn(
        { reason: name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : describe(error) },
        'reconcile webhook failed; the drift is in the output and the logs',
      );
    }
    return false;
  };
}

// fetch's errors wrap the network error in `cause`; neither message carries the URL.
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ?? cause?.message ?? (error as Error | null)?.message ?? String(error);
}
