/** The stock subsystem's public surface (re-exported by src/index.ts). */
export type { DeductAvailableInput, DeductAvailableResult } from './deduct-available.js';
export { TENANT_PATTERN, type TenantKeys, tenantKeys, tenantRegistryKey } from './keys.js';
export {
  type DrainRound,
  type LedgerBatchEvent,
  LedgerDrain,
  type LedgerDrainOptions,
} from './ledger-drain.js';
export { LEDGER_KINDS, type LedgerKind } from './ledger-entry.js';
export {
  type InitStockTablesResult,
  initStockTables,
  STOCK_TABLES,
  type StockTable,
  stockTable,
  stockTablesDdl,
} from './ledger-schema.js';
export type { LedgerApplyResult } from './ledger-store.js';
export { ReservationSweeper, type ReservationSweeperOptions } from './reservation-sweeper.js';
export {
  AlreadyPurchasedError,
  InsufficientStockError,
  OperationConflictError,
  ReservationError,
  type ReservationProblem,
  RestoreError,
  type RestoreProblem,
  UnknownSkuError,
  VersionConflictError,
} from './stock-errors.js';
export { DEFAULT_OPERATION_TTL_MS, StockService, type StockServiceOptions } from './stock-service.js';
export type * from './stock-types.js';
export { MAX_HOLD_MS, MAX_LINES, MAX_STOCK, SKU_PATTERN } from './stock-validation.js';
export { type InventoryRow, readInventory, type WarmUpResult, warmUpStock } from './stock-warmup.js';
