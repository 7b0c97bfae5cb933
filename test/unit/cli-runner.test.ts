import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIntegerOption } from '../../src/cli/common.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { buildProgram, runCli } from '../../src/cli/main.js';
import { type CliIo, writeJson, writeTable } from '../../src/cli/output.js';
import { Collector } from '../helpers/collector.js';

const SANDBOX_YAML = fileURLToPath(new URL('../../config/sandbox.yaml', import.meta.url));

/** A stream that keeps what is written to it, and says whether it is a terminal. */

interface TestIo extends CliIo {
  stdout: Collector;
  stderr: Collector;
}

function memoryIo(env: NodeJS.ProcessEnv = {}, isTTY = false): TestIo {
  return { stdout: new Collector(isTTY), stderr: new Collector(isTTY), env };
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const io = memoryIo(env);
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

/** Every command of the real tree as its argv path: [['config'], ['config', 'check'], ...]. */
function commandPaths(): string[][] {
  const program = buildProgram(memoryIo(), () => undefined);
  const walk = (command: Command, prefix: string[]): string[][] =>
    command.commands.flatMap((child) => {
      const path = [...prefix, child.name()];
      return [path, ...walk(child, path)];
    });
  return walk(program, []);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tradectl-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('help and usage', () => {
  it('prints usage and every command for --help, exit 0', async () => {
    const { code, stdout, stderr } = await run(['--help']);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain('Usage: tradectl');
    for (const [name] of commandPaths().filter((path) => path.length === 1)) {
      expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    expect(stderr).toBe('');
  });

  it('prints the version, exit 0', async () => {
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(EXIT.ok);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('registers at least the config command', () => {
    expect(commandPaths()).toContainEqual(['config', 'check']);
  });

  it.each(commandPaths().map((path) => [path.join(' '), path] as const))(
    '`tradectl %s --help` exits 0 and shows examples of that command',
    async (name, path) => {
      const { code, stdout, stderr } = await run([...path, '--help']);
      expect(code).toBe(EXIT.ok);
      expect(stderr).toBe('');
      expect(stdout).toContain(`Usage: tradectl ${name}`);
      const examples = stdout.split('\nExamples:\n')[1];
      expect(examples, 'no Examples: section').toBeDefined();
      const lines = examples!.split('\n').filter((line) => line.trim() !== '');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).toMatch(/^ {2}\$ /);
        expect(line, 'an example of another command').toContain(`tradectl ${name}`);
      }
    },
  );

  it('treats `help <command>` like --help', async () => {
    const { code, stdout } = await run(['help', 'config']);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain('Usage: tradectl config');
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['config', 'check', '--frobnicate'], /unknown option '--frobnicate'/],
    [['config', 'check', '--config'], /argument missing/],
    [['config', 'check', 'extra'], /too many arguments/],
  ])('exits 2 (usage) for %j, saying why on stderr', async (argv, message) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });

  it('exits 2 and shows the help on stderr when no command is given', async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('Usage: tradectl');
    expect(stdout).toBe('');
  });

  it('reports a bad integer option as usage, not a crash', () => {
    const parse = parseIntegerOption('--count', 1, 10);
    expect(parse(' 7 ')).toBe(7);
    for (const value of ['0', '11', 'x', '1.5', '1e1', '']) {
      expect(() => parse(value)).toThrow(InvalidArgumentError);
      expect(() => parse(value)).toThrow(/--count must be an integer from 1 to 10/);
    }
  });
});

describe('config check', () => {
  const SECRETS = {
    SANDBOX_SHOPIFY_TOKEN: 'shpat_ENV_SECRET_1',
    TRADECTL_MYSQL_URL: 'mysql://app:Db_Secret_2@db:3306',
    TRADECTL_REDIS_URL: 'redis://:Redis_Secret_3@cache:6379',
  };
  const FILE_SECRETS = [
    'sandbox-fake-amazon-secret-01',
    'Atzr|sandbox-fake-refresh-token-02',
    'shpat_sandbox_fake_eu_store',
  ];
  const allSecrets = ['shpat_ENV_SECRET_1', 'Db_Secret_2', 'Redis_Secret_3', ...FILE_SECRETS];

  it('names both bad fields of the issue example on stderr, exit 2, nothing on stdout', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'accounts:\n  - platform: myspace\n    id: main\n    userId: alice\n');
    const { code, stdout, stderr } = await run(['config', 'check', '--config', file]);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toContain('accounts[0].platform');
    expect(stderr).toContain('accounts[0].userId');
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/^hint: /m);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('adds the stack with --debug', async () => {
    const file = join(dir, 'bad-debug.yaml');
    await writeFile(file, 'accounts:\n  - platform: myspace\n    id: main\n    userId: alice\n');
    const { code, stderr } = await run(['config', 'check', '--config', file, '--debug']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/^\s+at /m);
  });

  it('reads the file named by TRADECTL_CONFIG', async () => {
    const file = join(dir, 'env-bad.json');
    await writeFile(file, JSON.stringify({ log: { level: 'loud' } }));
    const { code, stderr } = await run(['config', 'check'], { TRADECTL_CONFIG: file });
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('log.level');
  });

  it('prints the effective config as redacted JSON with --json', async () => {
    const { code, stdout, stderr } = await run(
      ['config', 'check', '--config', SANDBOX_YAML, '--json'],
      SECRETS,
    );
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const printed = JSON.parse(stdout);
    expect(printed.accounts).toHaveLength(6);
    expect(printed.accounts[0].credentials).toEqual({ accessToken: '[redacted]' });
    expect(printed.mysql.url).toBe('mysql://app:[redacted]@db:3306');
    expect(printed.redis.url).toBe('redis://:[redacted]@cache:6379');
    for (const secret of allSecrets) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
  });

  it('prints a summary on stderr and the redacted config on stdout without --json', async () => {
    const { code, stdout, stderr } = await run(['config', 'check', '--config', SANDBOX_YAML], SECRETS);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('config ok: 6 account(s)\n');
    expect(JSON.parse(stdout).accounts).toHaveLength(6);
    for (const secret of allSecrets) expect(stdout + stderr).not.toContain(secret);
  });

  it('checks the built-in defaults when no file is given', async () => {
    const { code, stdout } = await run(['config', 'check', '--json']);
    expect(code).toBe(EXIT.ok);
    expect(JSON.parse(stdout)).toMatchObject({
      shards: { databases: 16, tablesPerDatabase: 256 },
      accounts: [],
    });
  });
});

describe('output', () => {
  const headers = ['platform', 'account', 'orders'];
  const rows = [
    ['shopify', 'us-store', 12],
    ['amazon', 'na', 1234],
    ['ebay', null, 0],
  ];

  it('writes tab-separated rows with a header when stdout is not a terminal', () => {
    const io = memoryIo({}, false);
    writeTable(io, headers, rows);
    expect(io.stdout.text).toBe(
      'platform\taccount\torders\nshopify\tus-store\t12\namazon\tna\t1234\nebay\t\t0\n',
    );
  });

  it('keeps one line per row when a cell holds tabs or newlines', () => {
    const io = memoryIo({}, false);
    writeTable(io, ['sku', 'title'], [['A-1', 'Mug\twith\r\nlid']]);
    expect(io.stdout.text).toBe('sku\ttitle\nA-1\tMug with lid\n');
  });

  it('aligns columns on a terminal, numbers to the right', () => {
    const io = memoryIo({}, true);
    writeTable(io, headers, rows);
    expect(io.stdout.text).toBe(
      [
        'PLATFORM  ACCOUNT   ORDERS',
        'shopify   us-store      12',
        'amazon    na          1234',
        'ebay                     0',
        '',
      ].join('\n'),
    );
  });

  it('writes one JSON line when piped and indented JSON on a terminal', () => {
    const piped = memoryIo({}, false);
    writeJson(piped, { a: [1, 2] });
    expect(piped.stdout.text).toBe('{"a":[1,2]}\n');
    const terminal = memoryIo({}, true);
    writeJson(terminal, { a: 1 });
    expect(terminal.stdout.text).toBe('{\n  "a": 1\n}\n');
  });
});
