import type { TenantKeys } from './keys.js';

/**
 * Pure builders of each script's KEYS and ARGV, in the order the contract at the top of its
 * .lua file lists them. Inputs are already validated (stock-validation.ts); `now` is passed in,
 * never read here, so the scripts run on the caller's clock and tests can drive it.
 */

export interface ScriptCall {
  keys: string[];
  args: (string | number)[];
}

/** One line of an order: a SKU and a positive integer quantity. */
export interface StockLine {
  sku: string;
  quantity: number;
}

/**
 * `sku qty sku qty …`: how a request's lines are compared on a repeat (the fingerprint) and how
 * a record keeps what it took (its `l` field). SKUs never contain spaces.
 */
export function encodeLines(lines: readonly StockLine[]): string {
  let text = '';
  for (const line of lines)
    text += text === '' ? `${line.sku} ${line.quantity}` : ` ${line.sku} ${line.quantity}`;
  return text;
}

/** The inverse of encodeLines, for the `l` field of a stored record. */
export function decodeLines(text: string): StockLine[] {
  const words = text.split(' ').filter((word) => word !== '');
  const lines: StockLine[] = [];
  for (let i = 0; i + 1 < words.length; i += 2)
    lines.push({ sku: words[i]!, quantity: Number(words[i + 1]) });
  return lines;
}

interface Timed {
  now: number;
  /** How long the operation's record (its first answer) is kept. */
  recordTtlMs: number;
}

function lineArgs(head: (string | number)[], lines: readonly StockLine[]): (string | number)[] {
  for (const line of lines) head.push(line.sku, line.quantity);
  return head;
}

function lineKeys(head: string[], keys: TenantKeys, skus: readonly string[]): string[] {
  for (const sku of skus) head.push(keys.stock(sku));
  return head;
}

/** deduct-stock-n.lua */
export function deductArgs(
  keys: TenantKeys,
  input: Timed & { operationId: string; lines: readonly StockLine[]; sweepCheck: boolean },
): ScriptCall {
  const head = [keys.operation(input.operationId), keys.stream, keys.reservations];
  return {
    keys: lineKeys(
      head,
      keys,
      input.lines.map((line) => line.sku),
    ),
    args: lineArgs(
      [
        input.now,
        input.operationId,
        input.recordTtlMs,
        encodeLines(input.lines),
        input.sweepCheck ? '1' : '0',
      ],
      input.lines,
    ),
  };
}

/** deduct-once-per-user-5.lua */
export function deductOnceArgs(
  keys: TenantKeys,
  input: Timed & { operationId: string; userId: string; sku: string; quantity: number; sweepCheck: boolean },
): ScriptCall {
  return {
    keys: [
      keys.operation(input.operationId),
      keys.stream,
      keys.reservations,
      keys.stock(input.sku),
      keys.buyers(input.sku),
    ],
    args: [
      input.now,
      input.operationId,
      input.recordTtlMs,
      `${input.userId}|${input.sku} ${input.quantity}`,
      input.sweepCheck ? '1' : '0',
      input.userId,
      input.sku,
      input.quantity,
    ],
  };
}

/** reserve-stock-n.lua */
export function reserveArgs(
  keys: TenantKeys,
  input: Timed & { reservationId: string; lines: readonly StockLine[]; holdMs: number; sweepCheck: boolean },
): ScriptCall {
  return {
    keys: lineKeys(
      [keys.operation(input.reservationId), keys.stream, keys.reservations],
      keys,
      input.lines.map((line) => line.sku),
    ),
    args: lineArgs(
      [
        input.now,
        input.reservationId,
        input.recordTtlMs,
        `${input.holdMs}|${encodeLines(input.lines)}`,
        input.sweepCheck ? '1' : '0',
        input.holdMs,
      ],
      input.lines,
    ),
  };
}

export type SettleAction = 'confirm' | 'release' | 'expire';

/** settle-reservation-n.lua; `skus` are the reservation's, from its record's `l` field. */
export function settleArgs(
  keys: TenantKeys,
  input: { now: number; reservationId: string; action: SettleAction; skus: readonly string[] },
): ScriptCall {
  return {
    keys: lineKeys([keys.operation(input.reservationId), keys.stream, keys.reservations], keys, input.skus),
    args: [input.now, input.reservationId, input.action],
  };
}

/** restore-stock-n.lua; `skus` are the target's, from its record's `l` field (empty if unknown). */
export function restoreArgs(
  keys: TenantKeys,
  input: Timed & { operationId: string; restores: string; skus: readonly string[] },
): ScriptCall {
  return {
    keys: lineKeys(
      [
        keys.operation(input.operationId),
        keys.operation(input.restores),
        keys.stream,
        keys.buyers(input.skus[0] ?? ''),
      ],
      keys,
      input.skus,
    ),
    args: [input.now, input.operationId, input.recordTtlMs, input.restores],
  };
}

/** set-stock-3.lua */
export function setArgs(
  keys: TenantKeys,
  input: Timed & { operationId: string; sku: string; expectedVersion: number; available: number },
): ScriptCall {
  return {
    keys: [keys.operation(input.operationId), keys.stream, keys.stock(input.sku)],
    args: [
      input.now,
      input.operationId,
      input.recordTtlMs,
      input.sku,
      input.expectedVersion,
      input.available,
    ],
  };
}

/** adjust-stock-3.lua */
export function adjustArgs(
  keys: TenantKeys,
  input: Timed & { operationId: string; sku: string; expectedVersion: number; delta: number },
): ScriptCall {
  return {
    keys: [keys.operation(input.operationId), keys.stream, keys.stock(input.sku)],
    args: [input.now, input.operationId, input.recordTtlMs, input.sku, input.expectedVersion, input.delta],
  };
}

/** load-stock-2.lua */
export function loadArgs(
  keys: TenantKeys,
  input: { now: number; operationId: string; sku: string; onHand: number; reserved: number; version: number },
): ScriptCall {
  return {
    keys: [keys.stream, keys.stock(input.sku)],
    args: [input.now, input.operationId, input.sku, input.onHand, input.reserved, input.version],
  };
}
