import type { Writable } from 'node:stream';

/**
 * Where a command writes. stdout carries data (tables, JSON); stderr carries people-facing
 * messages, warnings and progress. Tests pass in-memory streams.
 */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, io.stdout.isTTY ? 2 : 0)}\n`);
}

export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

export type Cell = string | number | boolean | null | undefined;

/**
 * Aligned columns on a terminal; tab-separated rows with a header when piped, so `cut` and
 * `awk` work without parsing padding.
 */
export function writeTable(io: CliIo, headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  // A tab or newline inside a cell (a product title, an error message) would split the row.
  const text = rows.map((row) =>
    row.map((cell) => (cell === null || cell === undefined ? '' : String(cell).replace(/[\t\r\n]+/g, ' '))),
  );
  if (!io.stdout.isTTY) {
    for (const row of [headers, ...text]) io.stdout.write(`${row.join('\t')}\n`);
    return;
  }
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...text.map((row) => row[column]?.length ?? 0)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        isNumeric(cell) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  io.stdout.write(`${line(headers.map((header) => header.toUpperCase()))}\n`);
  for (const row of text) io.stdout.write(`${line(row)}\n`);
}

function isNumeric(cell: string): boolean {
  return /^-?\d[\d,.]*%?$/.test(cell);
}
