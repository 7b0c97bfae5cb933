import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { decodeCursor, encodeCursor, filterHash } from '../../src/core/order-cursor.js';
import { normalizeQuery } from '../../src/core/order-query-input.js';

const position = { order: 'asc' as const, createdAt: '2026-03-01T12:00:00.250Z', id: '18446744073709551615' };
const filters = filterHash({ statuses: ['paid', 'shipped'], from: '2026-01-01T00:00:00.000Z' });

function issuesOf(action: () => unknown): { path: string; message: string }[] {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

describe('order list cursor', () => {
  it('round-trips a position as an opaque base64url token', () => {
    const cursor = encodeCursor(position, filters);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, { order: 'asc', filters })).toEqual(position);
  });

  it('binds the cursor to the filters but not to the order of listed values', () => {
    expect(filterHash({ statuses: ['shipped', 'paid', 'paid'], from: '2026-01-01T00:00:00.000Z' })).toBe(
      filters,
    );
    expect(filterHash({ statuses: ['paid'], from: '2026-01-01T00:00:00.000Z' })).not.toBe(filters);
    expect(filterHash({ userId: '0042' })).toBe(filterHash({ userId: '42' }));
  });

  it('refuses a cursor from a query with other filters, naming after', () => {
    const cursor = encodeCursor(position, filters);
    const issues = issuesOf(() => decodeCursor(cursor, { order: 'asc', filters: filterHash({}) }));
    expect(issues).toEqual([{ path: 'after', message: expect.stringContaining('other filters') }]);
  });

  it('refuses a cursor made for the other direction', () => {
    const cursor = encodeCursor(position, filters);
    const issues = issuesOf(() => decodeCursor(cursor, { order: 'desc', filters }));
    expect(issues[0]).toEqual({ path: 'after', message: expect.stringContaining('asc list') });
  });

  it('refuses an edited, truncated or foreign cursor', () => {
    const cursor = encodeCursor(position, filters);
    const payload = Buffer.from(cursor, 'base64url').toString('utf8');
    const edited = Buffer.from(payload.replace('12:00:00.250', '12:00:00.251')).toString('base64url');
    for (const bad of [
      edited,
      cursor.slice(0, -3),
      'abc',
      '',
      'not a cursor!',
      Buffer.from('[1]').toString('base64url'),
    ]) {
      const issues = issuesOf(() => decodeCursor(bad, { order: 'asc', filters }));
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe('after');
    }
  });
});

describe('normalizeQuery', () => {
  it('names every bad field at once', () => {
    const issues = issuesOf(() =>
      normalizeQuery({
        limit: 0,
        order: 'sideways' as never,
        from: '2026-01-01',
        statuses: ['paid', 'lost' as never],
        platforms: [],
        userId: '-3',
      }),
    );
    expect(issues.map((issue) => issue.path)).toEqual([
      'limit',
      'order',
      'from',
      'statuses[1]',
      'platforms',
      'userId',
    ]);
  });

  it('refuses an empty or inverted time range', () => {
    const issues = issuesOf(() =>
      normalizeQuery({
        limit: 10,
        order: 'asc',
        from: '2026-01-02T00:00:00.000Z',
        to: '2026-01-02T00:00:00.000Z',
      }),
    );
    expect(issues).toEqual([{ path: 'to', message: expect.stringContaining('later than from') }]);
  });

  it('accepts a limit up to 1000 and normalizes lists and user ids', () => {
    const normalized = normalizeQuery({
      limit: 1000,
      order: 'desc',
      statuses: ['shipped', 'paid', 'shipped'],
      userId: '007',
    });
    expect(normalized.filters).toMatchObject({ statuses: ['paid', 'shipped'], userId: '7' });
    expect(() => normalizeQuery({ limit: 1001, order: 'asc' })).toThrow(ValidationError);
  });

  it('reads a cursor only for the filters it was made for', () => {
    const query = { limit: 10, order: 'asc' as const, statuses: ['paid' as const] };
    const cursor = encodeCursor(
      { order: 'asc', createdAt: '2026-01-01T00:00:00.000Z', id: '5' },
      filterHash(query),
    );
    expect(normalizeQuery({ ...query, after: cursor }).after).toMatchObject({
      createdAt: '2026-01-01T00:00:00.000Z',
      id: '5',
    });
    const issues = issuesOf(() => normalizeQuery({ ...query, statuses: ['shipped'], after: cursor }));
    expect(issues[0]!.path).toBe('after');
  });
});
