import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, type FieldIssue } from './errors.js';
import { PLATFORMS } from './platforms.js';
import { Secret } from './secret.js';
import { formatPath, zodIssues } from './validation.js';

/**
 * tradectl's configuration: one YAML or JSON file plus TRADECTL_* environment overrides,
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
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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

export interface LoadConfigOptions {
  /** Path of a YAML or JSON file; none means defaults plus environment. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** Reads, interpolates, overrides and validates; throws one ConfigError listing every problem. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.TRADECTL_CONFIG;
  let raw: unknown = {};
  if (file) raw = await readConfigFile(file);
  return parseConfig(raw, env, file);
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, source?: string): Config {
  const issues: FieldIssue[] = [];
  const interpolated = interpolate(raw, env, [], issues);
  const withEnv = applyEnvOverrides(interpolated, env, issues);
  const result = configSchema.safeParse(withEnv);
  if (!result.success) issues.push(...zodIssues(result.error));
  if (issues.length > 0 || !result.success) throw new ConfigError(issues, { source });
  return result.data;
}

async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: '', message: `cannot read ${file}: ${(error as Error).message}` }], {
      source: file,
    });
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : (parseYaml(text) ?? {});
  } catch (error) {
    throw new ConfigError(
      [
        {
          path: '',
          message: `not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
        },
      ],
      {
        source: file,
      },
    );
  }
}

// `${NAME}` in any string value is replaced from the environment, so secrets can stay out of
// the file. A missing variable is a config problem naming the field, not an empty string.
function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: PropertyKey[],
  issues: FieldIssue[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined) {
        issues.push({ path: formatPath('', path), message: `environment variable ${name} is not set` });
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => interpolate(item, env, [...path, index], issues));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, [...path, key], issues)]),
    );
  }
  return value;
}

function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv, issues: FieldIssue[]): unknown {
  if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    issues.push({ path: '', message: 'the config file must hold an object' });
    return {};
  }
  const config = structuredClone((raw ?? {}) as Record<string, Record<string, unknown>>);
  const section = (name: string) => {
    const current = config[name];
    if (current === undefined || current === null) config[name] = {};
    return config[name] as Record<string, unknown>;
  };
  if (env.TRADECTL_MYSQL_URL) section('mysql').url = env.TRADECTL_MYSQL_URL;
  if (env.TRADECTL_REDIS_URL) section('redis').url = env.TRADECTL_REDIS_URL;
  if (env.TRADECTL_KAFKA_BROKERS !== undefined) {
    section('kafka').brokers = env.TRADECTL_KAFKA_BROKERS.split(',')
      .map((broker) => broker.trim())
      .filter(Boolean);
  }
  if (env.TRADECTL_LOG_LEVEL) section('log').level = env.TRADECTL_LOG_LEVEL;
  if (env.TRADECTL_WORKER_ID) {
    // Number() alone would take "0x10" or "1e2"; a worker id is plain decimal digits.
    const workerId = /^\s*\d+\s*$/.test(env.TRADECTL_WORKER_ID) ? Number(env.TRADECTL_WORKER_ID) : Number.NaN;
    if (!Number.isInteger(workerId)) {
      issues.push({ path: 'ids.workerId', message: 'TRADECTL_WORKER_ID must be an integer' });
    } else section('ids').workerId = workerId;
  }
  if (env.TRADECTL_DB_PREFIX) section('mysql').databasePrefix = env.TRADECTL_DB_PREFIX;
  return config;
}

/** The config as it may be printed: secrets and DSN passwords redacted. */
export function printableConfig(config: Config): unknown {
  return JSON.parse(
    JSON.stringify(config, (_key, value) =>
      typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactDsn(value) : value,
    ),
  );
}

// A password that was not percent-encoded may hold ':', '/' or '@', so everything from the
// userinfo's first ':' to the last '@' goes; `redis://:secret@host` (no user) is covered too.
function redactDsn(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):.*@(?=[^@]*$)/i, '$1:[redacted]@');
}
