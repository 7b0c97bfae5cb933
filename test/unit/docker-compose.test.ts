import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, parseConfig } from '../../src/core/config.js';

// docker-compose.yml's promises, read without a Docker engine (none runs here): `docker
// compose config` / `docker-compose config` / dclint check the schema; this checks the wiring.
const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: string[];
  restart?: string;
  stop_grace_period?: string;
}

const compose = parse(await readFile(root('docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const tradectlServices = Object.entries(services).filter(([, service]) => service.image === 'tradectl:local');
const configSource = await readFile(root('src/core/config.ts'), 'utf8');
const envReadByConfig = new Set(
  [...configSource.matchAll(/\benv\.(TRADECTL_[A-Z0-9_]+)/g)].map((m) => m[1]!),
);

/** Compose's `${NAME:-default}` with an empty environment: the values a fresh checkout runs with. */
const interpolate = (value: string | number) =>
  String(value).replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, _name: string, fallback = '') => fallback);
const envOf = (service: Service) =>
  Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(value)]),
  );
const words = (command: Service['command']) =>
  Array.isArray(command) ? command : (command ?? '').split(' ');

describe('docker-compose.yml', () => {
  it('has Kafka (KRaft), MySQL 8, Redis 7, the sandbox, shards init and the worker', () => {
    expect(Object.keys(services).sort()).toEqual([
      'kafka',
      'mysql',
      'redis',
      'sandbox',
      'shards-init',
      'worker',
    ]);
    expect(services.kafka!.image).toMatch(/^apache\/kafka:\d/);
    expect(envOf(services.kafka!).KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(JSON.stringify(services)).not.toMatch(/zookeeper/i);
    expect(services.mysql!.image).toMatch(/^mysql:8(\.|$)/);
    expect(services.redis!.image).toMatch(/^redis:7(\.|$)/);
  });

  it('sizes MySQL to keep a 16 x 256 layout in its table cache', () => {
    const option = (name: string) =>
      Number(
        /=(\d+)$/.exec(
          words(services.mysql!.command).find((word) => word.startsWith(`--${name}=`)) ?? '',
        )?.[1],
      );
    const layoutTables = 16 * 256 * 3 + 16;
    expect(option('table-open-cache')).toBeGreaterThan(layoutTables);
    expect(option('table-definition-cache')).toBeGreaterThan(layoutTables);
    // mysqld lowers table_open_cache to (open_files_limit - max_connections) / 2 at start.
    const files = Math.min(
      option('open-files-limit'),
      (services.mysql as { ulimits?: { nofile?: { hard?: number } } }).ulimits?.nofile?.hard ?? 0,
    );
    expect((files - 10 - option('max-connections')) / 2).toBeGreaterThanOrEqual(option('table-open-cache'));
  });

  it('keeps Redis on AOF', () => {
    const command = words(services.redis!.command).join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--appendfsync (everysec|always)/);
  });

  it('builds one tradectl image and runs the worker with its default command', () => {
    expect(tradectlServices.map(([name]) => name).sort()).toEqual(['sandbox', 'shards-init', 'worker']);
    for (const [, service] of tradectlServices) expect(service.build).toBe('.');
    expect(services.worker!.command).toBeUndefined();
    expect(words(services['shards-init']!.command)).toEqual(['tradectl', 'shards', 'init']);
    expect(services['shards-init']!.restart).toBe('no');
    expect(words(services.sandbox!.command).slice(0, 2)).toEqual(['tradectl', 'sandbox']);
    // In a container the sandbox must listen beyond loopback for the worker to reach it.
    expect(words(services.sandbox!.command).join(' ')).toMatch(/--host 0\.0\.0\.0/);
  });

  it('gives every long-running service a health check (the worker keeps the image HEALTHCHECK)', () => {
    for (const name of ['kafka', 'mysql', 'redis', 'sandbox']) {
      expect(services[name]!.healthcheck?.test?.length, name).toBeGreaterThan(0);
    }
    expect(services.worker!.healthcheck).toBeUndefined();
    expect(services['shards-init']!.healthcheck?.disable).toBe(true);
  });

  it('starts shards init after MySQL, and the worker after shards init and the servers', () => {
    expect(services['shards-init']!.depends_on).toEqual({ mysql: { condition: 'service_healthy' } });
    expect(services.worker!.depends_on).toEqual({
      'shards-init': { condition: 'service_completed_successfully' },
      kafka: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      sandbox: { condition: 'service_healthy' },
    });
  });

  it('keeps the data of Kafka, MySQL and Redis in declared named volumes', () => {
    const dataDirs = { kafka: '/var/lib/kafka/data', mysql: '/var/lib/mysql', redis: '/data' };
    for (const [name, dir] of Object.entries(dataDirs)) {
      const mount = services[name]!.volumes?.find((volume) => volume.split(':')[1] === dir);
      expect(mount, `${name} mounts ${dir}`).toBeDefined();
      expect(Object.keys(compose.volumes)).toContain(mount!.split(':')[0]);
    }
    expect(envOf(services.kafka!).KAFKA_LOG_DIRS).toBe(dataDirs.kafka);
  });

  it('configures tradectl only through variables the config loader reads', () => {
    for (const [name, service] of tradectlServices) {
      for (const variable of Object.keys(envOf(service)).filter((key) => key.startsWith('TRADECTL_'))) {
        expect(envReadByConfig, `${name}: ${variable}`).toContain(variable);
      }
    }
  });

  it('points the worker at the compose servers, with the MySQL user the mysql service creates', () => {
    const env = envOf(services.worker!);
    const mysql = envOf(services.mysql!);
    const url = new URL(env.TRADECTL_MYSQL_URL!);
    expect([url.hostname, url.port, url.username, url.password]).toEqual([
      'mysql',
      '3306',
      mysql.MYSQL_USER,
      mysql.MYSQL_PASSWORD,
    ]);
    expect(env.TRADECTL_REDIS_URL).toBe('redis://redis:6379');
    expect(envOf(services.kafka!).KAFKA_ADVERTISED_LISTENERS).toBe(
      `PLAINTEXT://${env.TRADECTL_KAFKA_BROKERS}`,
    );
  });

  it("loads the worker's config file with the compose environment, accounts on the sandbox service", async () => {
    const env = envOf(services.worker!);
    const file = env.TRADECTL_CONFIG!.replace(/^\/app\//, '');
    const config = await loadConfig({ file: root(file), env });
    const port = words(services.sandbox!.command)[words(services.sandbox!.command).indexOf('--port') + 1];
    expect(config.accounts.length).toBeGreaterThan(0);
    for (const account of config.accounts) expect(account.baseUrl).toBe(`http://sandbox:${port}`);
    expect(config.api.tokens.length).toBe(1);
    // Every other variable the service sets is a ${NAME} the config file reads.
    const text = await readFile(root(file), 'utf8');
    for (const variable of Object.keys(env).filter((key) => !key.startsWith('TRADECTL_'))) {
      expect(text, variable).toContain(`\${${variable}}`);
    }
  });

  it('gives the worker more time to stop than its own shutdown timeout', () => {
    const grace = Number(/^(\d+)s$/.exec(services.worker!.stop_grace_period ?? '')?.[1]) * 1000;
    expect(grace).toBeGreaterThan(parseConfig({}).worker.shutdownTimeoutMs);
  });
});
