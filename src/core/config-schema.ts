import { z } from 'zod';
import { PLATFORMS, type Platform } from './platforms.js';
import { Secret } from './secret.js';
import { inventoryPushSchema } from './stock/push-config.js';

/**
 * The schema of tradectl's configuration (loading, interpolation and environment overrides are
 * in config.ts): one YAML or JSON file plus TRADECTL_* environment overrides,
 * validated once at start-up. Every default lives here, next to its field's TSDoc; the
 * README's configuration reference is generated from the same source of truth by hand, and
 * config/default.yaml is checked against it by a test.
 */

const mysqlUrl = z
  .string()
  .refine((value) => /^mysql:\/\/[^/]+/.test(value), 'expected mysql://user:password@host:port');

const secret = z.union([z.string(), z.number()]).transform((value) => new Secret(String(value)));

const userId = z
  .union([z.string(), z.number()])
  .transform((value) => String(value))
  .refine((value) => /^\d{1,19}$/.test(value), 'expected a non-negative integer user id');

/**
 * How far back each incremental window reaches before the last checkpoint (the overlap), per
 * platform: late-visible updates and eventual consistency are caught by re-reading it.
 * MARKETPLACES.md section 12: 2 min for Amazon and eBay, at least 5 min for Shopify and the rest.
 */
export const DEFAULT_LOOKBACK_SECONDS: Readonly<Record<Platform, number>> = {
  amazon: 120,
  ebay: 120,
  shopify: 300,
  walmart: 300,
  etsy: 300,
  aliexpress: 300,
  mercadolibre: 300,
  shopee: 300,
  allegro: 300,
  tiktok: 300,
};

/**
 * How far behind "now" each window ends, per platform. Amazon refuses an updated-before bound
 * less than 2 minutes old; 150 s leaves 30 s for clock skew between this host and Amazon.
 */
export const DEFAULT_SAFETY_LAG_SECONDS: Readonly<Record<Platform, number>> = {
  amazon: 150,
  ebay: 60,
  shopify: 60,
  walmart: 60,
  etsy: 60,
  aliexpress: 60,
  mercadolibre: 60,
  shopee: 60,
  allegro: 60,
  tiktok: 60,
};

/** Amazon's hard minimum for a window's end behind the request time. */
export const AMAZON_MIN_SAFETY_LAG_SECONDS = 120;

const windowSeconds = z
  .number()
  .int('expected whole seconds')
  .min(0)
  .max(7 * 86_400);
const perPlatformSeconds = (defaults: Readonly<Record<Platform, number>>) =>
  z
    .partialRecord(z.enum(PLATFORMS, { message: `expected one of ${PLATFORMS.join(', ')}` }), windowSeconds)
    .default({
      ...defaults,
    });

const accountSchema = z.object({
  platform: z.enum(PLATFORMS, { message: `expected one of ${PLATFORMS.join(', ')}` }),
  /** Unique per platform; part of every order's identity. Letters, digits, - and _. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, - or _'),
  /** The internal user (seller) that owns this account's orders: decides their shard. */
  userId,
  enabled: z.boolean().default(true),
  /** Platform credentials (tokens, client ids, refresh tokens); each adapter validates its own. */
  credentials: z.record(z.string(), secret).default({}),
  /** Overrides the platform's API host (regions, proxies, the sandbox). */
  baseUrl: z.url().optional(),
  /** Overrides the token endpoint (Amazon LWA, eBay identity). */
  tokenUrl: z.url().optional(),
  /** Overrides the documented rate limits: requests per second and bucket size. */
  limits: z
    .object({
      ratePerSecond: z.number().positive().optional(),
      burst: z.number().int().positive().optional(),
    })
    .optional(),
  /** Platform-specific options (marketplace ids, shop id, API version…). */
  options: z.record(z.string(), z.unknown()).default({}),
  /** Overrides the platform's sync window settings (`sync.lookbackSeconds`/`safetyLagSeconds`) for this account. */
  sync: z
    .object({
      lookbackSeconds: windowSeconds.optional(),
      safetyLagSeconds: windowSeconds.optional(),
    })
    .optional(),
});
export type AccountConfig = z.infer<typeof accountSchema>;

export const configSchema = z
  .object({
    mysql: z
      .object({
        /** Server holding every shard database unless `shards.dsns` names one. Env TRADECTL_MYSQL_URL. */
        url: mysqlUrl.default('mysql://tradectl:tradectl@127.0.0.1:3306'),
        /** Shard databases are `<prefix>_00` … ; the meta database is `<prefix>_meta`. */
        databasePrefix: z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,40}$/, 'expected lower-case letters, digits and _')
          .default('tradectl'),
        /** Connections per database pool. */
        connectionLimit: z.number().int().positive().default(8),
      })
      .prefault({}),
    shards: z
      .object({
        databases: z.number().int().min(1).max(1024).default(16),
        tablesPerDatabase: z.number().int().min(1).max(4096).default(256),
        /** Per-database DSN, by database index; databases not listed live on `mysql.url`. */
        dsns: z.record(z.string().regex(/^\d+$/, 'expected a database index'), mysqlUrl).default({}),
      })
      .prefault({}),
    redis: z
      .object({
        /** Env TRADECTL_REDIS_URL. */
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'expected redis://host:port')
          .default('redis://127.0.0.1:6379'),
        /** Prefix of every key tradectl writes, so several deployments can share one Redis. */
        keyPrefix: z.string().default('tradectl:'),
      })
      .prefault({}),
    kafka: z
      .object({
        /** Env TRADECTL_KAFKA_BROKERS (comma-separated). Empty: the in-process bus is used. */
        brokers: z.array(z.string().regex(/^[^:]+:\d+$/, 'expected host:port')).default([]),
        clientId: z.string().default('tradectl'),
        ordersTopic: z.string().default('tradectl.orders.v1'),
        dlqTopic: z.string().default('tradectl.orders.dlq'),
        /** Partitions of ordersTopic when tradectl creates it: the most sink consumers that share work. */
        partitions: z.number().int().min(1).max(10_000).default(12),
        /** Partitions of dlqTopic when tradectl creates it. */
        dlqPartitions: z.number().int().min(1).max(10_000).default(3),
        /** Compression of produced batches (see bench/bus.ts for the measured cost). */
        compression: z.enum(['gzip', 'none']).default('gzip'),
        /** A consumer silent this long leaves its group and its partitions move to another. */
        sessionTimeoutMs: z.number().int().min(1000).max(3_600_000).default(30_000),
        /** How often a consumer heartbeats; below sessionTimeoutMs (a third of it is usual). */
        heartbeatIntervalMs: z.number().int().min(100).max(3_600_000).default(3000),
        /** Longest a fetch waits on idle partitions before returning empty. */
        maxWaitTimeMs: z.number().int().min(0).max(60_000).default(500),
        /**
         * Partitions one consumer processes at once; each partition stays in order. The sink writes
         * the batches of the partitions at hand together (group commit), so keep it at or above the
         * partitions one worker owns.
         */
        partitionsConsumedConcurrently: z.number().int().min(1).max(256).default(16),
        /** Consumer group of the order sink (`tradectl sync` and the worker's sink role share it). */
        sinkGroupId: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected letters, digits, ., _ or -')
          .default('tradectl-sink'),
      })
      .refine((kafka) => kafka.heartbeatIntervalMs < kafka.sessionTimeoutMs, {
        path: ['heartbeatIntervalMs'],
        message: 'must be below sessionTimeoutMs',
      })
      .prefault({}),
    ids: z
      .object({
        /** Fixed Snowflake worker id (0-1023); leave unset to lease one in Redis. Env TRADECTL_WORKER_ID. */
        workerId: z.number().int().min(0).max(1023).optional(),
        /** Custom epoch of the 41-bit millisecond field (lasts 69 years from here). */
        epoch: z.iso.datetime().default('2024-01-01T00:00:00.000Z'),
      })
      .prefault({}),
    sync: z
      .object({
        /** Worker: time between two syncs of one account, seconds. */
        intervalSeconds: z.number().int().min(1).max(86_400).default(300),
        /** Worker: up to this many seconds added at random to each interval, so accounts spread out. */
        jitterSeconds: z.number().int().min(0).max(86_400).default(30),
        /** Overlap before the last checkpoint that each window re-reads, per platform. */
        lookbackSeconds: perPlatformSeconds(DEFAULT_LOOKBACK_SECONDS),
        /** How far behind now each window ends, per platform. */
        safetyLagSeconds: perPlatformSeconds(DEFAULT_SAFETY_LAG_SECONDS),
        /** Long windows (backfills) are cut into chunks of this many hours, each checkpointed. */
        chunkHours: z
          .number()
          .positive()
          .max(24 * 31)
          .default(24),
        /** How far back the first sync of an account (no checkpoint yet) reaches, days. */
        initialBackfillDays: z.number().positive().max(3650).default(30),
      })
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .prefault({}),
    /** The worker's HTTP API: /healthz, /readyz, /metrics and the stock API (/v1/stock). */
    api: z
      .object({
        /** Port the worker listens on (0: any free port). Default 8080. */
        port: z.number().int().min(0).max(65_535).default(8080),
        /** Address the worker listens on. Default 0.0.0.0 (all interfaces, as containers need). */
        host: z.string().min(1, 'must not be empty').default('0.0.0.0'),
        /**
         * Bearer tokens the stock API accepts (any of them; several allow rotation). Never
         * printed. Empty: the worker serves no /v1/stock routes. Default [].
         */
        tokens: z
          .array(
            z
              .string()
              .min(16, 'expected a token of at least 16 characters')
              .transform((value) => new Secret(value)),
          )
          .default([]),
        /**
         * How long the stock API's Redis connection holds a command, once commands have waited
         * 0.5 ms with no answer, so the ones behind it share one write (0: never). Default 1;
         * fractions work too (src/core/redis-linger.ts: a later command ends a hold, not a timer).
         */
        redisLingerMs: z.number().min(0).max(20).default(1),
      })
      .prefault({}),
    /** The worker daemon (`tradectl worker`): lifecycle and sampling. */
    worker: z
      .object({
        /**
         * Longest a SIGTERM shutdown may take before the worker gives up on what is still
         * running and exits 1, ms. Below Docker's and Kubernetes' 30 s grace period. Default 25,000.
         */
        shutdownTimeoutMs: z.number().int().min(1000).max(600_000).default(25_000),
        /** Accounts the sync role syncs at once (each still one at a time). Default 8. */
        syncConcurrency: z.number().int().min(1).max(256).default(8),
        /** How often the Kafka consumer lag is read from the brokers for /metrics, ms. Default 5,000. */
        lagSampleIntervalMs: z.number().int().min(100).max(600_000).default(5000),
        /**
         * When the stock API is served: how long after SIGTERM it keeps answering (with /readyz
         * 503) before it closes, so load balancers stop sending first, ms. Default 3,000.
         */
        apiDrainMs: z.number().int().min(0).max(60_000).default(3000),
      })
      .prefault({}),
    /** Inventory push to the channels (docs/inventory-push.md): timing and quantity rules. */
    inventoryPush: inventoryPushSchema,
    /**
     * Stock deduction of marketplace orders (docs/stock-orders.md): the sink writes a stock intent
     * per order line with the order, and drains it into Redis after the commit.
     */
    orderStock: z
      .object({
        /** Deduct sold lines and release cancelled ones. Off: orders are stored, stock untouched. Default true. */
        enabled: z.boolean().default(true),
        /** Release calls in flight per shard database while draining (deducts are pipelined). Default 16. */
        concurrency: z.number().int().min(1).max(256).default(16),
        /**
         * How long the sweep leaves a new intent to the sink that wrote it, and the first delay
         * after a failed attempt (doubling per attempt, up to 10 min), ms. Default 30,000.
         */
        retryAfterMs: z.number().int().min(100).max(3_600_000).default(30_000),
        /** How often the worker sweeps intents left pending (crash, outage), ms. Default 30,000. */
        sweepIntervalMs: z.number().int().min(100).max(3_600_000).default(30_000),
        /** Attempts before a line mapped to a SKU that Redis does not know is reported and given up. Default 10. */
        unknownSkuAttempts: z.number().int().min(1).max(1000).default(10),
      })
      .prefault({}),
    /** `tradectl reconcile`: where drift is reported besides the output and the logs. */
    reconcile: z
      .object({
        /**
         * URL that receives each run's drift as a JSON POST (a chat or alerting webhook). A
         * secret: webhook URLs carry their token, so it is never printed. Default: unset (none).
         */
        webhookUrl: z
          .url()
          .transform((value) => new Secret(value))
          .optional(),
        /** The whole webhook request, connect to last byte, ms; a failure is logged, never fatal. Default 5000. */
        webhookTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
      })
      .prefault({}),
    accounts: z.array(accountSchema).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.accounts.forEach((account, index) => {
      const key = `${account.platform}:${account.id}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['accounts', index, 'id'],
          message: `duplicate account ${key}`,
        });
      }
      seen.add(key);
    });
    const amazonLag = config.sync.safetyLagSeconds.amazon;
    if (amazonLag !== undefined && amazonLag < AMAZON_MIN_SAFETY_LAG_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['sync', 'safetyLagSeconds', 'amazon'],
        message: `Amazon refuses windows ending less than ${AMAZON_MIN_SAFETY_LAG_SECONDS} s ago`,
      });
    }
    config.accounts.forEach((account, index) => {
      const lag = account.sync?.safetyLagSeconds;
      if (account.platform === 'amazon' && lag !== undefined && lag < AMAZON_MIN_SAFETY_LAG_SECONDS) {
        ctx.addIssue({
          code: 'custom',
          path: ['accounts', index, 'sync', 'safetyLagSeconds'],
          message: `Amazon refuses windows ending less than ${AMAZON_MIN_SAFETY_LAG_SECONDS} s ago`,
        });
      }
    });
    for (const index of Object.keys(config.shards.dsns)) {
      if (Number(index) >= config.shards.databases) {
        ctx.addIssue({
          code: 'custom',
          path: ['shards', 'dsns', index],
          message: `database ${index} does not exist (shards.databases is ${config.shards.databases})`,
        });
      }
    }
  });

export type Config = z.infer<typeof configSchema>;
