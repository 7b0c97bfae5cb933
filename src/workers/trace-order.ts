import { Redis } from 'ioredis';
import type { BreakerOptions } from '../adapters/resilience/breaker.js';
import type { RetryPolicy } from '../adapters/resilience/retry.js';
import type { AdapterManifest } from '../adapters/types.js';
import type { MessageSource } from '../core/bus/dlq.js';
import { createCheckpointStore } from '../core/checkpoint-store.js';
import type { AccountConfig, Config } from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { MysqlPools } from '../core/mysql-pools.js';
import type { UnifiedOrder } from '../core/order.js';
import { createOrderStore, type StoredOrder } from '../core/order-store.js';
import type { Platform } from '../core/platforms.js';
import {
  type CoveringWindow,
  deadLettersOf,
  type TracedDeadLetter,
  type TraceVerdict,
  traceVerdict,
  windowsCovering,
} from '../core/reconcile/order-trace.js';
import { connectRedisFor } from '../core/redis-connect.js';
import { routerForConfig } from '../core/shard-admin.js';
import type { Instant } from '../core/time.js';
import { type AccountTarget, createAccountTargets, stopAccountTargets } from './account-targets.js';
import { selectAccounts } from './sync-once.js';
import { summarizeError } from './sync-result.js';

/**
 * `tradectl trace <platform> <order id>`: why an order is missing or stale. For each matching
 * account: its row in the shard, the platform's current version (asked through the adapter and
 * its limiter, unless offline), the sync windows that covered the platform's update time, the
 * checkpoint, its dead letter entries and the Kafka offsets recorded with them, and a verdict.
 */
export interface TraceOptions {
  config: Config;
  logger: Logger;
  platform: Platform;
  platformOrderId: string;
  account?: string | undefined;
  /** Do not ask the platform (no HTTP at all). */
  offline?: boolean | undefined;
  clock?: () => number;
  rateScale?: number;
  retry?: Partial<RetryPolicy>;
  breaker?: BreakerOptions;
  manifests?: readonly AdapterManifest[];
  signal?: AbortSignal | undefined;
}

export interface AccountTrace {
  platform: string;
  account: string;
  userId: string;
  /** Where the account's orders live. */
  shard: { database: string; table: string };
  stored: {
    id: string;
    status: string;
    /** The platform update time of the stored version: the version the upsert compares. */
    updatedAt: Instant;
    storedAt: Instant;
    lines: number;
  } | null;
  /** Whether the platform was asked, and its answer (null: it has no such order). */
  platformAsked: boolean;
  platformVersion: { updatedAt: Instant; status: string } | null;
  platformError: string | null;
  checkpoint: Instant | null;
  /** Sync windows that covered the order's update time (the platform's, else the stored one). */
  windows: { total: number; newest: CoveringWindow[] };
  deadLetters: TracedDeadLetter[];
  /** Kafka positions recorded for the order (the sink keeps none for stored orders; the DLQ does). */
  kafkaOffsets: MessageSource[];
  verdict: TraceVerdict;
  explanation: string;
}

export interface TraceResult {
  platform: string;
  platformOrderId: string;
  accounts: AccountTrace[];
}

export async function traceOrder(options: TraceOptions): Promise<TraceResult> {
  const { config, logger, platformOrderId } = options;
  if (platformOrderId === '' || platformOrderId.length > 64) {
    throw new ValidationError('invalid order id', [
      { path: 'orderId', message: 'expected the platform order id, 1-64 characters' },
    ]);
  }
  const accounts = selectAccounts(config, options.platform, options.account);
  const router = routerForConfig(config);
  const pools = new MysqlPools(config, router, { connectionLimit: 2 });
  const store = createOrderStore({
    pools,
    router,
    nextId: () => {
      throw new Error('trace only reads');
    },
  });
  const checkpoints = createCheckpointStore({ pools, router });
  let redis: Redis | undefined;
  let targets: AccountTarget[] = [];
  try {
    if (!options.offline) {
      redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
      redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
      targets = createAccountTargets({ ...options, accounts, redis });
      await connectRedisFor(redis, {
        code: 'TRADECTL_RECONCILE_UNAVAILABLE',
        purpose: 'rate limits',
        hint: 'check redis.url (TRADECTL_REDIS_URL), or trace with --offline',
      });
    }
    const traces: AccountTrace[] = [];
    for (const account of accounts) {
      const target = targets.find((entry) => entry.account === account);
      const stored = await store.getByPlatformKey({
        platform: account.platform,
        account: account.id,
        platformOrderId,
        userId: account.userId,
      });
      const asked = await askPlatform(target, platformOrderId, options.signal);
      const checkpoint = (await checkpoints.get(account.platform, account.id))?.cursorTime ?? null;
      const at = asked.order?.updatedAt ?? stored?.updatedAt;
      const windows =
        at === undefined
          ? { total: 0, windows: [] }
          : await windowsCovering({ pools, router, platform: account.platform, account: account.id, at });
      const deadLetters = await deadLettersOf({
        pools,
        router,
        platform: account.platform,
        account: account.id,
        platformOrderId,
      });
      traces.push(
        assemble(account, router, stored, asked, checkpoint, windows, deadLetters, target !== undefined),
      );
    }
    return { platform: options.platform, platformOrderId, accounts: traces };
  } finally {
    await stopAccountTargets(targets, logger);
    await redis?.quit().catch(() => redis?.disconnect());
    await pools.close();
  }
}

interface Asked {
  /** undefined: not asked or failed; null: the platform has no such order. */
  order: UnifiedOrder | null | undefined;
  error: string | null;
}

async function askPlatform(
  target: AccountTarget | undefined,
  platformOrderId: string,
  signal: AbortSignal | undefined,
): Promise<Asked> {
  if (target === undefined) return { order: undefined, error: null };
  try {
    return { order: await target.adapter.getOrder({ platformOrderId, signal }), error: null };
  } catch (error) {
    return { order: undefined, error: summarizeError(error, signal).message };
  }
}

function assemble(
  account: AccountConfig,
  router: ReturnType<typeof routerForConfig>,
  stored: StoredOrder | null,
  asked: Asked,
  checkpoint: Instant | null,
  windows: { total: number; windows: CoveringWindow[] },
  deadLetters: TracedDeadLetter[],
  platformAsked: boolean,
): AccountTrace {
  const location = router.route(account.userId);
  const open = deadLetters.filter((entry) => entry.replayedAt === null);
  const { verdict, explanation } = traceVerdict({
    stored,
    platform: asked.order === undefined ? undefined : asked.order && { updatedAt: asked.order.updatedAt },
    checkpoint,
    windows: windows.total,
    lastWindowFinishedAt: windows.windows[0]?.finishedAt ?? null,
    openDeadLetters: open,
  });
  return {
    platform: account.platform,
    account: account.id,
    userId: account.userId,
    shard: { database: location.databaseName, table: `orders_${location.tableSuffix}` },
    stored: stored && {
      id: stored.id,
      status: stored.status,
      updatedAt: stored.updatedAt,
      storedAt: stored.storedAt,
      lines: stored.lines.length,
    },
    platformAsked,
    platformVersion: asked.order ? { updatedAt: asked.order.updatedAt, status: asked.order.status } : null,
    platformError: asked.error,
    checkpoint,
    windows: { total: windows.total, newest: windows.windows },
    deadLetters,
    kafkaOffsets: deadLetters.flatMap((entry) => (entry.source ? [entry.source] : [])),
    verdict,
    explanation,
  };
}
