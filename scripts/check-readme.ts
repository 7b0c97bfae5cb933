// Checks that every `tradectl …` command written in the README (and in the docs it sends
// operators to) runs as written, against the built CLI (dist/):
//   1. it parses: the real command tree with every action replaced by a no-op, so an unknown
//      command or flag, a missing argument or a bad option value fails exactly as it would for
//      a user (commander prints --help before it checks unknown flags, so "--help appended" alone
//      would not prove that);
//   2. `<command> --help` exits 0 and shows that command's usage;
//   3. the side-effect-free ones (RUN_AS_WRITTEN) run as a child process, exit 0.
//
//   npm run build && npx tsx scripts/check-readme.ts [files…] [--json] [--dist <dir>]
//
// test/unit/readme-commands.test.ts runs it as part of the test suite.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { buildProgram, runCli } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/output.js';
import { splitShellCommand } from './shell-words.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The README and the pages whose commands an operator copies under pressure. */
export const DEFAULT_FILES = ['README.md', 'docs/runbooks.md'];

export interface DocCommand {
  file: string;
  line: number;
  /** The command as written (environment assignments, `tradectl`, arguments), for messages. */
  text: string;
  /** `NAME=value` assignments written before `tradectl`. */
  env: Record<string, string>;
  /** The arguments after `tradectl`. */
  argv: string[];
  /** The whole line as written (a `<placeholder>` reads as a redirection to the shell). */
  raw: string;
}

/**
 * Commands that only read local files or compute, so they can run as written anywhere: no
 * server, no write. `ids new` leases a worker id in Redis unless TRADECTL_WORKER_ID is set.
 */
const RUN_AS_WRITTEN: Record<string, (command: DocCommand) => boolean> = {
  'config check': () => true,
  'ids parse': () => true,
  'ids new': (command) => 'TRADECTL_WORKER_ID' in command.env,
  'shards plan': () => true,
};

const SHELL_BLOCK = /^(sh|bash|shell|console|)$/;

/** Every `tradectl …` command in the shell code blocks of a markdown page. */
export function extractCommands(markdown: string, file: string): DocCommand[] {
  const commands: DocCommand[] = [];
  const lines = markdown.split('\n');
  let fence: { marker: string; info: string } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const opening = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (fence === undefined) {
      if (opening) fence = { marker: opening[1]!, info: opening[2]!.toLowerCase() };
      continue;
    }
    if (line.trim().startsWith(fence.marker)) {
      fence = undefined;
      continue;
    }
    if (!SHELL_BLOCK.test(fence.info)) continue;
    const start = index;
    let text = line.trim();
    // A console block shows output too: only its `$ ` lines are commands.
    if (fence.info === 'console' && !text.startsWith('$ ')) continue;
    while (text.endsWith('\\') && index + 1 < lines.length) {
      text = `${text.slice(0, -1)} ${lines[++index]!.trim()}`;
    }
    text = text.replace(/^\$\s+/, '');
    for (const words of splitShellCommand(text)) {
      const env: Record<string, string> = {};
      let at = 0;
      for (; at < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[at]!); at++) {
        const [name, ...value] = words[at]!.split('=');
        env[name!] = value.join('=');
      }
      // `docker compose exec worker tradectl status` runs the same command in a container.
      if (words[at] === 'docker') at = words.indexOf('tradectl');
      if (at < 0 || words[at] !== 'tradectl') continue;
      const argv = words.slice(at + 1);
      const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
      commands.push({
        file,
        line: start + 1,
        text: [...assignments, 'tradectl', ...argv].join(' '),
        raw: text,
        env,
        argv,
      });
    }
  }
  return commands;
}

export interface CliModule {
  buildProgram: typeof buildProgram;
  runCli: typeof runCli;
}

/** The built command tree (dist/), or a clear error when the build is missing. */
export async function loadBuiltCli(dist = join(ROOT, 'dist')): Promise<CliModule> {
  const main = join(dist, 'src/cli/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
  return (await import(pathToFileURL(main).href)) as CliModule;
}

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

function memoryIo(env: NodeJS.ProcessEnv = {}): CliIo & { stdout: Collector; stderr: Collector } {
  return { stdout: new Collector(), stderr: new Collector(), env };
}

export interface CheckOptions {
  /** false: only parse and --help, run nothing. Default true. */
  run?: boolean;
  /** Where relative paths in the commands resolve (the repository). Default: this checkout. */
  root?: string;
  /** The build to run. Default: `<root>/dist`. */
  dist?: string;
}

export interface CheckResult {
  command: DocCommand;
  /** The subcommand path the arguments reached: ['dlq', 'replay']. */
  path: string[];
  ranAsWritten: boolean;
  problems: string[];
}

/** Parses `argv` with the real tree and no-op actions; returns the command path it reached. */
async function parseOnly(
  cli: CliModule,
  argv: readonly string[],
): Promise<{ path?: string[]; error?: string }> {
  const io = memoryIo();
  const program = cli.buildProgram(io, () => undefined);
  let reached: string[] | undefined;
  const stub = (command: Command, path: string[]) => {
    for (const child of command.commands) {
      const childPath = [...path, child.name()];
      // Only leaves: an action on a group would swallow unknown subcommands.
      if (child.commands.length === 0) {
        child.action(() => {
          reached = childPath;
        });
      } else stub(child, childPath);
    }
  };
  stub(program, []);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return { path: [] };
    // A group (`tradectl ids`) without its subcommand prints its help as an error.
    if (code === 'commander.help') return { error: 'names a group of commands, not a command that runs' };
    return { error: (io.stderr.text || (error as Error).message).trim().split('\n')[0] };
  }
  if (reached === undefined) return { error: 'names no command that runs' };
  return { path: reached };
}

function runBuilt(
  command: DocCommand,
  options: CheckOptions,
): Promise<{ code: number | null; output: string }> {
  const root = options.root ?? ROOT;
  const bin = join(options.dist ?? join(root, 'dist'), 'bin/tradectl.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...command.argv], {
      cwd: root,
      // Only what the command itself sets: the checker's own TRADECTL_* must not change the result.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...command.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Checks one command: parses, has --help, and runs as written when that is safe. */
export async function checkCommand(
  cli: CliModule,
  command: DocCommand,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const problems: string[] = [];
  const result: CheckResult = { command, path: [], ranAsWritten: false, problems };
  const unexpanded =
    command.argv.find((word) => word.includes('$')) ?? /<[A-Za-z][^<>]*>/.exec(command.raw)?.[0];
  if (unexpanded) problems.push(`"${unexpanded}" is a placeholder: write a concrete value`);
  const parsed = await parseOnly(cli, command.argv);
  if (parsed.error) problems.push(`does not parse: ${parsed.error}`);
  result.path = parsed.path ?? [];
  // `tradectl --help` and `tradectl --version` are their own check.
  if (!command.argv.some((word) => /^(-h|--help|-V|--version)$/.test(word))) {
    const io = memoryIo();
    const code = await cli.runCli([...command.argv, '--help'], io);
    const usage = `Usage: tradectl ${result.path.join(' ')}`.trimEnd();
    if (code !== 0 || !io.stdout.text.includes(usage)) {
      problems.push(`--help exits ${code} without "${usage}": ${io.stderr.text.trim().split('\n')[0] ?? ''}`);
    }
  }
  const runnable = RUN_AS_WRITTEN[result.path.join(' ')];
  if (options.run !== false && problems.length === 0 && runnable?.(command)) {
    const run = await runBuilt(command, options);
    result.ranAsWritten = true;
    if (run.code !== 0)
      problems.push(`exits ${run.code} when run as written: ${run.output.trim().slice(0, 300)}`);
  }
  return result;
}

/** Every command of the given pages (paths relative to `root`), checked one after another. */
export async function checkFiles(
  cli: CliModule,
  files: readonly string[] = DEFAULT_FILES,
  options: CheckOptions = {},
): Promise<CheckResult[]> {
  const root = options.root ?? ROOT;
  const results: CheckResult[] = [];
  for (const file of files) {
    for (const command of extractCommands(readFileSync(join(root, file), 'utf8'), file)) {
      results.push(await checkCommand(cli, command, { ...options, root }));
    }
  }
  return results;
}

async function main(args: readonly string[]): Promise<number> {
  const distAt = args.indexOf('--dist');
  const dist = distAt >= 0 ? args[distAt + 1] : undefined;
  const files = args.filter((arg, index) => !arg.startsWith('--') && (distAt < 0 || index !== distAt + 1));
  const results = await checkFiles(
    await loadBuiltCli(dist),
    files.length > 0 ? files : DEFAULT_FILES,
    dist === undefined ? {} : { dist },
  );
  const failed = results.filter((result) => result.problems.length > 0);
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(results)}\n`);
  else {
    for (const { command, ranAsWritten, problems } of results) {
      const status = problems.length > 0 ? 'FAIL' : ranAsWritten ? 'ran ' : 'ok  ';
      process.stdout.write(`${status} ${command.file}:${command.line}  ${command.text}\n`);
      for (const problem of problems) process.stdout.write(`       ${problem}\n`);
    }
  }
  const ran = results.filter((result) => result.ranAsWritten).length;
  process.stderr.write(
    `readme commands: ${results.length} checked, ${ran} ran as written, ${failed.length} failed\n`,
  );
  return failed.length > 0 || results.length === 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
