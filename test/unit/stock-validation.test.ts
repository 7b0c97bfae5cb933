import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { IssueList, MAX_LINES, MAX_STOCK } from '../../src/core/stock/stock-validation.js';

function issuesOf(check: (issues: IssueList) => unknown): string[] {
  const issues = new IssueList();
  check(issues);
  return issues.issues.map((issue) => issue.path);
}

describe('stock request validation', () => {
  it('adds up lines of the same SKU, keeping the order in which SKUs first appear', () => {
    const issues = new IssueList();
    expect(
      issues.lines([
        { sku: 'B', quantity: 1 },
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'B', quantity: 4 },
      { sku: 'A', quantity: 2 },
    ]);
    expect(issues.issues).toEqual([]);
  });

  it.each<[unknown, string]>([
    [-1, 'lines[0].quantity'],
    [0, 'lines[0].quantity'],
    [1.5, 'lines[0].quantity'],
    ['2', 'lines[0].quantity'],
    [Number.NaN, 'lines[0].quantity'],
    [MAX_STOCK + 1, 'lines[0].quantity'],
  ])('names a quantity of %j by its path', (quantity, path) => {
    expect(issuesOf((issues) => issues.lines([{ sku: 'A', quantity }]))).toEqual([path]);
  });

  it('names every bad field at once', () => {
    expect(
      issuesOf((issues) => {
        issues.id('', 'operationId');
        issues.lines([{ sku: 'has space', quantity: 1 }, null, { sku: 'ok', quantity: -2 }]);
        issues.tenant('a{b}');
      }),
    ).toEqual(['operationId', 'lines[0].sku', 'lines[1]', 'lines[2].quantity', 'tenant']);
  });

  it('refuses no lines, too many lines, or something else', () => {
    expect(issuesOf((issues) => issues.lines([]))).toEqual(['lines']);
    expect(issuesOf((issues) => issues.lines({}))).toEqual(['lines']);
    const many = Array.from({ length: MAX_LINES + 1 }, (_, i) => ({ sku: `S${i}`, quantity: 1 }));
    expect(issuesOf((issues) => issues.lines(many))).toEqual(['lines']);
  });

  it('accepts the ids the trading side uses and refuses separators the records rely on', () => {
    expect(issuesOf((issues) => issues.id('9f1c2d3e-1111-4a2b-8c9d-0123456789ab', 'id'))).toEqual([]);
    expect(issuesOf((issues) => issues.id('amazon:acct-1:123-456:line-2', 'id'))).toEqual([]);
    for (const bad of ['a b', 'a|b', 'x'.repeat(129), 42, undefined]) {
      expect(issuesOf((issues) => issues.id(bad, 'id'))).toEqual(['id']);
    }
    for (const bad of ['A,B', 'A|B', 'A B', ''])
      expect(issuesOf((issues) => issues.sku(bad, 'sku'))).toEqual(['sku']);
  });

  it('checks versions, deltas, counts and hold times', () => {
    expect(issuesOf((issues) => issues.version(-1, 'v'))).toEqual(['v']);
    expect(issuesOf((issues) => issues.version(0, 'v'))).toEqual([]);
    expect(issuesOf((issues) => issues.delta(0, 'd'))).toEqual(['d']);
    expect(issuesOf((issues) => issues.delta(-5, 'd'))).toEqual([]);
    expect(issuesOf((issues) => issues.count(0, 'c'))).toEqual([]);
    expect(issuesOf((issues) => issues.count(-1, 'c'))).toEqual(['c']);
    expect(issuesOf((issues) => issues.holdMs(0, 'ttlMs'))).toEqual(['ttlMs']);
    expect(issuesOf((issues) => issues.holdMs(60_000, 'ttlMs'))).toEqual([]);
  });

  it('throws one ValidationError listing them', () => {
    const issues = new IssueList();
    issues.quantity(-1, 'quantity');
    issues.id('', 'operationId');
    expect(() => issues.throwIfAny('invalid deduct request')).toThrow(ValidationError);
    expect(() => issues.throwIfAny('invalid deduct request')).toThrow(/quantity: .*operationId: /);
  });
});
