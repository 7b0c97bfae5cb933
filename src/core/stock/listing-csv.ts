import { type FieldIssue, ValidationError } from '../errors.js';
import { checkMapping, type ListingMapping, listingKey, type MappingFieldNames } from './listing-mapping.js';

/**
 * Reads listing mappings from CSV (RFC 4180: comma-separated, `"` quotes, `""` inside quotes,
 * LF or CRLF, an optional UTF-8 BOM). The first row names the columns, in any order and case:
 *
 *   platform, account, channel_sku, listing_id, sku, tenant (optional)
 *
 * Each row needs channel_sku or listing_id, or both (then it makes two mappings to the same
 * SKU); an empty tenant is `default`. Every problem is reported at once, by row and column
 * (`row 7, column sku`; row 1 is the header, rows count lines of the file), and nothing is
 * imported unless the whole file is valid.
 */

export const CSV_COLUMNS = ['platform', 'account', 'channel_sku', 'listing_id', 'sku', 'tenant'] as const;
const REQUIRED = ['platform', 'account', 'sku'] as const;
const NAMES: MappingFieldNames = {
  platform: 'platform',
  account: 'account',
  channelSku: 'channel_sku',
  listingId: 'listing_id',
  tenant: 'tenant',
  sku: 'sku',
};
/** Problems listed before the rest are only counted: a wrong file should not print a million lines. */
const MAX_ISSUES = 50;

export interface CsvRow {
  /** The line of the file the row starts on (1 = the header). */
  line: number;
  cells: string[];
}

/** Splits CSV text into rows of cells; throws a ValidationError on an unterminated quote. */
export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let atCellStart = true;
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const endRow = () => {
    cells.push(cell);
    // A blank line (one empty cell) is not a row: files often end with one or two.
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
    atCellStart = true;
  };
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (quoted) {
      if (char === '"' && source[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else {
        if (char === '\n') line++;
        cell += char;
      }
    } else if (char === '"' && atCellStart) {
      quoted = true;
      atCellStart = false;
    } else if (char === ',') {
      cells.push(cell);
      cell = '';
      atCellStart = true;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && source[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      cell += char;
      atCellStart = false;
    }
  }
  if (quoted) {
    throw new ValidationError('invalid CSV', [
      { path: `row ${rowLine}`, message: 'a quoted cell is never closed' },
    ]);
  }
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

/** The mappings of a listings CSV; throws one ValidationError naming every bad row and column. */
export function parseListingsCsv(text: string): ListingMapping[] {
  const issues: FieldIssue[] = [];
  const [header, ...rows] = parseCsv(text);
  if (!header)
    throw new ValidationError('invalid listings CSV', [{ path: 'row 1', message: 'the file is empty' }]);
  const columns = new Map<string, number>();
  header.cells.forEach((raw, index) => {
    const name = raw.trim().toLowerCase();
    if (!(CSV_COLUMNS as readonly string[]).includes(name)) {
      issues.push({
        path: `row 1, column ${index + 1}`,
        message: `unknown column ${JSON.stringify(raw)} (expected ${CSV_COLUMNS.join(', ')})`,
      });
    } else if (columns.has(name)) issues.push({ path: `row 1, column ${name}`, message: 'named twice' });
    else columns.set(name, index);
  });
  for (const name of REQUIRED) {
    if (!columns.has(name)) issues.push({ path: 'row 1', message: `missing column ${name}` });
  }
  if (!columns.has('channel_sku') && !columns.has('listing_id')) {
    issues.push({
      path: 'row 1',
      message: 'missing column channel_sku or listing_id (one of them, or both)',
    });
  }
  if (issues.length > 0) throw new ValidationError('invalid listings CSV', issues);

  const mappings: ListingMapping[] = [];
  const firstRow = new Map<string, number>();
  for (const row of rows) {
    const where = (column: string) => `row ${row.line}, column ${column}`;
    if (row.cells.length !== header.cells.length) {
      issues.push({
        path: `row ${row.line}`,
        message: `has ${row.cells.length} cells, the header has ${header.cells.length}`,
      });
      continue;
    }
    const cell = (name: string) => {
      const index = columns.get(name);
      return index === undefined ? '' : row.cells[index]!;
    };
    const keys = [
      { kind: 'sku' as const, value: cell('channel_sku'), column: 'channel_sku' },
      { kind: 'listing' as const, value: cell('listing_id'), column: 'listing_id' },
    ].filter((key) => key.value !== '');
    if (keys.length === 0) {
      issues.push({ path: where('channel_sku'), message: 'empty, and so is listing_id: give one of them' });
      continue;
    }
    for (const key of keys) {
      const mapping = checkMapping(
        {
          platform: cell('platform'),
          account: cell('account'),
          kind: key.kind,
          channelKey: key.value,
          tenant: cell('tenant'),
          sku: cell('sku'),
        },
        issues,
        NAMES,
        where,
      );
      const id = listingKey(mapping.platform, mapping.account, mapping.kind, mapping.channelKey);
      const seen = firstRow.get(id);
      if (seen !== undefined)
        issues.push({ path: where(key.column), message: `the same listing as row ${seen}` });
      else firstRow.set(id, row.line);
      mappings.push(mapping);
    }
  }
  if (issues.length > 0) throw new ValidationError('invalid listings CSV', capped(dedupe(issues)));
  return mappings;
}

// A row with both keys checks its shared cells twice: report each problem once.
function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function capped(issues: FieldIssue[]): FieldIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  return [
    ...issues.slice(0, MAX_ISSUES),
    { path: '', message: `and ${issues.length - MAX_ISSUES} more problem(s)` },
  ];
}
