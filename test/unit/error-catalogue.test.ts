import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  type ErrorKind,
  type TradectlError,
  UsageError,
  ValidationError,
} from '../../src/core/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KINDS: readonly ErrorKind[] = ['config', 'transient', 'data', 'usage', 'internal'];

interface CatalogueRow {
  code: string;
  kind: string;
  retriable: string;
  meaning: string;
  todo: string;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Every `'TRADECTL_…'` string literal in src/, except the names of environment variables the
 * code reads (`env.TRADECTL_CONFIG`), which share the prefix but are not error codes.
 */
async function codesInSource(): Promise<Map<string, string[]>> {
  const texts = await Promise.all(
    (await sourceFiles(join(ROOT, 'src'))).map(async (file) => [file, await readFile(file, 'utf8')] as const),
  );
  const envNames = new Set(
    texts.flatMap(([, text]) =>
      [...text.matchAll(/\benv\??\.(TRADECTL_[A-Z0-9_]+)/g)].map((match) => match[1]!),
    ),
  );
  const codes = new Map<string, string[]>();
  for (const [file, text] of texts) {
    for (const match of text.matchAll(/'(TRADECTL_[A-Z0-9_]+)'/g)) {
      const code = match[1]!;
      if (envNames.has(code)) continue;
      codes.set(code, [...(codes.get(code) ?? []), file.slice(ROOT.length)]);
    }
  }
  return codes;
}

/** The rows of every table in docs/errors.md whose first cell is a code. */
function catalogueRows(markdown: string): CatalogueRow[] {
  return markdown
    .split('\n')
    .filter((line) => /^\|\s*`TRADECTL_/.test(line))
    .map((line) => {
      const cells = line
        .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
        .split('|')
        .map((cell) => cell.trim());
      const [code = '', kind = '', retriable = '', meaning = '', todo = ''] = cells;
      expect(cells, `row ${code} must have 5 cells`).toHaveLength(5);
      return { code: code.replaceAll('`', ''), kind, retriable, meaning, todo };
    });
}

let sourceCodes: Map<string, string[]>;
let rows: CatalogueRow[];
beforeAll(async () => {
  sourceCodes = await codesInSource();
  rows = catalogueRows(await readFile(join(ROOT, 'docs/errors.md'), 'utf8'));
});

describe('docs/errors.md', () => {
  it('finds the codes of the core error classes in the source', () => {
    expect([...sourceCodes.keys()]).toEqual(
      expect.arrayContaining(['TRADECTL_INVALID_INPUT', 'TRADECTL_CONFIG_INVALID', 'TRADECTL_USAGE']),
    );
  });

  it('documents every error code used in src/', () => {
    const documented = new Set(rows.map((row) => row.code));
    const missing = [...sourceCodes]
      .filter(([code]) => !documented.has(code))
      .map(([code, files]) => `${code} (${[...new Set(files)].join(', ')})`);
    expect(missing, 'codes used in src/ but missing from docs/errors.md').toEqual([]);
  });

  it('documents no code that src/ no longer uses', () => {
    const stale = rows.map((row) => row.code).filter((code) => !sourceCodes.has(code));
    expect(stale, 'codes in docs/errors.md that src/ does not use').toEqual([]);
  });

  it('lists each code once', () => {
    const codes = rows.map((row) => row.code);
    expect(codes.filter((code, index) => codes.indexOf(code) !== index)).toEqual([]);
  });

  it('gives every code a kind, a retriable flag, a meaning and what to do', () => {
    for (const row of rows) {
      expect(row.code, 'code format').toMatch(/^TRADECTL_[A-Z0-9_]+$/);
      const kinds = row.kind.split(/\s*\/\s*/);
      if (row.kind !== 'varies') {
        for (const kind of kinds) expect(KINDS, `${row.code}: kind "${kind}"`).toContain(kind);
      }
      expect(['yes', 'no', 'varies'], `${row.code}: retriable`).toContain(row.retriable);
      expect(row.meaning.length, `${row.code}: meaning`).toBeGreaterThan(10);
      expect(row.todo.length, `${row.code}: what to do`).toBeGreaterThan(3);
    }
  });

  it.each<[string, () => TradectlError]>([
    [
      'ValidationError',
      () => new ValidationError('invalid order', [{ path: 'order.currency', message: 'bad' }]),
    ],
    ['ConfigError', () => new ConfigError([{ path: 'accounts[0].userId', message: 'bad' }])],
    ['UsageError', () => new UsageError('bad usage')],
  ])('matches what %s actually carries', (_name, make) => {
    const error = make();
    const row = rows.find((candidate) => candidate.code === error.code);
    expect(row, `${error.code} is not documented`).toBeDefined();
    expect(row!.kind).toBe(error.kind);
    expect(row!.retriable).toBe(error.retriable ? 'yes' : 'no');
  });
});
