import { describe, expect, it } from 'vitest';
import { TradectlError } from '../../src/core/errors.js';
import { classifyMysqlError } from '../../src/core/mysql-errors.js';

/** An error shaped as mysql2 raises them: server errors carry errno, client ones a code. */
const mysqlError = (message: string, fields: { errno?: number; code?: string; fatal?: boolean }) =>
  Object.assign(new Error(message), fields);

describe('classifyMysqlError', () => {
  it.each([
    // [what, error, code, kind, hint]
    ['deadlock', { errno: 1213, code: 'ER_LOCK_DEADLOCK' }, 'TRADECTL_DB_DEADLOCK', 'transient', undefined],
    ['lock wait timeout', { errno: 1205 }, 'TRADECTL_DB_LOCK_TIMEOUT', 'transient', undefined],
    ['server gone away', { errno: 2006 }, 'TRADECTL_DB_UNAVAILABLE', 'transient', undefined],
    [
      'connection lost mid-query',
      { code: 'PROTOCOL_CONNECTION_LOST', fatal: true },
      'TRADECTL_DB_UNAVAILABLE',
      'transient',
      undefined,
    ],
    [
      'refused',
      { code: 'ECONNREFUSED', fatal: true },
      'TRADECTL_DB_UNAVAILABLE',
      'transient',
      /is MySQL up, and is mysql\.url/,
    ],
    ['unknown host', { code: 'ENOTFOUND' }, 'TRADECTL_DB_UNAVAILABLE', 'transient', /is MySQL up/],
    ['missing table', { errno: 1146 }, 'TRADECTL_SHARDS_MISSING', 'config', /tradectl shards init/],
    ['syntax error', { errno: 1064 }, 'TRADECTL_DB_ERROR', 'internal', undefined],
  ] as const)('%s', (_what, fields, code, kind, hint) => {
    const classified = classifyMysqlError(mysqlError('driver text', fields), 'read orders', {
      database: 'd',
    });
    expect(classified).toMatchObject({ code, kind, message: 'read orders: driver text' });
    expect(classified.retriable).toBe(kind === 'transient');
    if (hint) expect(classified.hint).toMatch(hint);
    else expect(classified.hint).toBeUndefined();
    expect(classified.details).toMatchObject({ database: 'd' });
  });

  it('passes a TradectlError through as it is', () => {
    const original = new TradectlError('TRADECTL_ID_COLLISION', 'collision', { kind: 'internal' });
    expect(classifyMysqlError(original, 'write')).toBe(original);
  });
});
