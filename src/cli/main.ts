import { Command, CommanderError } from 'commander';
import { isTradectlError } from '../core/errors.js';
import { createContext } from './common.js';
import { registerConfigCommand } from './config.js';
import { registerDlqCommand } from './dlq.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { registerIdsCommand } from './ids.js';
import { registerListingsCommand } from './listings.js';
import { registerMigrateShardsCommand } from './migrate-shards.js';
import { registerOrdersCommand } from './orders.js';
import type { CliIo } from './output.js';
import { registerReconcileCommand } from './reconcile.js';
import { registerSandboxCommand } from './sandbox.js';
import { registerShardsCommand } from './shards.js';
import { registerStatusCommand } from './status.js';
import { registerStockCommand } from './stock.js';
import { registerSyncCommand } from './sync.js';
import { registerTraceCommand } from './trace.js';
import { registerWorkerCommand } from './worker.js';

const VERSION = '0.1.0';

/** Builds the command tree. Only commands that work are registered. */
export function buildProgram(io: CliIo, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('tradectl')
    .description("Keeps a seller's orders and stock consistent across marketplaces.")
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const context = createContext(io, setExitCode);
  registerConfigCommand(program, context);
  registerIdsCommand(program, context);
  registerShardsCommand(program, context);
  registerOrdersCommand(program, context);
  registerSandboxCommand(program, context);
  registerSyncCommand(program, context);
  registerStatusCommand(program, context);
  registerDlqCommand(program, context);
  registerWorkerCommand(program, context);
  registerStockCommand(program, context);
  registerListingsCommand(program, context);
  registerMigrateShardsCommand(program, context);
  registerReconcileCommand(program, context);
  registerTraceCommand(program, context);
  return program;
}

/**
 * Runs tradectl in-process and returns the exit code instead of exiting, so tests can drive
 * the real command tree. Errors a user can fix print the message and a hint; anything else is
 * a bug and prints its cause chain with --debug.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io, debug);
  }
}

function reportError(error: unknown, io: CliIo, debug: boolean): ExitCode {
  if (error instanceof CommanderError) {
    // Help and version "errors" are normal exits; everything else commander raises is usage.
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.exitCode === 0
    ) {
      return EXIT.ok;
    }
    return EXIT.usage;
  }
  if (isTradectlError(error)) {
    io.stderr.write(`tradectl: ${error.message}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    if (debug) io.stderr.write(`${causeChain(error)}\n`);
    return error.kind === 'usage' || error.kind === 'config' ? EXIT.usage : EXIT.failed;
  }
  io.stderr.write(`tradectl: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
  io.stderr.write(debug ? `${causeChain(error)}\n` : 'hint: run again with --debug for the stack trace\n');
  return EXIT.failed;
}

function causeChain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 10; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current) parts.push('caused by:');
  }
  return parts.join('\n');
}
