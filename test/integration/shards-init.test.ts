import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { Collector } from '../helpers/collector.js';
import { dropDatabases, MYSQL_URL, testConfig, uniqueName } from '../helpers/services.js';

// The default layout, as `tradectl shards init` creates it without a config file:
// 16 databases x 256 tables x 3 kinds = 12,288 tables, one stock outbox per database (16), plus the
// meta database's 9 (order locator, sync checkpoints and windows, stock inventory, ledger and
// rejects, channel listings, order stock issues, dead letters).
const PREFIX = uniqueName('si');
const ENV = { TRADECTL_MYSQL_URL: MYSQL_URL, TRADECTL_DB_PREFIX: PREFIX };

async function run(argv: string[]) {
  const io = { stdout: new Collector(), stderr: new Collector(), env: ENV } satisfies CliIo;
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

async function countTables(): Promise<Record<string, number>> {
  const connection = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT REGEXP_REPLACE(TABLE_NAME, '_[0-9]+$', '') AS kind, COUNT(*) AS n
         FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE ? GROUP BY kind ORDER BY kind`,
      [`${PREFIX}\\_%`],
    );
    return Object.fromEntries(rows.map((row) => [String(row.kind), Number(row.n)]));
  } finally {
    await connection.end();
  }
}

// 17 databases of up to 768 tables: dropped 4 at a time, which is several times faster than one
// after the other (dropping, like creating, is bound by file and dictionary work per table).
afterAll(async () => {
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4 });
  try {
    const [rows] = await pool.query<RowDataPacket[]>(
      'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
      [`${PREFIX}\\_%`],
    );
    await Promise.all(rows.map((row) => pool.query(`DROP DATABASE IF EXISTS \`${String(row.name)}\``)));
  } finally {
    await pool.end();
  }
}, 600_000);

describe('tradectl shards init with the default 16 x 256 layout', () => {
  it('prints what it would create on a dry run, and creates nothing', async () => {
    const { code, stdout, stderr } = await run(['shards', 'init', '--dry-run']);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toContain('would create 17 database(s) and 12313 table(s)');
    expect(stdout.split('\n').filter((line) => line.startsWith(`${PREFIX}_`))).toHaveLength(17);
    expect(await countTables()).toEqual({});
  });

  it('creates every shard table and the meta tables', { timeout: 600_000 }, async () => {
    const { code, stdout, stderr } = await run(['shards', 'init']);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(/^databases: 17 created, 0 existing; tables: 12313 created, 0 existing \(/);
    // stderr is not a terminal here: no progress bar.
    expect(stderr).toBe('');
    expect(await countTables()).toEqual({
      dlq_entries: 1,
      inventory: 1,
      listings: 1,
      order_details: 4096,
      order_lines: 4096,
      order_locator: 1,
      orders: 4096,
      stock_ledger: 1,
      stock_intents: 16,
      stock_ledger_rejects: 1,
      stock_order_issues: 1,
      sync_checkpoints: 1,
      sync_windows: 1,
    });
  });

  it('creates nothing on a second run and says so', async () => {
    const { code, stdout } = await run(['shards', 'init', '--json']);
    expect(code).toBe(EXIT.ok);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      databasesCreated: 0,
      databasesExisting: 17,
      tablesCreated: 0,
      tablesExisting: 12313,
      dryRun: false,
    });
    // information_schema found every table, so no CREATE statement was sent at all.
    expect(result.schemas.flatMap((schema: { missingTables: string[] }) => schema.missingTables)).toEqual([]);
  });
});

describe('tradectl shards init on a terminal', () => {
  it('shows a progress bar on stderr and the summary on stdout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tradectl-shards-'));
    const prefix = uniqueName('sp');
    try {
      const file = join(dir, 'small.yaml');
      await writeFile(file, 'shards:\n  databases: 2\n  tablesPerDatabase: 2\n');
      const io = {
        stdout: new Collector(true),
        stderr: new Collector(true),
        env: { ...ENV, TRADECTL_DB_PREFIX: prefix },
      } satisfies CliIo;
      expect(await runCli(['shards', 'init', '--config', file], io)).toBe(EXIT.ok);
      expect(io.stderr.text).toContain('creating tables');
      expect(io.stdout.text).toMatch(/^databases: 3 created, 0 existing; tables: 23 created, 0 existing/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await dropDatabases(testConfig({ mysql: { databasePrefix: prefix } }));
    }
  });
});

describe('tradectl shards plan', () => {
  it('prints the layout with the server password redacted', async () => {
    const { code, stdout } = await run(['shards', 'plan', '--json']);
    expect(code).toBe(EXIT.ok);
    const plan = JSON.parse(stdout);
    expect(plan).toMatchObject({
      databases: 16,
      tablesPerDatabase: 256,
      totalTables: { orders: 4096, order_details: 4096, order_lines: 4096 },
    });
    expect(plan.schemas).toHaveLength(17);
    expect(plan.schemas[16]).toMatchObject({ name: `${PREFIX}_meta`, kind: 'meta', tables: 9 });
    expect(JSON.stringify(plan)).not.toContain(':tradectl@');
    expect(plan.exampleRoutes).toContainEqual({
      userId: '256',
      database: `${PREFIX}_01`,
      table: 'orders_000',
    });
    expect(plan.exampleRoutes).toContainEqual({
      userId: '4095',
      database: `${PREFIX}_15`,
      table: 'orders_255',
    });
  });
});
