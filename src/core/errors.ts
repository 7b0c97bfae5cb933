/**
 * One base error for everything tradectl raises on purpose.
 *
 * - `code` is stable and documented (docs/errors.md); tests check the catalogue and the docs agree.
 * - `retriable` is the only thing a retry policy reads: programmer errors and bad data are never
 *   retried, transient I/O failures are.
 * - `kind` is the class the rest of the system acts on: `config` stops an account (or start-up)
 *   and tells the operator, `transient` is retried and counted by breakers, `data` quarantines
 *   one record and keeps going.
 */
export type ErrorKind = 'config' | 'transient' | 'data' | 'usage' | 'internal';

export interface TradectlErrorOptions {
  kind: ErrorKind;
  retriable?: boolean;
  cause?: unknown;
  /** Machine-readable context (field paths, platform, ids). Never secrets. */
  details?: Record<string, unknown>;
  /** A line the operator can act on ("run tradectl shards init", "re-authorise the account"). */
  hint?: string;
}

export class TradectlError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: TradectlErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TradectlError';
    this.code = code;
    this.kind = options.kind;
    this.retriable = options.retriable ?? options.kind === 'transient';
    this.details = options.details ?? {};
    this.hint = options.hint;
  }
}

/** One problem in an input, named by its path (`accounts[1].userId`, `order.lines[0].quantity`). */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Bad data: a record, payload or argument that can never succeed as it is. Never retried. */
export class ValidationError extends TradectlError {
  readonly issues: readonly FieldIssue[];

  constructor(what: string, issues: readonly FieldIssue[], options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'TRADECTL_INVALID_INPUT', `${what}: ${formatIssues(issues)}`, {
      kind: 'data',
      cause: options.cause,
      details: { issues },
    });
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** Bad configuration: start-up stops and every problem is listed. */
export class ConfigError extends TradectlError {
  readonly issues: readonly FieldIssue[];

  constructor(issues: readonly FieldIssue[], options: { cause?: unknown; source?: string } = {}) {
    const where = options.source ? ` (${options.source})` : '';
    const lines = issues.map((issue) => `  - ${issue.path || '(root)'}: ${issue.message}`).join('\n');
    super('TRADECTL_CONFIG_INVALID', `invalid configuration${where}:\n${lines}`, {
      kind: 'config',
      cause: options.cause,
      details: { issues },
      hint: 'fix the fields listed above in the config file or the TRADECTL_* environment variables',
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Wrong command-line use: exit code 2. */
export class UsageError extends TradectlError {
  constructor(message: string, hint?: string) {
    super('TRADECTL_USAGE', message, { kind: 'usage', hint });
    this.name = 'UsageError';
  }
}

export function formatIssues(issues: readonly FieldIssue[]): string {
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
}

export function isTradectlError(error: unknown): error is TradectlError {
  return error instanceof TradectlError;
}

/** True when a policy may try the operation again. Unknown errors are not retriable. */
export function isRetriable(error: unknown): boolean {
  return error instanceof TradectlError && error.retriable;
}
