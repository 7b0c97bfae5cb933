import type { Logger } from '../../core/logger.js';
import type { UnifiedOrder } from '../../core/order.js';
import { bodyArray, bodyObject, header, invalidInput, isNotFound, writeOutcome } from '../adapter-support.js';
import { isRec } from '../payload.js';
import { PLATFORM_ERROR_CODES, PlatformError } from '../resilience/platform-error.js';
import type {
  GetOrderInput,
  ListOrdersInput,
  MarketplaceAdapter,
  OrderPage,
  PlatformHttp,
  SubmitTrackingInput,
  UpdateInventoryInput,
  WriteOutcome,
} from '../types.js';
import { mapEbayOrder, mapEbayPage } from './mapper.js';
import { ebayNextOffset, ebayOrdersQuery, parseEbayCursor } from './pagination.js';

export interface EbayClientOptions {
  http: PlatformHttp;
  account: string;
  userId: string;
  logger: Logger;
}

const FULFILLMENT = '/sell/fulfillment/v1';
const INVENTORY = '/sell/inventory/v1';

/**
 * eBay Sell Fulfillment (getOrders, getOrder, createShippingFulfillment) and Sell Inventory
 * (bulkUpdatePriceQuantity). The only file of the adapter doing HTTP, always through the
 * account's PlatformHttp. The Fulfillment calls share one daily quota, so they stay in the
 * `default` limiter class; the Inventory call has its own.
 */
export class EbayClient implements MarketplaceAdapter {
  readonly platform = 'ebay' as const;
  readonly account: string;
  readonly #o: EbayClientOptions;

  constructor(options: EbayClientOptions) {
    this.#o = options;
    this.account = options.account;
  }

  /**
   * Offset paging over `lastmodifieddate:[from..to]`. Orders modified during the scan can shift
   * between pages (skips or repeats); callers overlap windows and dedupe by key and version.
   */
  async *listOrders(input: ListOrdersInput): AsyncIterable<OrderPage> {
    let offset: number | null = parseEbayCursor(input.cursor);
    if (offset === null)
      throw invalidInput([{ path: 'cursor', message: 'expected an offset from a previous page' }]);
    const context = this.#context('getOrders');
    while (offset !== null) {
      const query = ebayOrdersQuery({ from: input.from, to: input.to, pageSize: input.pageSize, offset });
      const response = await this.#o.http.request({
        operation: 'getOrders',
        method: 'GET',
        url: `${FULFILLMENT}/order?${query}`,
        signal: input.signal,
      });
      const body = bodyObject(response, context);
      // With no order in the window eBay may leave `orders` out and answer total 0.
      const page = mapEbayPage(bodyArray(body, 'orders', context, { optional: true }), this.#mapContext());
      offset = ebayNextOffset(body, offset);
      yield {
        ...page,
        nextCursor: offset === null ? null : String(offset),
        ...(typeof body.total === 'number' ? { total: body.total } : {}),
      };
    }
  }

  async getOrder(input: GetOrderInput): Promise<UnifiedOrder | null> {
    try {
      const response = await this.#o.http.request({
        operation: 'getOrder',
        method: 'GET',
        url: `${FULFILLMENT}/order/${encodeURIComponent(input.platformOrderId)}`,
        signal: input.signal,
      });
      return mapEbayOrder(bodyObject(response, this.#context('getOrder')), this.#mapContext(), 'ebay.order');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Sets the SKU's total ship-to-home quantity (absolute: repeatable). eBay answers 200 or 207
   * with a status per SKU; a failed SKU is a data error carrying eBay's errors.
   */
  async updateInventory(input: UpdateInventoryInput): Promise<WriteOutcome> {
    if (!Number.isSafeInteger(input.quantity) || input.quantity < 0) {
      throw invalidInput([{ path: 'quantity', message: 'must be a non-negative integer' }]);
    }
    return writeOutcome(async () => {
      const response = await this.#o.http.request({
        operation: 'bulkUpdatePriceQuantity',
        method: 'POST',
        url: `${INVENTORY}/bulk_update_price_quantity`,
        data: { requests: [{ sku: input.sku, shipToLocationAvailability: { quantity: input.quantity } }] },
        idempotent: true,
        signal: input.signal,
      });
      const body = isRec(response.data) ? response.data : {};
      const results = Array.isArray(body.responses) ? body.responses : [];
      const failed = results.find(
        (result) => isRec(result) && typeof result.statusCode === 'number' && result.statusCode >= 400,
      );
      if (failed && isRec(failed)) {
        throw new PlatformError(
          PLATFORM_ERROR_CODES.rejected,
          `SKU ${input.sku} was not updated (${failed.statusCode})`,
          {
            ...this.#context('bulkUpdatePriceQuantity'),
            kind: 'data',
            retriable: false,
            status: response.status,
            details: { errors: failed.errors },
          },
        );
      }
      return header(response.headers, 'x-ebay-c-request-id');
    });
  }

  /**
   * createShippingFulfillment: one call per package, answered 201 with the new fulfillment in
   * `Location`. Not idempotent: a send without an answer is `indeterminate`. Without explicit
   * lines, every line not yet fulfilled goes into the package, which needs the order first.
   */
  async submitTracking(input: SubmitTrackingInput): Promise<WriteOutcome> {
    let lines = input.lines;
    if (!lines) {
      const order = await this.getOrder({ platformOrderId: input.platformOrderId, signal: input.signal });
      if (!order) throw invalidInput([{ path: 'platformOrderId', message: 'no such eBay order' }]);
      lines = order.lines
        .filter((line) => !line.cancelled && line.quantityShipped < line.quantity)
        .map((line) => ({ lineId: line.lineId, quantity: line.quantity - line.quantityShipped }));
    }
    if (lines.length === 0) throw invalidInput([{ path: 'lines', message: 'nothing left to ship' }]);
    const packageLines = lines;
    return writeOutcome(async () => {
      const response = await this.#o.http.request({
        operation: 'createShippingFulfillment',
        method: 'POST',
        url: `${FULFILLMENT}/order/${encodeURIComponent(input.platformOrderId)}/shipping_fulfillment`,
        headers: { 'Content-Type': 'application/json' },
        data: {
          lineItems: packageLines.map((line) => ({ lineItemId: line.lineId, quantity: line.quantity })),
          shippedDate: input.shippedAt,
          shippingCarrierCode: input.carrier,
          trackingNumber: input.trackingNumber,
        },
        idempotent: false,
        signal: input.signal,
      });
      const location = header(response.headers, 'location');
      return location ? location.split('/').pop() : undefined;
    });
  }

  #mapContext() {
    return { account: this.#o.account, userId: this.#o.userId };
  }

  #context(operation: string) {
    return { platform: 'ebay', account: this.#o.account, operation };
  }
}
