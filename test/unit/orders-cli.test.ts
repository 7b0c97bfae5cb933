import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type OrdersDeps, type OrdersListOptions, runOrdersList } from '../../src/cli/orders.js';
import type { CliIo } from '../../src/cli/output.js';
import { parseConfig } from '../../src/core/config.js';
import { UsageError, ValidationError } from '../../src/core/errors.js';
import type { OrderPage, OrderQuery, OrderSummary } from '../../src/core/order-query.js';

function memoryIo(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += String(chunk);
  });
  stderr.on('data', (chunk) => {
    err += String(chunk);
  });
  return { stdout, stderr, env: {}, out: () => out, err: () => err };
}

const row: OrderSummary = {
  id: '18446744073709551615',
  userId: '42',
  platform: 'amazon',
  account: 'eu',
  platformOrderId: '402-1',
  status: 'paid',
  rawStatus: 'Unshipped',
  statusUnknown: false,
  refundState: 'none',
  currency: 'JPY',
  totalAmount: 1200,
  lineCount: 1,
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:05:00.000Z',
};

function fakeDeps(
  io: CliIo,
  answer: (query: OrderQuery) => OrderPage,
): OrdersDeps & { queries: OrderQuery[] } {
  const queries: OrderQuery[] = [];
  return {
    io,
    queries,
    loadConfig: async () => parseConfig({}),
    listOrders: async (_config, query) => {
      queries.push(query);
      if (queries.length > 1) throw new Error('listOrders called more than once');
      return answer(query);
    },
  };
}

const page: OrderPage = {
  rows: [row],
  nextCursor: 'abc_123',
  stats: { tables: 1, statements: 1, rowsRead: 1 },
};

describe('tradectl orders list', () => {
  it('turns flags into one query: times with zones to UTC, lists, direction', async () => {
    const io = memoryIo();
    const deps = fakeDeps(io, () => page);
    const options: OrdersListOptions = {
      since: '2026-03-01T09:00:00+09:00',
      until: '2026-03-02T00:00:00Z',
      status: ['paid', 'shipped'],
      platform: ['amazon'],
      user: '42',
      limit: 20,
      after: 'cursor',
      desc: true,
    };
    await runOrdersList(options, deps);
    expect(deps.queries).toEqual([
      {
        from: '2026-03-01T00:00:00.000Z',
        to: '2026-03-02T00:00:00.000Z',
        statuses: ['paid', 'shipped'],
        platforms: ['amazon'],
        userId: '42',
        limit: 20,
        order: 'desc',
        after: 'cursor',
      },
    ]);
  });

  it('prints rows on stdout and the next cursor on stderr', async () => {
    const io = memoryIo();
    await runOrdersList(
      { limit: 1 },
      fakeDeps(io, () => page),
    );
    expect(io.out()).toContain('18446744073709551615\t42\tamazon\teu\t402-1\tpaid\t1200\tJPY');
    expect(io.err()).toContain('next page: --after abc_123');
  });

  it('prints the page and cursor as JSON with --json', async () => {
    const io = memoryIo();
    await runOrdersList(
      { limit: 1, json: true },
      fakeDeps(io, () => ({ ...page, nextCursor: null })),
    );
    expect(JSON.parse(io.out())).toEqual({ rows: [row], nextCursor: null });
  });

  it('reports bad values as usage errors naming the flag', async () => {
    const io = memoryIo();
    const invalid = new ValidationError('invalid order query', [
      { path: 'statuses[1]', message: 'unknown value "lost"' },
      { path: 'after', message: 'the cursor belongs to a query with other filters' },
    ]);
    const run = runOrdersList(
      { limit: 5, status: ['paid', 'lost'] },
      fakeDeps(io, () => {
        throw invalid;
      }),
    );
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(/--status\[1\]: unknown value "lost"; --after: the cursor belongs/);
  });

  it('refuses a time without a zone before touching the database', async () => {
    const io = memoryIo();
    const deps = fakeDeps(io, () => page);
    await expect(runOrdersList({ limit: 5, since: '2026-03-01 10:00' }, deps)).rejects.toThrow(/--since/);
    expect(deps.queries).toEqual([]);
  });
});
