import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { type Config, configSchema } from './config-schema.js';
import { ConfigError, type FieldIssue } from './errors.js';
import { formatPath, zodIssues } from './validation.js';

export * from './config-schema.js';

/** Loading the configuration: file, `${VAR}` interpolation, TRADECTL_* overrides, validation. */

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
