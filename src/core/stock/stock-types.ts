import type { Instant } from '../time.js';
import type { StockLine } from './script-args.js';

/**
 * Inputs and results of the StockService API. Every mutating call carries an operation id
 * (a reservation's is its reservation id): the same id applied again changes nothing and
 * returns the first answer, with `replayed: true`. `tenant` defaults to the service's tenant.
 */

export type { StockLine } from './script-args.js';

interface TenantScoped {
  /** The stock namespace (a seller); all of a tenant's SKUs share one Redis Cluster slot. */
  tenant?: string;
}

export interface DeductInput extends TenantScoped {
  operationId: string;
  /** 1-100 lines; lines of the same SKU are added up. All are deducted, or none. */
  lines: readonly StockLine[];
}

export interface DeductOncePerUserInput extends TenantScoped {
  operationId: string;
  userId: string;
  sku: string;
  /** Default 1. */
  quantity?: number;
}

export interface ReserveInput extends TenantScoped {
  /** The reservation's id, also its operation id. */
  reservationId: string;
  lines: readonly StockLine[];
  /** How long the stock is held before the sweep gives it back (1 ms to 7 days). */
  ttlMs: number;
}

export interface SettleInput extends TenantScoped {
  reservationId: string;
}

export interface RestoreInput extends TenantScoped {
  /** The restore's own id (a repeat restores nothing more). */
  operationId: string;
  /** The sale to give back: a deduct, a once-per-user deduct or a confirmed reservation. */
  restores: string;
}

export interface SetInput extends TenantScoped {
  operationId: string;
  sku: string;
  /** The version read before deciding (0: the SKU must not exist yet). */
  expectedVersion: number;
  available: number;
}

export interface AdjustInput extends TenantScoped {
  operationId: string;
  sku: string;
  expectedVersion: number;
  /** Non-zero; the result may not go below zero. */
  delta: number;
}

export interface LoadInput extends TenantScoped {
  /** The warm-up run's id: the ledger records each loaded SKU under it. */
  operationId: string;
  sku: string;
  /** The durable state in MySQL (`inventory`). */
  onHand: number;
  reserved: number;
  version: number;
}

/** A SKU's stock in Redis. */
export interface StockLevel {
  tenant: string;
  sku: string;
  /** Sellable now. Never below zero. */
  available: number;
  /** Held by reservations not yet confirmed, released or expired. */
  reserved: number;
  /** Grows by one with every change; 0 for a SKU that does not exist. */
  version: number;
}

/** One line after the operation: the SKU's available quantity and version right after it. */
export interface LineResult extends StockLine {
  available: number;
  version: number;
}

export interface OperationResult {
  tenant: string;
  operationId: string;
  /** True when the operation was applied earlier and this is its stored answer. */
  replayed: boolean;
  lines: LineResult[];
}

export interface ReserveResult extends OperationResult {
  expiresAt: Instant;
}

export type SettledState = 'confirmed' | 'released' | 'expired';

export interface SettleResult extends OperationResult {
  state: SettledState;
}

export interface RestoreResult extends OperationResult {
  restores: string;
}

export interface SetResult {
  tenant: string;
  operationId: string;
  sku: string;
  available: number;
  version: number;
  replayed: boolean;
}

export interface LoadResult {
  tenant: string;
  sku: string;
  /** False when Redis already had the SKU (then it was left as it is). */
  loaded: boolean;
  available: number;
  version: number;
}

export interface SweepResult {
  /** Reservations whose stock this call gave back. */
  expired: number;
  /** Reservations found due but settled by someone else meanwhile. */
  skipped: number;
}
