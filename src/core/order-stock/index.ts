/** Stock deduction of marketplace orders: the outbox, its drainer, metrics (docs/stock-orders.md). */
export { createOrderStock, type OrderStock, type OrderStockDeps } from './create-order-stock.js';
export type { IntentOutcome } from './intent-apply.js';
export type { IntentKind, IntentRow, IntentStatus } from './intent-rows.js';
export { intentTablesDdl, issueTablesDdl } from './intent-schema.js';
export type { IssueKind, OrderStockIssue } from './intent-sql.js';
export type { StockIntentOptions } from './intent-writes.js';
export { OrderStockDrainer, type OrderStockDrainerOptions } from './order-stock-drainer.js';
export {
  type OrderStockCounts,
  type OrderStockMetrics,
  OrderStockStats,
  prometheusOrderStockMetrics,
  teeOrderStockMetrics,
} from './order-stock-metrics.js';
