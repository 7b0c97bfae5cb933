import { type Command, Option } from 'commander';
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
  if (examples.length > 0) {
    command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
  }
  return command;
}

/** Parses an integer option, naming the option in the error. */
export function parseIntegerOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || number < min || number > max) {
      throw new Error(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return number;
  };
}
