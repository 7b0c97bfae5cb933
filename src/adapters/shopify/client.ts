import type { Logger } from '../../core/logger.js';
import type { UnifiedOrder } from '../../core/order.js';
import {
  bodyArray,
  bodyObject,
  header,
  invalidInput,
  isNotFound,
  missingOption,
  writeOutcome,
} from '../adapter-support.js';
import { isRec, type Rec } from '../payload.js';
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
import { mapShopifyOrder, mapShopifyPage } from './mapper.js';
import { nextPageInfo, shopifyOrdersQuery } from './pagination.js';

export interface ShopifyClientOptions {
  http: PlatformHttp;
  account: string;
  userId: string;
  /** `jsmith.myshopify.com`: the order's marketplace. */
  shopDomain: string | null;
  /** Admin API version, `2025-07`. */
  apiVersion: string;
  /** Location whose `available` quantity updateInventory sets. */
  locationId?: string | undefined;
  logger: Logger;
}

/**
 * Shopify Admin REST (orders.json, inventory_levels/set.json, fulfillments.json). The only file
 * of the adapter that does HTTP, always through the account's PlatformHttp. All REST calls
 * share one leaky bucket per app and store, so every operation is left in the `default` class.
 */
export class ShopifyClient implements MarketplaceAdapter {
  readonly platform = 'shopify' as const;
  readonly account: string;
  readonly #o: ShopifyClientOptions;
  readonly #prefix: string;

  constructor(options: ShopifyClientOptions) {
    this.#o = options;
    this.account = options.account;
    this.#prefix = `/admin/api/${options.apiVersion}`;
  }

  async *listOrders(input: ListOrdersInput): AsyncIterable<OrderPage> {
    let pageInfo: string | null = input.cursor ?? null;
    const context = this.#context('orders.json');
    do {
      const query = shopifyOrdersQuery({
        from: input.from,
        to: input.to,
        pageSize: input.pageSize,
        pageInfo,
      });
      const response = await this.#o.http.request({
        operation: 'orders.json',
        method: 'GET',
        url: `${this.#prefix}/orders.json?${query}`,
        signal: input.signal,
      });
      const records = bodyArray(bodyObject(response, context), 'orders', context);
      const page = mapShopifyPage(records, this.#mapContext());
      // The cursor comes from the Link header's rel="next" entry only, and the next request is
      // rebuilt on the account's baseUrl (a proxy or the sandbox), not on the host in the link.
      pageInfo = nextPageInfo(header(response.headers, 'link'));
      yield { ...page, nextCursor: pageInfo };
    } while (pageInfo);
  }

  async getOrder(input: GetOrderInput): Promise<UnifiedOrder | null> {
    const id = orderId(input.platformOrderId);
    try {
      const response = await this.#o.http.request({
        operation: 'orders.json',
        method: 'GET',
        url: `${this.#prefix}/orders/${id}.json`,
        signal: input.signal,
      });
      const body = bodyObject(response, this.#context('orders.json'));
      return mapShopifyOrder(body.order, this.#mapContext(), 'shopify.order');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Sets the location's `available` quantity (absolute, so repeating it is harmless). The
   * listing key is the variant's inventory item id, passed as `listingId`.
   */
  async updateInventory(input: UpdateInventoryInput): Promise<WriteOutcome> {
    const locationId = this.#o.locationId;
    if (!locationId) throw missingOption('locationId', 'to set Shopify inventory levels');
    if (!input.listingId || !/^\d+$/.test(input.listingId)) {
      throw invalidInput([{ path: 'listingId', message: 'Shopify needs the inventory item id (digits)' }]);
    }
    if (!Number.isSafeInteger(input.quantity)) {
      throw invalidInput([{ path: 'quantity', message: 'must be an integer' }]);
    }
    return writeOutcome(async () => {
      const response = await this.#o.http.request({
        operation: 'inventory_levels/set.json',
        method: 'POST',
        url: `${this.#prefix}/inventory_levels/set.json`,
        data: {
          location_id: numericId(locationId),
          inventory_item_id: numericId(input.listingId!),
          available: input.quantity,
        },
        idempotent: true,
        signal: input.signal,
      });
      return header(response.headers, 'x-request-id');
    });
  }

  /**
   * Creates a fulfillment with tracking on the order's open fulfillment orders. Not idempotent
   * (Shopify takes no idempotency key here): a send without an answer is `indeterminate`.
   */
  async submitTracking(input: SubmitTrackingInput): Promise<WriteOutcome> {
    const id = orderId(input.platformOrderId);
    const response = await this.#o.http.request({
      operation: 'fulfillment_orders.json',
      method: 'GET',
      url: `${this.#prefix}/orders/${id}/fulfillment_orders.json`,
      signal: input.signal,
    });
    const context = this.#context('fulfillment_orders.json');
    const open = bodyArray(bodyObject(response, context), 'fulfillment_orders', context).filter(
      (order): order is Rec => isRec(order) && (order.status === 'open' || order.status === 'in_progress'),
    );
    if (open.length === 0) {
      throw invalidInput([{ path: 'platformOrderId', message: `order ${id} has no open fulfillment order` }]);
    }
    const lineItemsByFulfillmentOrder = input.lines
      ? allocate(open, input.lines)
      : open.map((order) => ({ fulfillment_order_id: order.id }));
    return writeOutcome(async () => {
      const created = await this.#o.http.request({
        operation: 'fulfillments.json',
        method: 'POST',
        url: `${this.#prefix}/fulfillments.json`,
        data: {
          fulfillment: {
            line_items_by_fulfillment_order: lineItemsByFulfillmentOrder,
            tracking_info: { number: input.trackingNumber, company: input.carrier },
            notify_customer: false,
          },
        },
        idempotent: false,
        signal: input.signal,
      });
      const body = isRec(created.data) ? created.data : {};
      const fulfillment = isRec(body.fulfillment) ? body.fulfillment : {};
      return fulfillment.id == null ? undefined : String(fulfillment.id);
    });
  }

  #mapContext() {
    return { account: this.#o.account, userId: this.#o.userId, shopDomain: this.#o.shopDomain };
  }

  #context(operation: string) {
    return { platform: 'shopify', account: this.#o.account, operation };
  }
}

/**
 * Spreads the requested line quantities over the open fulfillment orders' line items
 * (`line_item_id` -> fulfillment order line `id`), never more than is still fulfillable.
 */
function allocate(
  openOrders: readonly Rec[],
  lines: NonNullable<SubmitTrackingInput['lines']>,
): { fulfillment_order_id: unknown; fulfillment_order_line_items: { id: unknown; quantity: number }[] }[] {
  const byOrder = new Map<unknown, { id: unknown; quantity: number }[]>();
  lines.forEach((line, index) => {
    let left = line.quantity;
    for (const order of openOrders) {
      const items = Array.isArray(order.line_items) ? order.line_items : [];
      for (const item of items) {
        if (!isRec(item) || String(item.line_item_id) !== line.lineId || left === 0) continue;
        const free = typeof item.fulfillable_quantity === 'number' ? item.fulfillable_quantity : 0;
        const take = Math.min(free, left);
        if (take <= 0) continue;
        left -= take;
        const list = byOrder.get(order.id) ?? [];
        list.push({ id: item.id, quantity: take });
        byOrder.set(order.id, list);
      }
    }
    if (left > 0) {
      throw invalidInput([
        { path: `lines[${index}].quantity`, message: `${left} more than is still fulfillable` },
      ]);
    }
  });
  return [...byOrder].map(([id, items]) => ({
    fulfillment_order_id: id,
    fulfillment_order_line_items: items,
  }));
}

function orderId(value: string): string {
  if (!/^\d{1,20}$/.test(value))
    throw invalidInput([{ path: 'platformOrderId', message: 'expected a Shopify order id (digits)' }]);
  return value;
}

// Shopify ids are JSON integers; beyond 2^53 they must travel as strings to stay exact.
function numericId(value: string): number | string {
  const number = Number(value);
  return /^\d+$/.test(value) && Number.isSafeInteger(number) ? number : value;
}
