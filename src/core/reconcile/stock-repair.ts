import type { Redis } from 'ioredis';
import { TradectlError } from '../errors.js';
import { loadLuaScript, runLuaScript } from '../lua-script.js';
import type { TenantKeys } from '../stock/keys.js';
import { redisFailure } from '../stock/stock-runtime.js';
import type { ExpectedLevel, RedisLevel } from './stock-truth.js';

const REPAIR = loadLuaScript(new URL('./lua/', import.meta.url), 'repair-stock-2.lua');

export type RepairOutcome =
  | { status: 'applied'; level: RedisLevel }
  /** The truth after the changes in between is below zero: nothing written. */
  | { status: 'negative'; target: ExpectedLevel }
  /** Redis changed other than through the scripts since it was read (or too busy): read again. */
  | { status: 'conflict'; reason: string };

/**
 * Moves one SKU by the drift a snapshot found, across the changes made since (repair-stock-2.lua
 * says how it checks them), and records the repair in the stream with no effect on MySQL.
 */
export async function repairSku(input: {
  redis: Redis;
  keys: TenantKeys;
  sku: string;
  operationId: string;
  now: number;
  /** The stream's last id at the snapshot. */
  snapshotId: string;
  /** Redis at the snapshot; null when it did not have the SKU. */
  seen: RedisLevel | null;
  /** What Redis should have held at the snapshot. */
  expected: ExpectedLevel;
  /** The new version is at least this. */
  versionFloor: number;
  /** Default 10,000. */
  maxEntries?: number;
}): Promise<RepairOutcome> {
  const { seen, expected } = input;
  let reply: unknown;
  try {
    reply = await runLuaScript(
      input.redis,
      REPAIR,
      [input.keys.stream, input.keys.stock(input.sku)],
      [
        input.now,
        input.operationId,
        input.sku,
        input.snapshotId,
        seen === null ? '' : `${seen.version},${seen.available},${seen.reserved}`,
        expected.available,
        expected.reserved,
        input.versionFloor,
        input.maxEntries ?? 10_000,
      ],
    );
  } catch (error) {
    throw redisFailure('repair stock', error);
  }
  const [code, detail] = Array.isArray(reply) ? reply : [];
  const numbers = String(detail ?? '')
    .split(',')
    .map(Number);
  if (code === 0 && numbers.length === 3) {
    const [available = 0, reserved = 0, version = 0] = numbers;
    return { status: 'applied', level: { available, reserved, version } };
  }
  if (code === 1 && numbers.length === 2) {
    const [available = 0, reserved = 0] = numbers;
    return { status: 'negative', target: { available, reserved } };
  }
  if (code === 4) return { status: 'conflict', reason: String(detail) };
  throw new TradectlError(
    'TRADECTL_STOCK_SCRIPT_REPLY',
    `repair stock: unexpected reply ${JSON.stringify(reply)}`,
    {
      kind: 'internal',
    },
  );
}
