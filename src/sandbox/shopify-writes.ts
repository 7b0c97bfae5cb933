import { CATALOGUE, priceIn } from './catalogue.js';
import { roundTime, withShipment } from './generator.js';
import { isRecord, json, parseJson, type Reply, type RequestContext } from './http.js';
import { lineIdFor, productOfInventoryItem, shopifyProductIds } from './ids.js';
import { latestVersion } from './model.js';
import {
  FULFILLMENT_ORDER_OFFSET,
  fulfillmentOrderStatus,
  money,
  renderFulfillment,
} from './shopify-render.js';
import type { SandboxState } from './state.js';

/**
 * Shopify's endpoints besides order reads: fulfillment orders and fulfillments (a fulfillment
 * becomes an order update at once), inventory levels, and the shop, its location and its
 * products (how a client finds a SKU's inventory_item_id).
 */
export function fulfillmentOrders(ctx: RequestContext): Reply {
  const account = ctx.account!;
  const order = account.store.get(ctx.params.id!);
  if (!order?.visible) return json(404, { errors: 'Not Found' });
  const version = latestVersion(order);
  const id = Number(order.id) + FULFILLMENT_ORDER_OFFSET;
  return json(200, {
    fulfillment_orders: [
      {
        id,
        order_id: Number(order.id),
        assigned_location_id: account.profile.locationId,
        request_status: 'unsubmitted',
        status: fulfillmentOrderStatus(order, version),
        line_items: order.lines.map((line, index) => ({
          id: Number(lineIdFor(account.profile, order.seq, index)) + FULFILLMENT_ORDER_OFFSET,
          fulfillment_order_id: id,
          line_item_id: Number(lineIdFor(account.profile, order.seq, index)),
          inventory_item_id: shopifyProductIds(account.profile, line.product).inventoryItemId,
          variant_id: shopifyProductIds(account.profile, line.product).variantId,
          quantity: line.quantity,
          fulfillable_quantity:
            version.cancelledAt === null ? line.quantity - (version.shipped[index] ?? 0) : 0,
        })),
      },
    ],
  });
}

export function createFulfillment(ctx: RequestContext, state: SandboxState): Reply {
  const account = ctx.account!;
  const body = parseJson(ctx.body);
  const fulfillment = isRecord(body) && isRecord(body.fulfillment) ? body.fulfillment : null;
  const groups = fulfillment?.line_items_by_fulfillment_order;
  if (!fulfillment || !Array.isArray(groups) || groups.length === 0) {
    return json(400, { errors: { fulfillment: 'Required parameter missing or invalid' } });
  }
  const tracking = isRecord(fulfillment.tracking_info) ? fulfillment.tracking_info : {};
  let created: Record<string, unknown> | null = null;
  for (const group of groups) {
    const foId = isRecord(group) ? Number(group.fulfillment_order_id) : Number.NaN;
    const order = account.store.get(String(foId - FULFILLMENT_ORDER_OFFSET));
    if (!order?.visible) return json(404, { errors: 'Not Found' });
    const previous = latestVersion(order);
    if (!['open', 'in_progress'].includes(fulfillmentOrderStatus(order, previous))) {
      return json(422, { errors: ['The fulfillment order is not in an open state.'] });
    }
    const units = order.lines.map((line, index) => line.quantity - (previous.shipped[index] ?? 0));
    const requested = isRecord(group) ? group.fulfillment_order_line_items : undefined;
    if (Array.isArray(requested) && requested.length > 0) {
      const wanted = order.lines.map(() => 0);
      for (const item of requested) {
        const lineId = isRecord(item) ? Number(item.id) - FULFILLMENT_ORDER_OFFSET : Number.NaN;
        const index = order.lines.findIndex(
          (_, i) => Number(lineIdFor(account.profile, order.seq, i)) === lineId,
        );
        const quantity = isRecord(item) ? Number(item.quantity) : Number.NaN;
        if (index < 0 || !Number.isInteger(quantity) || quantity < 1 || quantity > units[index]!) {
          return json(422, { errors: ['Invalid fulfillment order line item quantity requested.'] });
        }
        wanted[index] = quantity;
      }
      units.splice(0, units.length, ...wanted);
    }
    const shipment = {
      units,
      at: ctx.now,
      carrier: typeof tracking.company === 'string' ? tracking.company : 'Other',
      tracking: typeof tracking.number === 'string' ? tracking.number : '',
    };
    const next = withShipment(order, previous, shipment, roundTime(account.profile, ctx.now));
    state.recordVersion(account, order, next, ctx.now);
    created = renderFulfillment(account.profile, order, next.shipments.at(-1)!, account.profile.timeZone!);
  }
  return json(201, { fulfillment: created });
}

export function setInventory(ctx: RequestContext): Reply {
  const account = ctx.account!;
  const body = parseJson(ctx.body);
  if (!isRecord(body))
    return json(400, { errors: { inventory_level: 'Required parameter missing or invalid' } });
  for (const name of ['location_id', 'inventory_item_id', 'available']) {
    if (!Number.isInteger(body[name]))
      return json(400, { errors: { [name]: 'Required parameter missing or invalid' } });
  }
  if (body.location_id !== account.profile.locationId)
    return json(422, { errors: { location_id: ['is invalid'] } });
  const product = productOfInventoryItem(account.profile, body.inventory_item_id as number);
  if (product === null) return json(422, { errors: { inventory_item_id: ['is invalid'] } });
  account.inventory.set(CATALOGUE[product]!.sku, body.available as number);
  return json(200, {
    inventory_level: {
      inventory_item_id: body.inventory_item_id,
      location_id: body.location_id,
      available: body.available,
      updated_at: new Date(ctx.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      admin_graphql_api_id: `gid://shopify/InventoryLevel/${body.location_id}?inventory_item_id=${body.inventory_item_id}`,
    },
  });
}

export function shop(ctx: RequestContext): Reply {
  const { profile } = ctx.account!;
  return json(200, {
    shop: {
      id: 70_000_000 + profile.index,
      name: `Sandbox ${profile.account}`,
      domain: profile.shopDomain,
      myshopify_domain: profile.shopDomain,
      iana_timezone: profile.timeZone,
      currency: profile.currency,
      country_code: profile.countryCode,
      plan_name: 'basic',
    },
  });
}

export function locations(ctx: RequestContext): Reply {
  const { profile } = ctx.account!;
  return json(200, {
    locations: [
      {
        id: profile.locationId,
        name: 'Sandbox Warehouse',
        active: true,
        country_code: profile.countryCode,
      },
    ],
  });
}

export function products(ctx: RequestContext): Reply {
  const account = ctx.account!;
  const { profile } = account;
  return json(200, {
    products: CATALOGUE.map((product) => {
      const ids = shopifyProductIds(profile, product.index);
      return {
        id: ids.productId,
        title: product.title,
        vendor: 'Sandbox Goods',
        status: 'active',
        variants: [
          {
            id: ids.variantId,
            product_id: ids.productId,
            title: 'Default Title',
            sku: product.sku,
            price: money(priceIn(product, profile.currency), profile.currency),
            inventory_item_id: ids.inventoryItemId,
            inventory_quantity: account.inventory.get(product.sku) ?? 0,
          },
        ],
      };
    }),
  });
}
