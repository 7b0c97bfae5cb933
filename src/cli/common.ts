import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Config, loadConfig } from '../core/config.js';
import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './output.js';

/** Options every command accepts. */
export interface CommonOptions {
  config?: string;
  json?: boolean;
  debug?: boolean;
}

export interface CommandContext {
  io: CliIo;
  /** Loads and validates the config named by --config (or TRADECTL_CONFIG), with env overrides. */
  loadConfig(options: CommonOptions): Promise<Config>;
  /** Set by a command's action; read by runCli once the action finishes. */
  setExitCode(code: ExitCode): void;
}

export function createContext(io: CliIo, setExitCode: (code: ExitCode) => void): CommandContext {
  return {
    io,
    loadConfig: (options) => loadConfig({ file: options.config, env: io.env }),
    setExitCode,
  };
}

/** Adds --config, --json and --debug, and an Examples section, to a command's help. */
export function withCommonOptions(command: Command, examples: readonly string[]): Command {
  command
    .addOption(new Option('-c, --config <file>', 'config file (YAML or JSON); env TRADECTL_CONFIG'))
    .option('--json', 'machine-readable JSON on stdout')
    .option('--debug', 'print stack traces and cause chains of errors');
  return withExamples(command, examples);
}

// The examples of each command, so that a group command (`tradectl shards`) shows those of its
// subcommands and every --help ends with something to copy.
const examplesOf = new WeakMap<Command, readonly string[]>();

/** Adds an Examples section to a command's help, and to its group's help (`tradectl shards`). */
export function withExamples(command: Command, examples: readonly string[]): Command {
  if (examples.length === 0) return command;
  examplesOf.set(command, examples);
  command.addHelpText('after', formatExamples(examples));
  const group = command.parent;
  if (group?.parent && !examplesOf.has(group)) {
    examplesOf.set(group, []);
    // Read when the help is shown, so subcommands registered later are included.
    group.addHelpText('after', () =>
      formatExamples(group.commands.flatMap((child) => examplesOf.get(child) ?? [])),
    );
  }
  return command;
}

function formatExamples(examples: readonly string[]): string {
  return examples.length === 0 ? '' : `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/**
 * Parses an integer option, naming the option in the error. Throws commander's
 * InvalidArgumentError, which commander reports as a usage error (exit 2), not a crash.
 */
export function parseIntegerOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return number;
  };
}
