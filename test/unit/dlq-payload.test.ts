import { describe, expect, it } from 'vitest';
import { createEnvelope, encodeEnvelope, envelopeKey } from '../../src/core/bus/envelope.js';
import { hexDump, replayability, replayKey, viewPayload } from '../../src/workers/dlq-payload.js';
import { generateOrders } from '../helpers/order-generator.js';

const envelope = createEnvelope(generateOrders({ seed: 3, count: 1 })[0]!, '2026-03-01T00:00:00.000Z');

describe('dlq show: the original bytes', () => {
  it('pretty-prints JSON', () => {
    const view = viewPayload(Buffer.from('{"v":1,"order":{"id":"A"}}'));
    expect(view).toEqual({
      encoding: 'json',
      json: { v: 1, order: { id: 'A' } },
      text: '{\n  "v": 1,\n  "order": {\n    "id": "A"\n  }\n}',
    });
  });

  it('shows bytes that are not UTF-8, or not JSON, as base64 and a hex dump', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0x41]);
    expect(viewPayload(bytes)).toEqual({
      encoding: 'binary',
      base64: 'e/8AQQ==',
      hex: '00000000  7b ff 00 41                                      |{..A|',
      truncatedHex: false,
    });
    expect(viewPayload(Buffer.from('{"v":1,')).encoding).toBe('binary');
  });

  it('dumps 16 bytes a line and cuts the dump (not the base64) of a large blob', () => {
    expect(hexDump(Buffer.from('0123456789abcdefXY')).split('\n')).toEqual([
      '00000000  30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66  |0123456789abcdef|',
      '00000010  58 59                                            |XY|',
    ]);
    const big = Buffer.alloc(5000, 0xfe);
    const view = viewPayload(big);
    if (view.encoding !== 'binary') throw new Error('expected a binary view');
    expect(view.truncatedHex).toBe(true);
    expect(view.hex.split('\n')).toHaveLength(256);
    expect(Buffer.from(view.base64, 'base64').equals(big)).toBe(true);
  });
});

describe('dlq replay: what can be replayed', () => {
  it('replays order envelopes, valid or not (a fix may make them storable)', () => {
    expect(replayability(encodeEnvelope(envelope))).toEqual({ replayable: true });
    expect(replayability(Buffer.from('{"v":2,"order":{}}'))).toEqual({ replayable: true });
  });

  it('refuses platform records and bytes that are not JSON, saying what to do instead', () => {
    const record = replayability(Buffer.from('{"id":4711,"financial_status":"weird"}'));
    expect(record).toMatchObject({ replayable: false });
    expect(!record.replayable && record.why).toMatch(/re-sync the account window/);
    expect(replayability(Buffer.from([0xff, 0xfe]))).toMatchObject({ replayable: false });
    expect(replayability(Buffer.from('[1,2]'))).toMatchObject({ replayable: false });
    expect(replayability(Buffer.from('null'))).toMatchObject({ replayable: false });
  });

  it("keeps the entry's key, or takes the order's key when the message had none", () => {
    const bytes = encodeEnvelope(envelope);
    expect(replayKey('shopify:a:1', bytes)).toBe('shopify:a:1');
    expect(replayKey(null, bytes)).toBe(envelopeKey(envelope));
    expect(replayKey(null, Buffer.from('{"v":1}'))).toBe('');
  });
});
