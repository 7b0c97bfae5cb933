import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  envelopeKey,
  type OrderEnvelope,
} from '../../src/core/bus/envelope.js';
import { generateOrders } from '../helpers/order-generator.js';

// Cases break one field each, into shapes no type allows.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Loose = Record<string, any>;

const FETCHED_AT = '2026-02-01T12:00:00.000Z';

function sample(index = 0): OrderEnvelope {
  return createEnvelope(generateOrders({ seed: 7, count: index + 1 })[index]!, FETCHED_AT);
}

function encodeLoose(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function reasonOf(bytes: Uint8Array | null): string {
  const result = decodeEnvelope(bytes);
  if (result.ok) throw new Error('expected the message to be rejected');
  return result.reason;
}

describe('envelope round trip', () => {
  it('decodes what it encodes, field for field, for every platform and status', () => {
    for (const order of generateOrders({ seed: 11, count: 40 })) {
      const envelope = createEnvelope(order, FETCHED_AT);
      const decoded = decodeEnvelope(encodeEnvelope(envelope));
      expect(decoded).toEqual({ ok: true, envelope });
    }
  });

  it('writes the versioned shape { v: 1, platform, account, fetchedAt, order }', () => {
    const envelope = sample();
    const json = JSON.parse(encodeEnvelope(envelope).toString('utf8'));
    expect(Object.keys(json)).toEqual(['v', 'platform', 'account', 'fetchedAt', 'order']);
    expect(json).toMatchObject({
      v: 1,
      platform: envelope.order.platform,
      account: envelope.order.account,
      fetchedAt: FETCHED_AT,
    });
  });

  it('keys a message by platform:account:platformOrderId', () => {
    const envelope = sample();
    const { platform, account, platformOrderId } = envelope.order;
    expect(envelopeKey(envelope)).toBe(`${platform}:${account}:${platformOrderId}`);
  });

  it('fills the order defaults a producer left out', () => {
    const envelope: Loose = structuredClone(sample());
    delete envelope.order.statusUnknown;
    delete envelope.order.totals.refunded;
    const decoded = decodeEnvelope(encodeLoose(envelope));
    expect(decoded.ok && decoded.envelope.order.statusUnknown).toBe(false);
    expect(decoded.ok && decoded.envelope.order.totals.refunded).toBe(0);
  });
});

describe('poison messages', () => {
  const broken = (mutate: (envelope: Loose) => void): Buffer => {
    const envelope: Loose = structuredClone(sample());
    mutate(envelope);
    return encodeLoose(envelope);
  };

  it.each<[string, Uint8Array | null, string | RegExp]>([
    ['an empty value', Buffer.alloc(0), 'empty message'],
    ['a null value (tombstone)', null, 'empty message'],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not UTF-8 text'],
    ['text that is not JSON', Buffer.from('{"v":1,"order":'), /^not JSON: /],
    ['a JSON array', encodeLoose([1, 2]), 'envelope: expected a JSON object'],
    ['JSON null', Buffer.from('null'), 'envelope: expected a JSON object'],
  ])('rejects %s', (_name, bytes, reason) => {
    const got = reasonOf(bytes);
    if (typeof reason === 'string') expect(got).toBe(reason);
    else expect(got).toMatch(reason);
  });

  it('refuses an envelope version it does not know, without guessing', () => {
    expect(
      reasonOf(
        broken((e) => {
          e.v = 2;
        }),
      ),
    ).toBe('unsupported envelope version 2');
    expect(
      reasonOf(
        broken((e) => {
          e.v = '1';
        }),
      ),
    ).toBe('unsupported envelope version "1"');
    expect(reasonOf(broken((e) => delete e.v))).toBe('v: missing envelope version');
  });

  it.each<[string, (envelope: Loose) => void, string]>([
    [
      'currency',
      (e) => {
        e.order.currency = 'XYZ';
      },
      'order.currency: expected an ISO-4217 currency code',
    ],
    [
      'a line quantity',
      (e) => {
        e.order.lines[0].quantity = 0;
      },
      'order.lines[0].quantity: must be at least 1',
    ],
    [
      'a float amount',
      (e) => {
        e.order.totals.total = 12.5;
      },
      'order.totals.total: expected integer minor units',
    ],
    [
      'the update time',
      (e) => {
        e.order.updatedAt = '2026-02-30T00:00:00.000Z';
      },
      'order.updatedAt: expected a UTC instant like 2026-01-31T23:59:59.123Z',
    ],
    [
      'a cross-field rule',
      (e) => {
        e.order.updatedAt = '2000-01-02T00:00:00.000Z';
      },
      'order.updatedAt: is before createdAt',
    ],
    [
      'the fetch time',
      (e) => {
        e.fetchedAt = 'yesterday';
      },
      'fetchedAt: expected a UTC instant like 2026-01-31T23:59:59.123Z',
    ],
    ['a missing order', (e) => delete e.order, 'order: missing'],
  ])('names the field when %s is invalid', (_name, mutate, reason) => {
    expect(reasonOf(broken(mutate))).toBe(reason);
  });

  it('names the unknown platform', () => {
    const reason = reasonOf(
      broken((e) => {
        e.platform = 'myspace';
        e.order.platform = 'myspace';
      }),
    );
    expect(reason).toMatch(/^platform: .*; order\.platform: /);
  });

  it('lists every bad field, not just the first', () => {
    const reason = reasonOf(
      broken((e) => {
        e.order.currency = 'XYZ';
        e.order.userId = 'abc';
      }),
    );
    expect(reason).toContain('order.currency: expected an ISO-4217 currency code');
    expect(reason).toContain('order.userId: expected a non-negative integer as a decimal string');
  });

  it('refuses an envelope whose header disagrees with its order', () => {
    const otherPlatform = sample().order.platform === 'ebay' ? 'amazon' : 'ebay';
    expect(
      reasonOf(
        broken((e) => {
          e.platform = otherPlatform;
        }),
      ),
    ).toMatch(/^order\.platform: ".*" does not match the envelope's "/);
    expect(
      reasonOf(
        broken((e) => {
          e.account = 'someone-else';
        }),
      ),
    ).toMatch(/^order\.account: ".*" does not match the envelope's "someone-else"$/);
  });

  it('keeps reasons short when an order is broken everywhere', () => {
    const reason = reasonOf(
      broken((e) => {
        e.order.lines = Array.from({ length: 200 }, () => ({ lineId: '', quantity: -1 }));
      }),
    );
    expect(reason.length).toBeLessThanOrEqual(1000);
    expect(reason).toMatch(/^order\.lines\[0\]\./);
  });
});
