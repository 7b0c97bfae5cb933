import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { TradectlError } from '../../src/core/errors.js';
import { createLogger, type Logger, REDACT_PATHS } from '../../src/core/logger.js';
import { redactUrl, Secret } from '../../src/core/secret.js';

const VALUE = 'sk_live_DO_NOT_PRINT_42';

/** A logger writing JSON lines into memory, as production would write them to stderr. */
function memoryLogger(level = 'trace'): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  text: () => string;
} {
  const chunks: string[] = [];
  const logger = createLogger({
    level,
    base: {},
    destination: { write: (chunk: string) => chunks.push(chunk) },
  });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('Secret', () => {
  const secret = new Secret(VALUE);

  it('gives its value only through reveal()', () => {
    expect(secret.reveal()).toBe(VALUE);
  });

  it.each<[string, () => string]>([
    ['JSON.stringify', () => JSON.stringify(secret)],
    ['JSON.stringify nested', () => JSON.stringify({ auth: { token: secret }, list: [secret] })],
    ['JSON.stringify pretty', () => JSON.stringify({ secret }, null, 2)],
    ['util.inspect', () => inspect(secret)],
    ['util.inspect nested', () => inspect({ a: { b: { c: secret } } }, { depth: Number.POSITIVE_INFINITY })],
    ['util.inspect showHidden', () => inspect(secret, { showHidden: true })],
    [
      'util.inspect without custom inspect',
      () => inspect(secret, { customInspect: false, showHidden: true }),
    ],
    ['String()', () => String(secret)],
    ['template literal', () => `token=${secret}`],
    ['concatenation', () => `${'token='}${secret}`],
    ['util.format %s', () => format('%s', secret)],
    ['util.format %o', () => format('%o', secret)],
    ['util.format %j', () => format('%j', { secret })],
    ['Object.entries', () => JSON.stringify(Object.entries(secret))],
    ['spread', () => JSON.stringify({ ...secret })],
    ['error message', () => new Error(`request failed with ${secret}`).message],
  ])('never shows its value through %s', (_how, render) => {
    const text = render();
    expect(text).not.toContain(VALUE);
  });

  it('prints as [redacted] where it is printed at all', () => {
    expect(JSON.stringify(secret)).toBe('"[redacted]"');
    expect(String(secret)).toBe('[redacted]');
    expect(inspect(secret)).toBe('[redacted]');
  });

  it('survives console-style output of a parsed config', () => {
    const config = parseConfig({
      accounts: [{ platform: 'etsy', id: 'shop', userId: 1, credentials: { apiKey: VALUE } }],
    });
    expect(inspect(config, { depth: Number.POSITIVE_INFINITY })).not.toContain(VALUE);
    expect(JSON.stringify(config)).not.toContain(VALUE);
    expect(String(config.accounts[0]!.credentials.apiKey)).toBe('[redacted]');
  });
});

describe('redactUrl', () => {
  it('replaces the password of a connection URL', () => {
    expect(redactUrl('mysql://app:hunter2@db:3306/x')).toBe('mysql://app:redacted@db:3306/x');
    expect(redactUrl('redis://:hunter2@cache:6379')).not.toContain('hunter2');
    expect(redactUrl('redis://cache:6379')).toBe('redis://cache:6379');
    expect(redactUrl('not a url hunter2')).toBe('[redacted]');
  });
});

describe('logger redaction', () => {
  it('prints a Secret as [redacted] wherever it sits in a log call', () => {
    const { logger, text, lines } = memoryLogger();
    const secret = new Secret(VALUE);
    logger.info({ secret, nested: { deeper: { secret } }, list: [secret] }, 'with secrets');
    logger.info(`template ${secret}`);
    logger.info('format %s %j', secret, { secret });
    logger.child({ apiKey: secret }).warn('child binding');
    logger.error(
      new TradectlError('TRADECTL_TEST', `failed with ${secret}`, { kind: 'internal', details: { secret } }),
    );
    expect(lines()).toHaveLength(5);
    expect(text()).not.toContain(VALUE);
    expect(lines()[0]).toMatchObject({ secret: '[redacted]', nested: { deeper: { secret: '[redacted]' } } });
  });

  it.each<[string, Record<string, unknown>]>([
    ['authorization header', { headers: { authorization: `Bearer ${VALUE}` } }],
    ['Authorization header as axios sends it', { headers: { Authorization: `Bearer ${VALUE}` } }],
    ['request headers', { req: { headers: { authorization: `Bearer ${VALUE}` } } }],
    ['Amazon access token header', { request: { headers: { 'x-amz-access-token': VALUE } } }],
    ['Shopify access token header', { request: { headers: { 'X-Shopify-Access-Token': VALUE } } }],
    ['API key header', { request: { headers: { 'x-api-key': VALUE } } }],
    ['HTTP client error config', { err: { config: { headers: { Authorization: `Bearer ${VALUE}` } } } }],
    ['token', { token: VALUE }],
    ['access_token of a token response', { response: { access_token: VALUE, expires_in: 3600 } }],
    ['refresh_token', { body: { refresh_token: VALUE } }],
    ['accessToken', { accessToken: VALUE }],
    ['refreshToken', { account: { refreshToken: VALUE } }],
    ['client_secret', { form: { client_secret: VALUE } }],
    ['clientSecret', { clientSecret: VALUE }],
    ['password', { db: { password: VALUE } }],
    ['raw credentials', { account: { id: 'us', credentials: { accessToken: VALUE } } }],
    ['top-level credentials', { credentials: { apiKey: VALUE } }],
  ])('hides the raw %s', (_what, object) => {
    const { logger, text } = memoryLogger();
    logger.info(object, 'raw values from outside');
    expect(text()).toContain('raw values from outside');
    expect(text()).not.toContain(VALUE);
    expect(text()).toContain('[redacted]');
  });

  it('keeps the fields around the redacted ones', () => {
    const { logger, lines } = memoryLogger();
    logger.info(
      { request: { method: 'GET', headers: { Authorization: 'Bearer x', accept: 'json' } } },
      'call',
    );
    expect(lines()[0]).toMatchObject({
      request: { method: 'GET', headers: { Authorization: '[redacted]', accept: 'json' } },
    });
  });

  it('redacts an HTTP client error logged through the err serializer', () => {
    const { logger, text } = memoryLogger();
    const error = Object.assign(new Error('Request failed with status code 401'), {
      config: { url: 'https://api.example.com', headers: { Authorization: `Bearer ${VALUE}` } },
    });
    logger.error({ err: error }, 'call failed');
    expect(text()).toContain('status code 401');
    expect(text()).not.toContain(VALUE);
  });

  it('fixes its paths at start-up: every path is accepted by pino', () => {
    expect(REDACT_PATHS.length).toBeGreaterThan(0);
    expect(new Set(REDACT_PATHS).size).toBe(REDACT_PATHS.length);
    expect(() => memoryLogger()).not.toThrow();
  });
});
