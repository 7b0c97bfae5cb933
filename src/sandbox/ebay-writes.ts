import { CATALOGUE } from './catalogue.js';
import { ebayError } from './ebay-orders.js';
import { ebayTime, fulfillmentId } from './ebay-render.js';
import { withShipment } from './generator.js';
import { isRecord, json, parseJson, type Reply, type RequestContext } from './http.js';
import { lineIdFor } from './ids.js';
import { latestVersion } from './model.js';
import type { SandboxState } from './state.js';

/**
 * eBay writes: createShippingFulfillment (201 + Location; the shipment becomes an order update
 * at once), getShippingFulfillment(s), and Inventory bulk_update_price_quantity (200, or 207
 * with per-SKU results when some fail).
 */
const ORDER = '/sell/fulfillment/v1/order';

export function createFulfillment(ctx: RequestContext, state: SandboxState): Reply {
  const account = ctx.account!;
  const order = account.store.get(ctx.params.orderId!);
  if (!order?.visible) return ebayError(400, 32100, `Invalid Order Id: ${ctx.params.orderId}`);
  const body = parseJson(ctx.body);
  if (!isRecord(body) || !Array.isArray(body.lineItems) || body.lineItems.length === 0) {
    return ebayError(400, 32600, 'Invalid input data', { parameters: [{ name: 'lineItems', value: '' }] });
  }
  if (
    typeof body.trackingNumber !== 'string' ||
    typeof body.shippingCarrierCode !== 'string' ||
    body.trackingNumber === ''
  ) {
    return ebayError(400, 32300, 'Invalid shipment tracking number or carrier');
  }
  const shippedAt = body.shippedDate === undefined ? ctx.now : Date.parse(String(body.shippedDate));
  if (Number.isNaN(shippedAt)) return ebayError(400, 32500, 'Invalid shipped date');
  const previous = latestVersion(order);
  if (previous.cancelledAt !== null)
    return ebayError(400, 32600, 'Invalid input data: the order is cancelled');
  const units = order.lines.map(() => 0);
  for (const item of body.lineItems) {
    const index = order.lines.findIndex(
      (_, i) => isRecord(item) && lineIdFor(account.profile, order.seq, i) === item.lineItemId,
    );
    if (index < 0)
      return ebayError(400, 32200, `Invalid line item id: ${isRecord(item) ? String(item.lineItemId) : ''}`);
    if (units[index]! > 0) return ebayError(400, 32210, 'Duplicate line item in the request');
    const left = order.lines[index]!.quantity - (previous.shipped[index] ?? 0);
    const quantity = isRecord(item) && item.quantity !== undefined ? Number(item.quantity) : left;
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > left)
      return ebayError(400, 32600, 'Invalid input data: quantity');
    units[index] = quantity;
  }
  const shipment = { units, at: shippedAt, carrier: body.shippingCarrierCode, tracking: body.trackingNumber };
  const next = withShipment(order, previous, shipment, ctx.now);
  state.recordVersion(account, order, next, ctx.now);
  const id = fulfillmentId(next.shipments.at(-1)!.id);
  return json(201, {}, { location: `${ctx.origin}${ORDER}/${order.id}/shipping_fulfillment/${id}` });
}

export function listFulfillments(ctx: RequestContext): Reply {
  const account = ctx.account!;
  const order = account.store.get(ctx.params.orderId!);
  if (!order?.visible) return ebayError(400, 32100, `Invalid Order Id: ${ctx.params.orderId}`);
  const fulfillments = latestVersion(order).shipments.map((shipment) => ({
    fulfillmentId: fulfillmentId(shipment.id),
    shipmentTrackingNumber: shipment.tracking,
    shippingCarrierCode: shipment.carrier,
    shippedDate: ebayTime(shipment.at),
    lineItems: shipment.units.flatMap((quantity, index) =>
      quantity > 0 ? [{ lineItemId: lineIdFor(account.profile, order.seq, index), quantity }] : [],
    ),
  }));
  if (ctx.params.fulfillmentId) {
    const one = fulfillments.find((entry) => entry.fulfillmentId === ctx.params.fulfillmentId);
    return one
      ? json(200, one)
      : ebayError(404, 32700, `Invalid fulfillment id: ${ctx.params.fulfillmentId}`);
  }
  return json(200, { fulfillments, total: fulfillments.length });
}

export function bulkUpdate(ctx: RequestContext): Reply {
  const account = ctx.account!;
  const body = parseJson(ctx.body);
  const requests = isRecord(body) && Array.isArray(body.requests) ? body.requests : null;
  if (!requests || requests.length === 0 || requests.length > 25) {
    return json(400, {
      errors: [
        {
          errorId: 25709,
          domain: 'API_INVENTORY',
          category: 'REQUEST',
          message: 'Invalid value for requests. 1-25 entries.',
        },
      ],
    });
  }
  const responses = requests.map((entry) => {
    const sku = isRecord(entry) && typeof entry.sku === 'string' ? entry.sku : '';
    const availability =
      isRecord(entry) && isRecord(entry.shipToLocationAvailability) ? entry.shipToLocationAvailability : null;
    const quantity = availability?.quantity;
    if (!CATALOGUE.some((product) => product.sku === sku)) {
      return {
        statusCode: 404,
        sku,
        errors: [
          {
            errorId: 25702,
            domain: 'API_INVENTORY',
            category: 'REQUEST',
            message: `SKU ${sku} is not available in the system`,
          },
        ],
        warnings: [],
      };
    }
    if (!Number.isInteger(quantity) || (quantity as number) < 0) {
      return {
        statusCode: 400,
        sku,
        errors: [
          {
            errorId: 25709,
            domain: 'API_INVENTORY',
            category: 'REQUEST',
            message: 'Invalid value for shipToLocationAvailability.quantity.',
          },
        ],
        warnings: [],
      };
    }
    account.inventory.set(sku, quantity as number);
    return { statusCode: 200, sku, errors: [], warnings: [] };
  });
  return json(responses.every((response) => response.statusCode === 200) ? 200 : 207, { responses });
}
