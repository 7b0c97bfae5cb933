import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { isPlatform, PLATFORMS, type Platform } from '../core/platforms.js';
import {
  type AccountTrace,
  type TraceOptions,
  type TraceResult,
  traceOrder,
} from '../workers/trace-order.js';
import { type CommandContext, type CommonOptions, withCommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

/**
 * `tradectl trace <platform> <order id>`: why an order is missing or stale (trace-order.ts).
 * Exit 0 when an account holds the order at the platform's latest version (or, --offline, at
 * all), 1 otherwise: missing, stale, quarantined, not synced yet or unknown.
 */
export interface TraceFlags extends CommonOptions {
  account?: string;
  offline?: boolean;
}

export interface TraceCliDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  setExitCode(code: ExitCode): void;
  trace(options: TraceOptions): Promise<TraceResult>;
  /** Fixed options of every trace (tests: a sandbox's clock and rate scale). */
  traceOptions?: Partial<TraceOptions>;
}

export function registerTraceCommand(
  program: Command,
  context: CommandContext,
  overrides: Partial<TraceCliDeps> = {},
): void {
  const deps: TraceCliDeps = {
    io: context.io,
    loadConfig: context.loadConfig,
    setExitCode: context.setExitCode,
    trace: traceOrder,
    ...overrides,
  };
  withCommonOptions(
    program
      .command('trace')
      .description(
        "why is this order missing or stale: its row, the platform's version, the sync windows that " +
          'covered it, the checkpoint, its dead letter entries and Kafka offsets; exit 1 unless stored and current',
      )
      .argument('<platform>', `the platform (${PLATFORMS.join(', ')})`, platformArgument)
      .argument('<order-id>', "the platform's order id")
      .option('--account <id>', 'only this account of the platform (default: every account of it)')
      .option('--offline', 'do not ask the platform (database only)'),
    [
      'tradectl trace amazon 114-3941689-8772232',
      'tradectl trace shopify 450789469 --account main-store --json',
      'tradectl trace ebay 12-34567-89012 --offline',
    ],
  ).action(async (platform: Platform, orderId: string, flags: TraceFlags) =>
    runTrace(platform, orderId, flags, deps),
  );
}

export async function runTrace(
  platform: Platform,
  orderId: string,
  flags: TraceFlags,
  deps: TraceCliDeps,
): Promise<void> {
  const config = await deps.loadConfig(flags);
  const { io } = deps;
  const logger = createLogger({
    level: flags.debug ? 'debug' : config.log.level === 'silent' ? 'silent' : 'warn',
    destination: { write: (line: string) => io.stderr.write(line) },
  });
  const result = await deps.trace({
    ...deps.traceOptions,
    config,
    logger,
    platform,
    platformOrderId: orderId,
    account: flags.account,
    offline: flags.offline,
  });
  const found = result.accounts.some((entry) => entry.verdict === 'current' || entry.verdict === 'stored');
  deps.setExitCode(found ? EXIT.ok : EXIT.failed);
  if (flags.json) {
    writeJson(io, result);
    return;
  }
  for (const entry of result.accounts) printAccount(io, result, entry);
}

function printAccount(io: CliIo, result: TraceResult, entry: AccountTrace): void {
  const { stored, platformVersion } = entry;
  writeLine(io.stdout, `${result.platform}:${entry.account}:${result.platformOrderId}`);
  writeLine(io.stdout, `  verdict:    ${entry.verdict}: ${entry.explanation}`);
  writeLine(
    io.stdout,
    `  database:   ${
      stored
        ? `id ${stored.id}, ${stored.status}, version (updated_at) ${stored.updatedAt}, stored ${stored.storedAt}, ${stored.lines} line(s)`
        : 'no row'
    } in ${entry.shard.database}.${entry.shard.table}`,
  );
  writeLine(
    io.stdout,
    `  platform:   ${
      !entry.platformAsked
        ? 'not asked (--offline)'
        : entry.platformError
          ? `could not be asked: ${entry.platformError}`
          : platformVersion
            ? `${platformVersion.status}, updated ${platformVersion.updatedAt}`
            : 'no such order'
    }`,
  );
  writeLine(io.stdout, `  checkpoint: ${entry.checkpoint ?? 'none (never synced)'}`);
  writeLine(
    io.stdout,
    `  kafka:      ${
      entry.kafkaOffsets.length > 0
        ? entry.kafkaOffsets.map((at) => `${at.topic}[${at.partition}]@${at.offset}`).join(', ')
        : 'no offset recorded (the sink keeps none for stored orders)'
    }`,
  );
  writeLine(io.stdout, `  sync windows covering its update time: ${entry.windows.total}`);
  if (entry.windows.newest.length > 0) {
    writeTable(
      io,
      ['window', 'from', 'to', 'orders', 'rejected', 'checkpoint moved', 'via', 'finished'],
      entry.windows.newest.map((window) => [
        window.id,
        window.from,
        window.to,
        window.orders,
        window.rejected,
        window.checkpointMoved,
        window.via,
        window.finishedAt,
      ]),
    );
  }
  writeLine(io.stdout, `  dead letter entries: ${entry.deadLetters.length}`);
  if (entry.deadLetters.length > 0) {
    writeTable(
      io,
      ['dlq id', 'reason', 'first seen', 'seen', 'replayed'],
      entry.deadLetters.map((dead) => [
        dead.id,
        dead.reason,
        dead.createdAt,
        dead.seenCount,
        dead.replayedAt ?? '-',
      ]),
    );
  }
  writeLine(io.stdout);
}

function platformArgument(value: string): Platform {
  if (!isPlatform(value)) {
    throw new InvalidArgumentError(`<platform> must be one of ${PLATFORMS.join(', ')}, got "${value}"`);
  }
  return value;
}
