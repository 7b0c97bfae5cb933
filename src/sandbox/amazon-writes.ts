import { invalidInput } from './amazon-orders.js';
import { CATALOGUE } from './catalogue.js';
import { roundTime, withShipment } from './generator.js';
import { isRecord, json, parseJson, type Reply, type RequestContext } from './http.js';
import { lineIdFor } from './ids.js';
import { latestVersion } from './model.js';
import type { SandboxState } from './state.js';

/**
 * The Amazon writes an adapter needs: Orders v0 confirmShipment (tracking; 204, and the shipment
 * becomes an order update at once) and Listings Items patchListingsItem (available quantity).
 */
export function denied(code: string, details: string): Reply {
  return json(403, { errors: [{ code, message: 'Access to requested resource is denied.', details }] });
}

export function confirmShipment(ctx: RequestContext, state: SandboxState): Reply {
  const account = ctx.account!;
  const body = parseJson(ctx.body);
  const detail = isRecord(body) && isRecord(body.packageDetail) ? body.packageDetail : null;
  if (!isRecord(body) || typeof body.marketplaceId !== 'string')
    return invalidInput('Missing required field: marketplaceId');
  if (!detail) return invalidInput('Missing required field: packageDetail');
  for (const name of ['packageReferenceId', 'carrierCode', 'trackingNumber', 'shipDate']) {
    if (typeof detail[name] !== 'string' || detail[name] === '')
      return invalidInput(`Missing required field: packageDetail.${name}`);
  }
  const items = Array.isArray(detail.orderItems) ? detail.orderItems : [];
  if (items.length === 0) return invalidInput('Missing required field: packageDetail.orderItems');
  const order = account.store.get(ctx.params.orderId!);
  if (!order?.visible)
    return json(404, {
      errors: [{ code: 'NotFound', message: `Order ${ctx.params.orderId} was not found.`, details: '' }],
    });
  const previous = latestVersion(order);
  // A repeated confirmation of the same package (a retry after a lost answer) changes nothing.
  const repeat = previous.shipments.find((entry) => entry.reference === detail.packageReferenceId);
  if (repeat) {
    return repeat.tracking === detail.trackingNumber
      ? { status: 204 }
      : invalidInput(
          `packageReferenceId ${detail.packageReferenceId} was already confirmed with another tracking number.`,
        );
  }
  if (previous.cancelledAt !== null || previous.payment === 'pending') {
    return invalidInput('The order is not in a state that allows shipment confirmation.');
  }
  const units = order.lines.map(() => 0);
  for (const [position, item] of items.entries()) {
    const index = order.lines.findIndex(
      (_, i) => isRecord(item) && lineIdFor(account.profile, order.seq, i) === item.orderItemId,
    );
    const quantity = isRecord(item) ? item.quantity : undefined;
    const left =
      index < 0 ? 0 : order.lines[index]!.quantity - (previous.shipped[index] ?? 0) - units[index]!;
    if (index < 0 || !Number.isInteger(quantity) || (quantity as number) < 1 || (quantity as number) > left) {
      return invalidInput(
        `Invalid packageDetail.orderItems[${position}]: unknown orderItemId or quantity above what is left to ship`,
      );
    }
    units[index] = units[index]! + (quantity as number);
  }
  const shipment = {
    units,
    at: ctx.now,
    carrier: detail.carrierCode as string,
    tracking: detail.trackingNumber as string,
    reference: detail.packageReferenceId as string,
  };
  state.recordVersion(
    account,
    order,
    withShipment(order, previous, shipment, roundTime(account.profile, ctx.now)),
    ctx.now,
  );
  return { status: 204 };
}

export function patchListing(ctx: RequestContext): Reply {
  const account = ctx.account!;
  if (ctx.params.sellerId !== account.profile.sellerId)
    return denied('Unauthorized', 'The sellerId does not match the access token.');
  if (!ctx.query.get('marketplaceIds')) return invalidInput('Missing required parameter: marketplaceIds');
  const body = parseJson(ctx.body);
  const patches = isRecord(body) && Array.isArray(body.patches) ? body.patches : null;
  if (!isRecord(body) || typeof body.productType !== 'string' || !patches) {
    return invalidInput('The request body must have productType and patches.');
  }
  const submissionId = `${ctx.requestId.replace(/-/g, '').slice(0, 24)}`;
  const sku = ctx.params.sku!;
  const issue = (message: string) => ({
    sku,
    status: 'INVALID',
    submissionId,
    issues: [{ code: '90220', message, severity: 'ERROR', attributeNames: ['fulfillment_availability'] }],
  });
  if (!CATALOGUE.some((product) => product.sku === sku))
    return json(200, issue(`SKU ${sku} is not in this seller's catalogue.`));
  const patch = patches.find(
    (entry) => isRecord(entry) && entry.path === '/attributes/fulfillment_availability',
  );
  const value =
    isRecord(patch) && Array.isArray(patch.value) && isRecord(patch.value[0]) ? patch.value[0] : null;
  if (
    !isRecord(patch) ||
    !['replace', 'merge'].includes(String(patch.op)) ||
    !value ||
    !Number.isInteger(value.quantity) ||
    (value.quantity as number) < 0
  ) {
    return json(
      200,
      issue(
        "'fulfillment_availability' needs a replace with [{fulfillment_channel_code, quantity}] and a non-negative integer quantity.",
      ),
    );
  }
  account.inventory.set(sku, value.quantity as number);
  return json(200, { sku, status: 'ACCEPTED', submissionId, issues: [] });
}
