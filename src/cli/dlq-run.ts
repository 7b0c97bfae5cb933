import type { DeadLetterEntry, DeadLetterStore } from '../core/bus/dlq.js';
import type { Config } from '../core/config.js';
import { TradectlError, UsageError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { viewPayload } from '../workers/dlq-payload.js';
import type { ReplayItem } from '../workers/dlq-replay.js';
import type { RunReplayOptions } from '../workers/dlq-replay-run.js';
import type { CommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

/** What `tradectl dlq list|show|replay` do once dlq.ts parsed their flags. */

export interface DlqCliDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  /** Opens the DLQ of the config's meta database for the duration of `work`. */
  withStore<T>(
    options: { config: Config; logger: Logger },
    work: (dlq: DeadLetterStore) => Promise<T>,
  ): Promise<T>;
  replay(options: RunReplayOptions): Promise<{ via: 'kafka' | 'inline'; items: ReplayItem[] }>;
  setExitCode(code: ExitCode): void;
}

export interface DlqListOptions extends CommonOptions {
  state: 'open' | 'replayed' | 'all';
  limit: number;
  after?: string;
  platform?: string;
  account?: string;
}

export interface DlqReplayOptions extends CommonOptions {
  all?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  via?: 'kafka' | 'inline';
  wait?: boolean;
  platform?: string;
  account?: string;
}

const LIST_HEADERS = ['id', 'platform', 'account', 'seen', 'last seen', 'state', 'bytes', 'key', 'reason'];

export async function runDlqList(options: DlqListOptions, deps: DlqCliDeps): Promise<void> {
  const config = await deps.loadConfig(options);
  const entries = await deps.withStore({ config, logger: cliLogger(options, deps.io) }, (dlq) =>
    dlq.list({
      state: options.state,
      platform: options.platform,
      account: options.account,
      limit: options.limit,
      after: options.after,
    }),
  );
  const next = entries.length === options.limit ? entries.at(-1)!.id : null;
  if (options.json) {
    writeJson(deps.io, { entries, next });
    return;
  }
  const tty = deps.io.stdout.isTTY === true;
  writeTable(
    deps.io,
    LIST_HEADERS,
    entries.map((entry) => [
      entry.id,
      entry.platform,
      entry.account,
      entry.seenCount,
      entry.lastSeenAt,
      entry.replayedAt === null ? 'open' : 'replayed',
      entry.size,
      entry.key,
      // A terminal gets the start of the reason; `dlq show` (and pipes) get all of it.
      tty ? clip(entry.reason, 80) : entry.reason,
    ]),
  );
  if (entries.length === 0)
    writeLine(deps.io.stderr, `no ${options.state === 'all' ? '' : `${options.state} `}entries`);
  if (next !== null) writeLine(deps.io.stderr, `more: tradectl dlq list --after ${next}`);
}

export async function runDlqShow(id: string, options: CommonOptions, deps: DlqCliDeps): Promise<void> {
  const config = await deps.loadConfig(options);
  const entry = await deps.withStore({ config, logger: cliLogger(options, deps.io) }, (dlq) => dlq.get(id));
  if (entry === null) {
    throw new TradectlError('TRADECTL_DLQ_NOT_FOUND', `no dead letter entry ${id}`, {
      kind: 'data',
      details: { id },
      hint: 'tradectl dlq list --state all shows the ids',
    });
  }
  const { original, ...summary } = entry;
  const view = viewPayload(original);
  if (options.json) {
    writeJson(deps.io, {
      ...summary,
      // Exact bytes always; the parsed JSON as well when they are JSON.
      originalBase64: original.toString('base64'),
      originalJson: view.encoding === 'json' ? view.json : null,
    });
    return;
  }
  const out = deps.io.stdout;
  for (const [name, value] of fields(summary)) writeLine(out, `${`${name}:`.padEnd(13)}${value}`);
  writeLine(out);
  if (view.encoding === 'json') {
    writeLine(out, `original (${original.length} bytes, JSON):`);
    writeLine(out, view.text);
  } else {
    writeLine(out, `original (${original.length} bytes, not JSON), base64:`);
    writeLine(out, view.base64);
    writeLine(out);
    writeLine(out, view.truncatedHex ? 'hex (first 4096 bytes):' : 'hex:');
    writeLine(out, view.hex);
  }
}

function fields(entry: DeadLetterEntry): [string, string][] {
  const source = entry.source;
  return [
    ['id', entry.id],
    ['state', entry.replayedAt === null ? 'open' : `replayed ${entry.replayedAt}`],
    ['reason', entry.reason],
    ['key', entry.key ?? '(none)'],
    ['platform', entry.platform ?? '(unknown)'],
    ['account', entry.account ?? '(unknown)'],
    [
      'source',
      source
        ? `${source.topic} partition ${source.partition} offset ${source.offset}`
        : '(inline bus or sync)',
    ],
    ['seen', `${entry.seenCount} time(s), first ${entry.createdAt}, last ${entry.lastSeenAt}`],
  ];
}

const REPLAY_HEADERS = ['id', 'outcome', 'platform', 'account', 'seen', 'reason'];
const SUCCESS = new Set(['replayed', 'already-replayed', 'would-replay']);

export async function runDlqReplayCommand(
  ids: string[],
  options: DlqReplayOptions,
  deps: DlqCliDeps,
): Promise<void> {
  if (options.all && ids.length > 0) throw new UsageError('give entry ids or --all, not both');
  if (!options.all && ids.length === 0) {
    throw new UsageError('no entries named', 'give entry ids (tradectl dlq list) or --all');
  }
  if (!options.all && (options.platform || options.account)) {
    throw new UsageError('--platform and --account select entries for --all only');
  }
  if (options.all && !options.yes && !options.dryRun) {
    throw new UsageError(
      '--all replays every open entry: add --yes to confirm',
      'see what it would do first with: tradectl dlq replay --all --dry-run',
    );
  }
  const config = await deps.loadConfig(options);
  const { via, items } = await deps.replay({
    config,
    logger: cliLogger(options, deps.io),
    selection: { ids, all: options.all, platform: options.platform, account: options.account },
    dryRun: options.dryRun === true,
    via: options.via,
    wait: options.wait,
  });
  const good = items.filter((item) => SUCCESS.has(item.outcome)).length;
  const bad = items.length - good;
  deps.setExitCode(bad === 0 ? EXIT.ok : good > 0 ? EXIT.partial : EXIT.failed);
  if (options.json) {
    writeJson(deps.io, { via, dryRun: options.dryRun === true, items });
  } else {
    const tty = deps.io.stdout.isTTY === true;
    writeTable(
      deps.io,
      REPLAY_HEADERS,
      items.map((item) => [
        item.id,
        item.outcome,
        item.platform,
        item.account,
        item.seenCount,
        tty && item.reason ? clip(item.reason, 80) : item.reason,
      ]),
    );
  }
  const count = (outcome: ReplayItem['outcome']) => items.filter((item) => item.outcome === outcome).length;
  writeLine(
    deps.io.stderr,
    options.dryRun
      ? `dry run via ${via}: ${count('would-replay')} would be replayed, ${count('already-replayed')} already replayed, ` +
          `${count('not-replayable')} not replayable, ${count('not-found')} not found`
      : `replayed via ${via}: ${count('replayed')} replayed, ${count('failed-again')} failed again (still open), ` +
          `${count('already-replayed')} already replayed, ${count('not-replayable')} not replayable, ${count('not-found')} not found`,
  );
  if (via === 'kafka' && !options.dryRun && !options.wait && count('replayed') > 0) {
    writeLine(
      deps.io.stderr,
      'the running sink stores them; one still invalid goes back to its entry (tradectl dlq list; --wait waits for the sink)',
    );
  }
}

function cliLogger(options: CommonOptions, io: CliIo): Logger {
  return createLogger({
    level: options.debug ? 'debug' : 'warn',
    destination: { write: (line: string) => io.stderr.write(line) },
  });
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
