// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings test the config file's ${VAR} syntax
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig, parseConfig, printableConfig } from '../../src/core/config.js';
import { ConfigError, type FieldIssue } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tradectl-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tempFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

async function configErrorAsync(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const paths = (issues: readonly FieldIssue[]) => issues.map((issue) => issue.path);

const account = (overrides: Record<string, unknown> = {}) => ({
  platform: 'shopify',
  id: 'us-store',
  userId: '1001',
  ...overrides,
});

describe('defaults', () => {
  it('gives every setting its documented default', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      mysql: {
        url: 'mysql://tradectl:tradectl@127.0.0.1:3306',
        databasePrefix: 'tradectl',
        connectionLimit: 8,
      },
      shards: { databases: 16, tablesPerDatabase: 256, dsns: {} },
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'tradectl:' },
      kafka: {
        brokers: [],
        clientId: 'tradectl',
        ordersTopic: 'tradectl.orders.v1',
        dlqTopic: 'tradectl.orders.dlq',
      },
      ids: { epoch: '2024-01-01T00:00:00.000Z' },
      log: { level: 'info' },
      accounts: [],
    });
    expect(config.ids.workerId).toBeUndefined();
  });

  it('treats an empty file and no file alike', async () => {
    const empty = await tempFile('empty.yaml', '# nothing here\n');
    expect(await loadConfig({ file: empty, env: {} })).toEqual(parseConfig({}));
    expect(await loadConfig({ env: {} })).toEqual(parseConfig({}));
  });

  it('fills account defaults', () => {
    const [parsed] = parseConfig({ accounts: [account({ userId: 1001 })] }).accounts;
    expect(parsed).toEqual({ ...account(), enabled: true, credentials: {}, options: {} });
  });
});

describe('config files', () => {
  it('reads YAML', async () => {
    const file = await tempFile(
      'a.yaml',
      'mysql:\n  databasePrefix: shop\nshards:\n  databases: 4\naccounts:\n  - { platform: ebay, id: de, userId: 7 }\n',
    );
    const config = await loadConfig({ file, env: {} });
    expect(config.mysql.databasePrefix).toBe('shop');
    expect(config.shards).toEqual({ databases: 4, tablesPerDatabase: 256, dsns: {} });
    expect(config.accounts[0]).toMatchObject({ platform: 'ebay', id: 'de', userId: '7' });
  });

  it('reads JSON, and .yml as YAML', async () => {
    const json = await tempFile(
      'b.json',
      JSON.stringify({ log: { level: 'debug' }, kafka: { brokers: ['k:9092'] } }),
    );
    expect((await loadConfig({ file: json, env: {} })).log.level).toBe('debug');
    const yml = await tempFile('c.yml', 'log:\n  level: warn\n');
    expect((await loadConfig({ file: yml, env: {} })).log.level).toBe('warn');
  });

  it('takes the file from TRADECTL_CONFIG when none is given', async () => {
    const file = await tempFile('d.yaml', 'redis:\n  keyPrefix: "x:"\n');
    expect((await loadConfig({ env: { TRADECTL_CONFIG: file } })).redis.keyPrefix).toBe('x:');
  });

  it('names the file when it cannot be read or parsed', async () => {
    const missing = join(dir, 'missing.yaml');
    expect((await configErrorAsync(loadConfig({ file: missing, env: {} }))).message).toContain(missing);
    const badYaml = await tempFile('bad.yaml', 'mysql: [unclosed\n');
    expect((await configErrorAsync(loadConfig({ file: badYaml, env: {} }))).message).toMatch(
      /not valid YAML/,
    );
    const badJson = await tempFile('bad.json', '{ "mysql": ');
    expect((await configErrorAsync(loadConfig({ file: badJson, env: {} }))).message).toMatch(
      /not valid JSON/,
    );
    const list = await tempFile('list.yaml', '- a\n- b\n');
    expect((await configErrorAsync(loadConfig({ file: list, env: {} }))).message).toContain(
      'must hold an object',
    );
  });
});

describe('environment overrides', () => {
  it('overrides the file with TRADECTL_* variables', () => {
    const config = parseConfig(
      { mysql: { url: 'mysql://file:file@file:3306' }, log: { level: 'warn' } },
      {
        TRADECTL_MYSQL_URL: 'mysql://env:env@db:3307',
        TRADECTL_REDIS_URL: 'rediss://cache:6380',
        TRADECTL_KAFKA_BROKERS: 'k1:9092, k2:9092,',
        TRADECTL_WORKER_ID: '17',
        TRADECTL_LOG_LEVEL: 'debug',
        TRADECTL_DB_PREFIX: 'staging',
      },
    );
    expect(config.mysql.url).toBe('mysql://env:env@db:3307');
    expect(config.mysql.databasePrefix).toBe('staging');
    expect(config.redis.url).toBe('rediss://cache:6380');
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.ids.workerId).toBe(17);
    expect(config.log.level).toBe('debug');
  });

  it('lets an empty TRADECTL_KAFKA_BROKERS switch to the in-process bus', () => {
    expect(
      parseConfig({ kafka: { brokers: ['k:9092'] } }, { TRADECTL_KAFKA_BROKERS: '' }).kafka.brokers,
    ).toEqual([]);
  });

  it.each([
    [{ TRADECTL_WORKER_ID: 'abc' }, 'ids.workerId'],
    [{ TRADECTL_WORKER_ID: '0x10' }, 'ids.workerId'],
    [{ TRADECTL_WORKER_ID: '1e2' }, 'ids.workerId'],
    [{ TRADECTL_WORKER_ID: '1024' }, 'ids.workerId'],
    [{ TRADECTL_LOG_LEVEL: 'loud' }, 'log.level'],
    [{ TRADECTL_REDIS_URL: 'http://cache:6379' }, 'redis.url'],
    [{ TRADECTL_MYSQL_URL: 'postgres://db' }, 'mysql.url'],
    [{ TRADECTL_KAFKA_BROKERS: 'k1' }, 'kafka.brokers[0]'],
    [{ TRADECTL_DB_PREFIX: 'Bad-Prefix' }, 'mysql.databasePrefix'],
  ])('rejects %j, naming %s', (env, path) => {
    expect(paths(configError(() => parseConfig({}, env)).issues)).toEqual([path]);
  });
});

describe('${VAR} interpolation', () => {
  it('replaces variables anywhere in string values', () => {
    const config = parseConfig(
      {
        mysql: { url: 'mysql://tradectl:${DB_PASSWORD}@${DB_HOST}:3306' },
        accounts: [account({ credentials: { accessToken: '${SHOP_TOKEN}' } })],
      },
      { DB_PASSWORD: 'pw', DB_HOST: 'db1', SHOP_TOKEN: 'shpat_123' },
    );
    expect(config.mysql.url).toBe('mysql://tradectl:pw@db1:3306');
    expect(config.accounts[0]!.credentials.accessToken!.reveal()).toBe('shpat_123');
  });

  it('does not expand variables found inside a value', () => {
    const config = parseConfig({ kafka: { clientId: '${A}' } }, { A: '${B}', B: 'b' });
    expect(config.kafka.clientId).toBe('${B}');
  });

  it('names the field of every missing variable', () => {
    const error = configError(() =>
      parseConfig({
        kafka: { clientId: '${MISSING_ONE}' },
        accounts: [account(), account({ id: 'eu', credentials: { accessToken: 'x-${MISSING_TWO}' } })],
      }),
    );
    expect(error.issues).toEqual([
      { path: 'kafka.clientId', message: 'environment variable MISSING_ONE is not set' },
      { path: 'accounts[1].credentials.accessToken', message: 'environment variable MISSING_TWO is not set' },
    ]);
  });
});

describe('validation', () => {
  it('reports an unknown platform AND a non-numeric userId in ONE error naming both fields', () => {
    const error = configError(() =>
      parseConfig({ accounts: [account(), { platform: 'myspace', id: 'main', userId: 'alice' }] }),
    );
    expect(error.code).toBe('TRADECTL_CONFIG_INVALID');
    expect(error.kind).toBe('config');
    expect(error.retriable).toBe(false);
    expect(paths(error.issues).sort()).toEqual(['accounts[1].platform', 'accounts[1].userId']);
    expect(error.message).toContain('accounts[1].platform');
    expect(error.message).toContain('accounts[1].userId');
    expect(error.message).toContain('amazon, ebay, shopify');
    expect(error.hint).toBeTruthy();
  });

  it('lists problems from every section at once', () => {
    const error = configError(() =>
      parseConfig({
        shards: { databases: 0 },
        redis: { url: 'localhost' },
        accounts: [account({ id: 'bad id!', baseUrl: 'not a url' })],
      }),
    );
    expect(paths(error.issues).sort()).toEqual([
      'accounts[0].baseUrl',
      'accounts[0].id',
      'redis.url',
      'shards.databases',
    ]);
  });

  it('takes a linger below a millisecond and refuses one outside 0-20 ms, naming the field', () => {
    expect(parseConfig({ api: { redisLingerMs: 0.25 } }).api.redisLingerMs).toBe(0.25);
    for (const redisLingerMs of [-0.5, 21]) {
      const error = configError(() => parseConfig({ api: { redisLingerMs } }));
      expect(paths(error.issues)).toEqual(['api.redisLingerMs']);
    }
  });

  it('rejects duplicate accounts per platform, allowing the same id on another platform', () => {
    const error = configError(() =>
      parseConfig({ accounts: [account(), account({ platform: 'ebay' }), account({ userId: '2' })] }),
    );
    expect(error.issues).toEqual([{ path: 'accounts[2].id', message: 'duplicate account shopify:us-store' }]);
  });

  it('rejects a DSN for a database outside the layout', () => {
    const error = configError(() =>
      parseConfig({
        shards: { databases: 4, dsns: { '3': 'mysql://a:b@h2:3306', '4': 'mysql://a:b@h3:3306' } },
      }),
    );
    expect(paths(error.issues)).toEqual(['shards.dsns.4']);
    expect(error.message).toContain('shards.databases is 4');
    expect(paths(configError(() => parseConfig({ shards: { dsns: { x: 'mysql://h' } } })).issues)).toEqual([
      'shards.dsns.x',
    ]);
  });

  it.each([['-1'], ['12a'], ['1.5'], [''], ['12345678901234567890'], [-3]])(
    'rejects the user id %j',
    (userId) => {
      expect(paths(configError(() => parseConfig({ accounts: [account({ userId })] })).issues)).toEqual([
        'accounts[0].userId',
      ]);
    },
  );
});

describe('secrets', () => {
  const SECRET_VALUES = ['shpat_TOPSECRET', 'dbpa55', 'r3dis', 'p@ss/word', 'shardpw'];
  const config = (): Config =>
    parseConfig({
      mysql: { url: 'mysql://tradectl:dbpa55@db:3306' },
      shards: { databases: 2, dsns: { '1': 'mysql://tradectl:shardpw@db2:3306/x' } },
      redis: { url: 'redis://:r3dis@cache:6379' },
      accounts: [
        account({
          credentials: { accessToken: 'shpat_TOPSECRET', pin: 1234 },
          baseUrl: 'https://u:p@ss/word@proxy',
        }),
      ],
    });

  it('wraps credentials in Secret', () => {
    const credentials = config().accounts[0]!.credentials;
    expect(credentials.accessToken).toBeInstanceOf(Secret);
    expect(credentials.accessToken!.reveal()).toBe('shpat_TOPSECRET');
    expect(credentials.pin!.reveal()).toBe('1234');
  });

  it('printableConfig redacts credentials and every URL password', () => {
    const printable = printableConfig(config()) as Config;
    const text = JSON.stringify(printable);
    for (const value of [...SECRET_VALUES, '1234']) expect(text).not.toContain(value);
    expect(printable.mysql.url).toBe('mysql://tradectl:[redacted]@db:3306');
    expect(printable.shards.dsns['1']).toBe('mysql://tradectl:[redacted]@db2:3306/x');
    expect(printable.redis.url).toBe('redis://:[redacted]@cache:6379');
    expect(printable.accounts[0]!.credentials).toEqual({ accessToken: '[redacted]', pin: '[redacted]' });
    expect(printable.accounts[0]!.baseUrl).toBe('https://u:[redacted]@proxy');
  });

  it('leaves URLs without a password readable', () => {
    const printable = printableConfig(parseConfig({ mysql: { url: 'mysql://db:3306' } })) as Config;
    expect(printable.mysql.url).toBe('mysql://db:3306');
    expect(printable.redis.url).toBe('redis://127.0.0.1:6379');
  });

  it('never puts a secret into a ConfigError', () => {
    const error = configError(() =>
      parseConfig({
        mysql: { url: 'mysql://u:dbpa55@db:3306', connectionLimit: 'many' },
        accounts: [
          account({ platform: 'nope', credentials: { accessToken: 'shpat_TOPSECRET', nested: { a: 1 } } }),
        ],
      }),
    );
    const text = `${error.message} ${JSON.stringify(error.details)}`;
    expect(text).not.toContain('shpat_TOPSECRET');
    expect(text).not.toContain('dbpa55');
    expect(paths(error.issues).sort()).toEqual([
      'accounts[0].credentials.nested',
      'accounts[0].platform',
      'mysql.connectionLimit',
    ]);
  });
});
