import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { parseCsv, parseListingsCsv } from '../../src/core/stock/listing-csv.js';

function issuesOf(text: string) {
  try {
    parseListingsCsv(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected the CSV to be refused');
}

describe('parseCsv', () => {
  it('reads quotes, doubled quotes, commas and newlines inside quotes, CRLF and a BOM', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""","two\nlines"\r\nplain,,last\n\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['x, y', 'say "hi"', 'two\nlines'] },
      { line: 4, cells: ['plain', '', 'last'] },
    ]);
  });

  it('names the row of a quote that is never closed', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n')).toThrow(/row 2: a quoted cell is never closed/);
  });
});

describe('parseListingsCsv', () => {
  it('maps each row by seller SKU and/or listing id, columns in any order, tenant defaulting', () => {
    const text = [
      'SKU,Platform,account,channel_sku,listing_id,tenant',
      'INT-1,amazon,us-main,MUG RED,,',
      'INT-2,ebay,de,,1234567890,acme',
      'INT-3,shopify,store,TEE-L,4455,',
    ].join('\n');
    expect(parseListingsCsv(text)).toEqual([
      {
        platform: 'amazon',
        account: 'us-main',
        kind: 'sku',
        channelKey: 'MUG RED',
        tenant: 'default',
        sku: 'INT-1',
      },
      {
        platform: 'ebay',
        account: 'de',
        kind: 'listing',
        channelKey: '1234567890',
        tenant: 'acme',
        sku: 'INT-2',
      },
      {
        platform: 'shopify',
        account: 'store',
        kind: 'sku',
        channelKey: 'TEE-L',
        tenant: 'default',
        sku: 'INT-3',
      },
      {
        platform: 'shopify',
        account: 'store',
        kind: 'listing',
        channelKey: '4455',
        tenant: 'default',
        sku: 'INT-3',
      },
    ]);
  });

  it('names the row and column of every bad cell, and imports nothing', () => {
    const text = [
      'platform,account,channel_sku,listing_id,sku',
      'amazon,us-main,MUG-RED,,INT-1',
      'amazn,us-main,MUG-BLUE,,INT-2',
      'amazon,us main,MUG-GREEN,,INT 3',
      'amazon,us-main,,,INT-4',
      'amazon,us-main, MUG-PAD,,INT-5',
      'amazon,us-main,MUG-RED,,INT-6',
      'ebay,de,X',
    ].join('\n');
    expect(issuesOf(text)).toEqual([
      { path: 'row 3, column platform', message: expect.stringContaining('expected one of amazon, ebay') },
      { path: 'row 4, column account', message: expect.stringContaining('"us main"') },
      { path: 'row 4, column sku', message: expect.stringContaining('"INT 3"') },
      { path: 'row 5, column channel_sku', message: 'empty, and so is listing_id: give one of them' },
      { path: 'row 6, column channel_sku', message: 'has leading or trailing blanks: " MUG-PAD"' },
      { path: 'row 7, column channel_sku', message: 'the same listing as row 2' },
      { path: 'row 8', message: 'has 3 cells, the header has 5' },
    ]);
  });

  it('names unknown and missing columns in the header row', () => {
    expect(issuesOf('platform,acount,channel_sku,sku\n')).toEqual([
      { path: 'row 1, column 2', message: expect.stringContaining('unknown column "acount"') },
      { path: 'row 1', message: 'missing column account' },
    ]);
    expect(issuesOf('platform,account,sku\n')).toEqual([
      { path: 'row 1', message: 'missing column channel_sku or listing_id (one of them, or both)' },
    ]);
    expect(issuesOf('')).toEqual([{ path: 'row 1', message: 'the file is empty' }]);
  });

  it('counts rows as lines of the file, so a multi-line cell does not shift later rows', () => {
    const text = 'platform,account,channel_sku,sku\namazon,a1,"MUG\nRED",INT-1\namazon,a1,MUG-2,bad sku\n';
    expect(issuesOf(text)).toEqual([
      { path: 'row 2, column channel_sku', message: 'contains control characters' },
      { path: 'row 4, column sku', message: expect.stringContaining('"bad sku"') },
    ]);
  });

  it('lists at most 50 problems and counts the rest', () => {
    const rows = Array.from({ length: 80 }, (_, i) => `nowhere,a1,S-${i},INT-1`);
    const issues = issuesOf(['platform,account,channel_sku,sku', ...rows].join('\n'));
    expect(issues).toHaveLength(51);
    expect(issues.at(-1)).toEqual({ path: '', message: 'and 30 more problem(s)' });
  });
});
