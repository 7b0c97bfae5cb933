import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with `[redacted]` whatever the log call passes. Secret values are also
 * wrapped in `Secret`, which prints redacted on its own; these paths catch the raw forms that
 * arrive from outside (HTTP headers, token responses, config before validation).
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'refreshToken',
  '*.refreshToken',
  'refresh_token',
  '*.refresh_token',
  'clientSecret',
  '*.clientSecret',
  'client_secret',
  '*.client_secret',
  'credentials',
  '*.credentials',
  'authorization',
  '*.authorization',
  'Authorization',
  '*.Authorization',
  ...secretHeaderPaths(),
];

// Paths are case-sensitive and HTTP clients keep the caller's spelling (axios sends
// `Authorization`), so each header is listed as sent and lower-cased; `*.*.headers` reaches
// an HTTP client error's `err.config.headers`.
function secretHeaderPaths(): string[] {
  const headers = ['Authorization', 'X-Amz-Access-Token', 'X-Shopify-Access-Token', 'X-Api-Key'];
  return headers
    .flatMap((name) => [name, name.toLowerCase()])
    .flatMap((name) => [`headers["${name}"]`, `*.headers["${name}"]`, `*.*.headers["${name}"]`]);
}

export interface LoggerOptions {
  level?: string;
  /** Where JSON lines go; stderr by default so stdout stays for command output. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that writes nowhere: for tests and library callers that bring none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
