import { ValidationError } from './errors.js';
import type { Instant } from './time.js';

/**
 * The bit layout of a Snowflake id and the pure functions that read and build one. The
 * generator is in snowflake.ts.
 *
 *   bit 63      always 0 (ids are positive BIGINTs)
 *   bits 62-22  milliseconds since the custom epoch (41 bits, about 69.7 years)
 *   bits 21-12  worker id (10 bits, 0-1023)
 *   bits 11-0   sequence within the millisecond (12 bits, 0-4095)
 */

export const TIMESTAMP_BITS = 41;
export const WORKER_ID_BITS = 10;
export const SEQUENCE_BITS = 12;
export const MAX_WORKER_ID = 2 ** WORKER_ID_BITS - 1;
export const MAX_SEQUENCE = 2 ** SEQUENCE_BITS - 1;
/** Largest millisecond offset from the epoch that fits the 41-bit field (about 69.7 years). */
export const MAX_TIMESTAMP_OFFSET_MS = 2 ** TIMESTAMP_BITS - 1;
/** The layout's ceiling for one worker: 4,096 ids per millisecond. */
export const IDS_PER_MS = MAX_SEQUENCE + 1;
export const DEFAULT_SNOWFLAKE_EPOCH: Instant = '2024-01-01T00:00:00.000Z';
export const DEFAULT_SNOWFLAKE_EPOCH_MS = Date.parse(DEFAULT_SNOWFLAKE_EPOCH);

const MAX_ID = (1n << 63n) - 1n;

/** The fields of an id. */
export interface SnowflakeParts {
  id: string;
  timestamp: Instant;
  timestampMs: number;
  workerId: number;
  sequence: number;
}

/** Builds the id of given fields (range bounds for "ids issued at time t", tests). */
export function snowflakeFromParts(
  parts: { timestampMs: number; workerId: number; sequence: number },
  epochMs: number = DEFAULT_SNOWFLAKE_EPOCH_MS,
): string {
  const offset = parts.timestampMs - epochMs;
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_TIMESTAMP_OFFSET_MS) {
    throw new RangeError(`timestamp ${parts.timestampMs} is outside the 41-bit range of the epoch`);
  }
  if (!Number.isInteger(parts.workerId) || parts.workerId < 0 || parts.workerId > MAX_WORKER_ID) {
    throw new RangeError(`workerId must be 0-${MAX_WORKER_ID}`);
  }
  if (!Number.isInteger(parts.sequence) || parts.sequence < 0 || parts.sequence > MAX_SEQUENCE) {
    throw new RangeError(`sequence must be 0-${MAX_SEQUENCE}`);
  }
  return (
    (BigInt(offset) << BigInt(WORKER_ID_BITS + SEQUENCE_BITS)) |
    (BigInt(parts.workerId) << BigInt(SEQUENCE_BITS)) |
    BigInt(parts.sequence)
  ).toString();
}

/**
 * Splits an id (decimal string or bigint) into its fields. Anything that is not a decimal
 * integer from 0 to 2^63-1 is a ValidationError naming the value.
 */
export function parseSnowflake(
  id: string | bigint,
  epochMs: number = DEFAULT_SNOWFLAKE_EPOCH_MS,
  field = 'id',
): SnowflakeParts {
  let value: bigint;
  if (typeof id === 'bigint') value = id;
  else if (typeof id === 'string' && /^\d{1,19}$/.test(id)) value = BigInt(id);
  else throw invalidId(field, `${JSON.stringify(id)} is not a decimal integer id`);
  if (value < 0n || value > MAX_ID) throw invalidId(field, `${id} is outside 0..2^63-1`);
  const timestampMs = Number(value >> BigInt(WORKER_ID_BITS + SEQUENCE_BITS)) + epochMs;
  return {
    id: value.toString(),
    timestamp: new Date(timestampMs).toISOString(),
    timestampMs,
    workerId: Number((value >> BigInt(SEQUENCE_BITS)) & BigInt(MAX_WORKER_ID)),
    sequence: Number(value & BigInt(MAX_SEQUENCE)),
  };
}

function invalidId(field: string, message: string): ValidationError {
  return new ValidationError('invalid snowflake id', [{ path: field, message }], {
    code: 'TRADECTL_INVALID_SNOWFLAKE',
  });
}
