import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckResult,
  type CliModule,
  checkCommand,
  checkFiles,
  DEFAULT_FILES,
  type DocCommand,
  extractCommands,
  loadBuiltCli,
  ROOT,
} from '../../scripts/check-readme.js';
import { splitShellCommand } from '../../scripts/shell-words.js';

// Every `tradectl …` command of the README and the runbooks runs as written: checked against the
// built CLI (dist/, which scripts/test.sh builds before the tests; a missing build fails here).
const failures = (results: CheckResult[]) =>
  results
    .filter((result) => result.problems.length > 0)
    .map(
      (result) => `${result.command.file}:${result.command.line} ${result.command.text}: ${result.problems}`,
    );

const command = (text: string): DocCommand => {
  const found = extractCommands(`\`\`\`sh\n${text}\n\`\`\`\n`, 'test.md');
  expect(found).toHaveLength(1);
  return found[0]!;
};

// Another build than ./dist can be checked with README_CHECK_DIST=<dir> (absolute path).
const dist = process.env.README_CHECK_DIST;
const options = dist === undefined ? {} : { dist };
let cli: CliModule;
beforeAll(async () => {
  cli = await loadBuiltCli(dist);
});

describe('the commands written in the README and the runbooks', () => {
  it('parse, have --help, and the side-effect-free ones run as written', async () => {
    const results = await checkFiles(cli, DEFAULT_FILES, options);
    expect(failures(results)).toEqual([]);
    // Not vacuous: the pages hold many commands and the offline ones really ran.
    expect(results.length).toBeGreaterThanOrEqual(40);
    const ran = results.filter((result) => result.ranAsWritten).map((result) => result.path.join(' '));
    expect(new Set(ran)).toEqual(new Set(['config check', 'ids new', 'ids parse', 'shards plan']));
    for (const file of DEFAULT_FILES)
      expect(results.some((result) => result.command.file === file)).toBe(true);
  }, 180_000);

  it('open with the demo and the test command, exactly', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!.trim().split('\n');
    expect(firstBlock.map((line) => line.split(/\s+#/)[0]!.trim())).toEqual([
      'scripts/demo.sh',
      'scripts/test.sh',
    ]);
  });

  it('point only at files that exist', async () => {
    for (const file of DEFAULT_FILES) {
      const text = await readFile(join(ROOT, file), 'utf8');
      const paths = text.match(
        /\b(?:docs|config|scripts|src|test|deploy|bench)\/[\w./-]*\w\.(?:md|ts|yaml|sh|mjs|sql)\b/g,
      );
      expect(paths?.length, file).toBeGreaterThan(0);
      for (const path of new Set(paths))
        expect(existsSync(join(ROOT, path)), `${file} names ${path}`).toBe(true);
    }
  });

  it('name every TRADECTL_* variable the config loader reads', async () => {
    const [readme, source] = await Promise.all([
      readFile(join(ROOT, 'README.md'), 'utf8'),
      readFile(join(ROOT, 'src/core/config.ts'), 'utf8'),
    ]);
    for (const [, variable] of source.matchAll(/\benv\.(TRADECTL_[A-Z0-9_]+)/g)) {
      expect(readme, variable).toContain(`\`${variable}\``);
    }
  });
});

describe('the checker fails what a user would trip over', () => {
  it.each([
    ['tradectl frobnicate', /does not parse: .*unknown command 'frobnicate'/],
    ['tradectl ids new --frobnicate', /does not parse: .*unknown option '--frobnicate'/],
    ['tradectl ids parse', /does not parse: .*missing required argument/],
    ['tradectl ids new --count lots', /does not parse: .*--count must be an integer/],
    ['tradectl ids', /names a group of commands/],
    ['tradectl ids parse <id>', /placeholder/],
    ['tradectl shards plan --config does-not-exist.yaml', /exits 2 when run as written/],
    ['tradectl config check --config config/sandbox.yaml', /SANDBOX_SHOPIFY_TOKEN is not set/],
  ])(
    '%s',
    async (text, problem) => {
      const result = await checkCommand(cli, command(text), options);
      expect(result.problems.join('\n')).toMatch(problem);
    },
    90_000,
  );

  // Parsing only: the first test already ran the runnable commands of the pages for real.
  it('passes the same commands written correctly', async () => {
    for (const text of [
      'TRADECTL_WORKER_ID=3 tradectl ids new --count 2',
      'SANDBOX_SHOPIFY_TOKEN=x tradectl config check --config config/sandbox.yaml --json',
      'tradectl shards plan --json',
      'tradectl --version',
    ]) {
      const result = await checkCommand(cli, command(text), { ...options, run: false });
      expect(result.problems, text).toEqual([]);
    }
  }, 90_000);
});

describe('reading commands out of markdown', () => {
  it('takes shell blocks only, with prompts, continuations, env assignments, pipes and comments', () => {
    const markdown = [
      'Text with `tradectl ignored inline`.',
      '```yaml',
      'command: tradectl not-shell',
      '```',
      '```sh',
      '$ tradectl status --json | jq .accounts   # the prompt is dropped',
      'TRADECTL_WORKER_ID=7 tradectl ids new \\',
      '  --count 3 > ids.txt',
      'echo hi && tradectl shards plan; docker compose exec worker tradectl dlq show 42',
      '```',
      '```console',
      '$ tradectl config check',
      'tradectl output line, not a command',
      '```',
    ].join('\n');
    expect(extractCommands(markdown, 'x.md').map(({ line, env, argv }) => ({ line, env, argv }))).toEqual([
      { line: 6, env: {}, argv: ['status', '--json'] },
      { line: 7, env: { TRADECTL_WORKER_ID: '7' }, argv: ['ids', 'new', '--count', '3'] },
      { line: 9, env: {}, argv: ['shards', 'plan'] },
      { line: 9, env: {}, argv: ['dlq', 'show', '42'] },
      { line: 12, env: {}, argv: ['config', 'check'] },
    ]);
  });

  it('splits shell words like a shell, without expanding anything', () => {
    expect(splitShellCommand(`a 'b c' "d \\"e\\"" f\\ g 2>&1 >out | h || i && j; k # tail`)).toEqual([
      ['a', 'b c', 'd "e"', 'f g'],
      ['h'],
      ['i'],
      ['j'],
      ['k'],
    ]);
    expect(splitShellCommand('tradectl x "$ID"')).toEqual([['tradectl', 'x', '$ID']]);
    expect(() => splitShellCommand("tradectl 'open")).toThrow(/unterminated/);
  });
});
