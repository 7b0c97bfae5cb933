import { decodeEnvelope, envelopeKey } from '../core/bus/envelope.js';

/**
 * Pure helpers of `tradectl dlq`: how an entry's original bytes are shown, whether replaying them
 * can ever succeed, and the key a replay is published with.
 */

/** The original bytes as `dlq show` prints them: pretty JSON when they are JSON, else base64 and hex. */
export type PayloadView =
  | { encoding: 'json'; json: unknown; text: string }
  | { encoding: 'binary'; base64: string; hex: string; truncatedHex: boolean };

/** Hex dumps stop here: a 16 MiB blob is for `--json` and base64, not for a terminal. */
const MAX_HEX_BYTES = 4096;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function viewPayload(bytes: Buffer): PayloadView {
  const text = decodeUtf8(bytes);
  if (text !== null) {
    try {
      const json = JSON.parse(text) as unknown;
      return { encoding: 'json', json, text: JSON.stringify(json, null, 2) };
    } catch {
      // Not JSON: shown as bytes below.
    }
  }
  return {
    encoding: 'binary',
    base64: bytes.toString('base64'),
    hex: hexDump(bytes.subarray(0, MAX_HEX_BYTES)),
    truncatedHex: bytes.length > MAX_HEX_BYTES,
  };
}

/** `offset  hex bytes  |ascii|`, 16 bytes a line, like `hexdump -C`. */
export function hexDump(bytes: Buffer): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = [...row].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row]
      .map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.'))
      .join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines.join('\n');
}

export type Replayability = { replayable: true } | { replayable: false; why: string };

/**
 * Whether publishing these bytes again can ever be stored. Only an order envelope (a JSON object
 * with a version field `v`) can: after a fix of the validation, the store, or an upgrade that
 * reads a newer envelope version. Anything else (a platform record the adapter could not map,
 * which the sync runner quarantines as the platform sent it; bytes that are not JSON) would
 * come straight back with a worse reason, so replay leaves it open and says what to do instead.
 */
export function replayability(bytes: Buffer): Replayability {
  const text = decodeUtf8(bytes);
  let value: unknown;
  try {
    value = text === null ? undefined : JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'v' in value) {
    return { replayable: true };
  }
  return {
    replayable: false,
    why:
      text === null || value === undefined
        ? 'the original bytes are not a JSON order envelope: publishing them again can never be stored'
        : 'the original is not an order envelope (no "v"): a platform record the adapter could not map, ' +
          'or a foreign message. Once the adapter is fixed, re-sync the account window that held it ' +
          '(tradectl sync --platform P --account A --since T)',
  };
}

/**
 * The key a replay is published with: the entry's own key, or, for a message that had none,
 * its order's key when the bytes decode (so the sink does not refuse it for a wrong key).
 */
export function replayKey(key: string | null, bytes: Buffer): string {
  if (key !== null) return key;
  const decoded = decodeEnvelope(bytes);
  return decoded.ok ? envelopeKey(decoded.envelope) : '';
}

function decodeUtf8(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
