import type { Logger } from '../../core/logger.js';
import type { UnifiedOrder } from '../../core/order.js';
import { toEpochMs } from '../../core/time.js';
import {
  bodyArray,
  bodyObject,
  header,
  invalidInput,
  isNotFound,
  missingOption,
  numericKey,
  writeOutcome,
} from '../adapter-support.js';
import { isRec, mapRecords, rawId } from '../payload.js';
import { encodeQuery } from '../query.js';
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
import { mapAmazonOrder, mapAmazonPage } from './mapper.js';
import { type AmazonV0Record, mapAmazonV0Order } from './mapper-v0.js';
import {
  getOrderQuery,
  getOrdersV0Query,
  searchOrdersNextToken,
  searchOrdersQuery,
  v0NextToken,
} from './pagination.js';

/** Amazon refuses a `*Before` later than two minutes before the request. */
export const AMAZON_BEFORE_LAG_MS = 120_000;

export interface AmazonClientOptions {
  http: PlatformHttp;
  account: string;
  userId: string;
  marketplaceIds: readonly string[];
  /** Selling partner id, for the Listings Items path (updateInventory). */
  sellerId?: string | undefined;
  /** Product type sent with listing patches. Default `PRODUCT`. */
  productType: string;
  /** `2026-01-01` (default) or the deprecated `v0`. */
  ordersApi: '2026-01-01' | 'v0';
  now: () => number;
  logger: Logger;
}

/**
 * Amazon SP-API: Orders 2026-01-01 searchOrders/getOrder (items inline through includedData),
 * Listings Items patch for quantities, Orders v0 confirmShipment for tracking (the 2026-01-01
 * model has no write operations). The only file of the adapter doing HTTP besides the
 * deprecated v0 listing (orders-v0.ts), always through the account's PlatformHttp.
 */
export class AmazonClient implements MarketplaceAdapter {
  readonly platform = 'amazon' as const;
  readonly account: string;
  readonly #o: AmazonClientOptions;

  constructor(options: AmazonClientOptions) {
    this.#o = options;
    this.account = options.account;
  }

  async *listOrders(input: ListOrdersInput): AsyncIterable<OrderPage> {
    this.#checkWindow(input);
    if (this.#o.ordersApi === 'v0') {
      yield* this.#listOrdersV0(input);
      return;
    }
    const context = this.#context('searchOrders');
    let token: string | null = input.cursor ?? null;
    do {
      const query = searchOrdersQuery({
        from: input.from,
        to: input.to,
        marketplaceIds: this.#o.marketplaceIds,
        pageSize: input.pageSize,
        token,
      });
      const response = await this.#o.http.request({
        operation: 'searchOrders',
        method: 'GET',
        url: `/orders/2026-01-01/orders?${query}`,
        signal: input.signal,
      });
      const body = bodyObject(response, context);
      const page = mapAmazonPage(bodyArray(body, 'orders', context), this.#mapContext());
      token = searchOrdersNextToken(body);
      yield { ...page, nextCursor: token };
    } while (token);
  }

  async getOrder(input: GetOrderInput): Promise<UnifiedOrder | null> {
    try {
      const response = await this.#o.http.request({
        operation: 'getOrder',
        method: 'GET',
        url: `/orders/2026-01-01/orders/${encodeURIComponent(input.platformOrderId)}?${getOrderQuery()}`,
        signal: input.signal,
      });
      const body = bodyObject(response, this.#context('getOrder'));
      return mapAmazonOrder(body.order, this.#mapContext(), 'amazon.order');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Replaces the listing's fulfillment_availability quantity (absolute: repeatable). Amazon
   * answers ACCEPTED and applies it asynchronously; INVALID comes back with issues, as data.
   */
  async updateInventory(input: UpdateInventoryInput): Promise<WriteOutcome> {
    const sellerId = this.#o.sellerId;
    if (!sellerId) throw missingOption('sellerId', 'to patch Amazon listings');
    if (!Number.isSafeInteger(input.quantity) || input.quantity < 0) {
      throw invalidInput([{ path: 'quantity', message: 'must be a non-negative integer' }]);
    }
    return writeOutcome(async () => {
      const query = encodeQuery([
        ['marketplaceIds', this.#o.marketplaceIds],
        ['includedData', ['issues']],
      ]);
      const response = await this.#o.http.request({
        operation: 'patchListingsItem',
        method: 'PATCH',
        url: `/listings/2021-08-01/items/${encodeURIComponent(sellerId)}/${encodeURIComponent(input.sku)}?${query}`,
        data: {
          productType: this.#o.productType,
          patches: [
            {
              op: 'replace',
              path: '/attributes/fulfillment_availability',
              value: [{ fulfillment_channel_code: 'DEFAULT', quantity: input.quantity }],
            },
          ],
        },
        idempotent: true,
        signal: input.signal,
      });
      const body = bodyObject(response, this.#context('patchListingsItem'));
      if (body.status === 'INVALID') {
        throw new PlatformError(PLATFORM_ERROR_CODES.rejected, `listing ${input.sku} rejected the patch`, {
          ...this.#context('patchListingsItem'),
          kind: 'data',
          retriable: false,
          status: response.status,
          details: { issues: body.issues },
        });
      }
      return typeof body.submissionId === 'string'
        ? body.submissionId
        : header(response.headers, 'x-amzn-requestid');
    });
  }

  /**
   * confirmShipment (Orders v0, still current). The package reference is derived from the
   * idempotency key, so a repeat names the same package. Without explicit lines, every line
   * still unshipped is confirmed, which needs the order first.
   */
  async submitTracking(input: SubmitTrackingInput): Promise<WriteOutcome> {
    let lines = input.lines;
    let marketplaceId = this.#o.marketplaceIds.length === 1 ? this.#o.marketplaceIds[0] : undefined;
    if (!lines || !marketplaceId) {
      const order = await this.getOrder({ platformOrderId: input.platformOrderId, signal: input.signal });
      if (!order) throw invalidInput([{ path: 'platformOrderId', message: 'no such Amazon order' }]);
      marketplaceId = order.marketplace ?? marketplaceId;
      lines ??= order.lines
        .filter((line) => !line.cancelled && line.quantity > line.quantityShipped)
        .map((line) => ({ lineId: line.lineId, quantity: line.quantity - line.quantityShipped }));
    }
    if (!marketplaceId) throw missingOption('marketplaceIds', 'to confirm shipments');
    if (lines.length === 0) throw invalidInput([{ path: 'lines', message: 'nothing left to ship' }]);
    const packageLines = lines;
    return writeOutcome(async () => {
      const response = await this.#o.http.request({
        operation: 'confirmShipment',
        method: 'POST',
        url: `/orders/v0/orders/${encodeURIComponent(input.platformOrderId)}/shipmentConfirmation`,
        data: {
          marketplaceId,
          packageDetail: {
            packageReferenceId: numericKey(input.idempotencyKey),
            carrierCode: input.carrier,
            carrierName: input.carrier,
            trackingNumber: input.trackingNumber,
            shipDate: input.shippedAt,
            orderItems: packageLines.map((line) => ({ orderItemId: line.lineId, quantity: line.quantity })),
          },
        },
        idempotent: false,
        signal: input.signal,
      });
      return header(response.headers, 'x-amzn-requestid');
    });
  }

  /**
   * Deprecated Orders v0: getOrders pages, then getOrderItems for every order (0.5/s each, the
   * fan-out that made v0 slow). Kept for accounts that cannot move to 2026-01-01 yet.
   */
  async *#listOrdersV0(input: ListOrdersInput): AsyncIterable<OrderPage> {
    const context = this.#context('getOrders');
    let token: string | null = input.cursor ?? null;
    do {
      const query = getOrdersV0Query({
        from: input.from,
        to: input.to,
        marketplaceIds: this.#o.marketplaceIds,
        pageSize: input.pageSize,
        token,
      });
      const response = await this.#o.http.request({
        operation: 'getOrders',
        method: 'GET',
        url: `/orders/v0/orders?${query}`,
        signal: input.signal,
      });
      const body = bodyObject(response, context);
      const payload = isRec(body.payload) ? body.payload : {};
      const records: AmazonV0Record[] = [];
      for (const order of bodyArray(payload, 'Orders', context)) {
        const id = rawId(order, 'AmazonOrderId');
        records.push({ order, items: id ? await this.#orderItemsV0(id, input.signal) : [] });
      }
      const page = mapRecords(
        records,
        (raw, path) => mapAmazonV0Order(raw as AmazonV0Record, this.#mapContext(), path),
        (index) => `amazon.v0.orders[${index}]`,
        (raw) => rawId((raw as AmazonV0Record).order, 'AmazonOrderId'),
      );
      token = v0NextToken(body);
      yield { ...page, nextCursor: token };
    } while (token);
  }

  async #orderItemsV0(orderId: string, signal: AbortSignal | undefined): Promise<unknown[]> {
    const context = this.#context('getOrderItems');
    const items: unknown[] = [];
    let token: string | null = null;
    do {
      const query = token ? `?${encodeQuery([['NextToken', token]])}` : '';
      const response = await this.#o.http.request({
        operation: 'getOrderItems',
        method: 'GET',
        url: `/orders/v0/orders/${encodeURIComponent(orderId)}/orderItems${query}`,
        signal,
      });
      const body = bodyObject(response, context);
      const payload = isRec(body.payload) ? body.payload : {};
      items.push(...bodyArray(payload, 'OrderItems', context));
      token = v0NextToken(body);
    } while (token);
    return items;
  }

  // A window ending in Amazon's last two minutes is refused as InvalidInput; failing here
  // says why instead of sending a request that cannot succeed.
  #checkWindow(input: ListOrdersInput): void {
    if (toEpochMs(input.to) > this.#o.now() - AMAZON_BEFORE_LAG_MS) {
      throw invalidInput([{ path: 'to', message: 'must be at least 2 minutes in the past for Amazon' }]);
    }
    if (input.to < input.from) throw invalidInput([{ path: 'to', message: 'is before from' }]);
  }

  #mapContext() {
    return { account: this.#o.account, userId: this.#o.userId };
  }

  #context(operation: string) {
    return { platform: 'amazon', account: this.#o.account, operation };
  }
}
