import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { partitionLags } from '../../src/workers/consumer-lag.js';
import { checkRoleSet, parseRoles, WORKER_ROLES } from '../../src/workers/worker-roles.js';

describe('worker roles', () => {
  it('parses a role list into canonical order, ignoring blanks and repeats', () => {
    expect(parseRoles('api, sync,sink,,sync')).toEqual(['sync', 'sink', 'api']);
    expect(parseRoles(WORKER_ROLES.join(','))).toEqual([...WORKER_ROLES]);
  });

  it('refuses an unknown role as a usage error naming it and listing the roles', () => {
    let caught: unknown;
    try {
      parseRoles('sync,synk,api');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).message).toBe('unknown worker role "synk" in --roles');
    expect((caught as UsageError).hint).toBe(`roles: ${WORKER_ROLES.join(', ')}`);
    expect(() => parseRoles(' , ')).toThrow('--roles is empty');
  });

  it('on the in-process bus, refuses sync without sink and sink without sync', () => {
    expect(() => checkRoleSet(['sync', 'api'], 'inline')).toThrow(/sync role needs the sink role/);
    expect(() => checkRoleSet(['sink'], 'inline')).toThrow(/sink role receives nothing/);
    expect(() => checkRoleSet(['sync', 'sink'], 'inline')).not.toThrow();
    expect(() => checkRoleSet(['sync'], 'kafka')).not.toThrow();
    expect(() => checkRoleSet(['sink', 'api'], 'kafka')).not.toThrow();
  });
});

describe('consumer lag per partition', () => {
  it('is the high watermark minus the committed offset, or minus the low watermark when nothing is committed or it aged out', () => {
    const offsets = [
      { partition: 0, high: '120', low: '0' },
      { partition: 1, high: '50', low: '10' },
      { partition: 2, high: '300', low: '200' },
      { partition: 3, high: '7', low: '7' },
    ];
    const committed = [
      { partition: 0, offset: '100' },
      { partition: 1, offset: '-1' },
      { partition: 2, offset: '150' },
      { partition: 3, offset: '7' },
    ];
    expect(partitionLags('orders', offsets, committed)).toEqual([
      { topic: 'orders', partition: 0, lag: 20 },
      { topic: 'orders', partition: 1, lag: 40 },
      { topic: 'orders', partition: 2, lag: 100 },
      { topic: 'orders', partition: 3, lag: 0 },
    ]);
    expect(partitionLags('orders', [{ partition: 0, high: '5', low: '0' }], [])).toEqual([
      { topic: 'orders', partition: 0, lag: 5 },
    ]);
  });
});
