import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMap, isPair, isScalar, parseDocument, type Scalar, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { configSchema, loadConfig, parseConfig } from '../../src/core/config.js';
import { ConfigError } from '../../src/core/errors.js';

// config/default.yaml is the configuration reference: it must stay equal to the schema defaults
// and document every key; config/sandbox.yaml is the example the README and --help point at.
const DEFAULT_YAML = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));
const SANDBOX_YAML = fileURLToPath(new URL('../../config/sandbox.yaml', import.meta.url));
const CONFIG_SOURCE = fileURLToPath(new URL('../../src/core/config.ts', import.meta.url));

async function configErrorAsync(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('config/default.yaml', () => {
  it('parses to exactly the schema defaults', async () => {
    expect(await loadConfig({ file: DEFAULT_YAML, env: {} })).toEqual(parseConfig({}));
  });

  it('documents every key of the schema with a comment', async () => {
    const text = await readFile(DEFAULT_YAML, 'utf8');
    const documented = commentedKeys(text);
    for (const path of schemaPaths(configSchema)) {
      const leaf = path.split('.').at(-1)!;
      // Keys without a default (ids.workerId) are shown commented out.
      const present = documented.has(path) || new RegExp(`^\\s*#\\s+${leaf}:`, 'm').test(text);
      expect(present, `${path} is not documented in config/default.yaml`).toBe(true);
    }
    for (const [path, comment] of documented) {
      expect(comment, `${path} has no comment`).not.toBe('');
    }
  });

  it('gives every setting its default and environment override in the comment', async () => {
    const documented = commentedKeys(await readFile(DEFAULT_YAML, 'utf8'));
    for (const path of schemaPaths(configSchema)) {
      const comment = documented.get(path);
      if (comment === undefined) continue;
      expect(comment, `${path}: no "Default:"`).toMatch(/Default:/);
      expect(comment, `${path}: no "Env:"`).toMatch(/Env:/);
    }
  });

  it('mentions every TRADECTL_* variable the loader reads', async () => {
    const [source, yaml] = await Promise.all([
      readFile(CONFIG_SOURCE, 'utf8'),
      readFile(DEFAULT_YAML, 'utf8'),
    ]);
    const variables = new Set(
      [...source.matchAll(/\benv\.(TRADECTL_[A-Z0-9_]+)/g)].map((match) => match[1]!),
    );
    expect(variables.size).toBeGreaterThanOrEqual(6);
    for (const variable of variables) expect(yaml, variable).toContain(variable);
  });

  it('documents every account field', async () => {
    const yaml = await readFile(DEFAULT_YAML, 'utf8');
    for (const path of schemaPaths(configSchema, '', true).filter((p) => p.startsWith('accounts[].'))) {
      const field = path.slice('accounts[].'.length).split('.')[0]!;
      expect(yaml, path).toMatch(new RegExp(`^#\\s+(- )?${field}:`, 'm'));
    }
  });
});

describe('config/sandbox.yaml', () => {
  const env = { SANDBOX_SHOPIFY_TOKEN: 'shpat_from_env' };

  it('loads two accounts each for shopify, amazon and ebay against the local sandbox', async () => {
    const config = await loadConfig({ file: SANDBOX_YAML, env });
    const platforms = config.accounts.map((entry) => entry.platform).sort();
    expect(platforms).toEqual(['amazon', 'amazon', 'ebay', 'ebay', 'shopify', 'shopify']);
    for (const entry of config.accounts) {
      expect(entry.baseUrl).toBe('http://127.0.0.1:8700');
      expect(Object.keys(entry.credentials).length).toBeGreaterThan(0);
    }
    expect(new Set(config.accounts.map((entry) => entry.userId)).size).toBe(6);
  });

  it('reads the interpolated secret from the environment', async () => {
    const config = await loadConfig({ file: SANDBOX_YAML, env });
    const shop = config.accounts.find((entry) => entry.id === 'us-store')!;
    expect(shop.credentials.accessToken!.reveal()).toBe('shpat_from_env');
  });

  it('names the field when the variable is not set', async () => {
    const error = await configErrorAsync(loadConfig({ file: SANDBOX_YAML, env: {} }));
    expect(error.issues).toEqual([
      {
        path: 'accounts[0].credentials.accessToken',
        message: 'environment variable SANDBOX_SHOPIFY_TOKEN is not set',
      },
    ]);
    expect(error.message).toContain(SANDBOX_YAML);
  });
});

/** Key paths of the schema down to leaves; arrays of objects as `name[]` when `intoArrays`. */
function schemaPaths(schema: z.ZodType, prefix = '', intoArrays = false): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walks zod's public `def` tree generically
  const def = (schema as any).def;
  if (['default', 'prefault', 'optional', 'nullable'].includes(def.type)) {
    return schemaPaths(def.innerType, prefix, intoArrays);
  }
  if (def.type === 'object') {
    return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, value]) =>
      schemaPaths(value, prefix ? `${prefix}.${key}` : key, intoArrays),
    );
  }
  if (intoArrays && def.type === 'array' && def.element.def.type === 'object') {
    return schemaPaths(def.element, `${prefix}[]`, intoArrays);
  }
  return [prefix];
}

/** Every key path of a YAML file with the comment written above (or beside) it. */
function commentedKeys(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (map: YAMLMap, prefix: string) => {
    map.items.forEach((pair, index) => {
      if (!isPair(pair) || !isScalar(pair.key)) return;
      const key = String((pair.key as Scalar).value);
      const path = prefix ? `${prefix}.${key}` : key;
      // The yaml library hangs the comment above a map's first key on the map itself.
      const above = (pair.key as Scalar).commentBefore ?? (index === 0 ? map.commentBefore : undefined);
      const beside = isScalar(pair.value) || isMap(pair.value) ? pair.value.comment : undefined;
      found.set(path, [above, beside].filter(Boolean).join('\n'));
      if (isMap(pair.value) && pair.value.items.length > 0) walk(pair.value, path);
    });
  };
  const contents = parseDocument(text).contents;
  if (isMap(contents)) walk(contents, '');
  return found;
}
