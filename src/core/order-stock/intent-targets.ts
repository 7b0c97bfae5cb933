import type { ListingMap } from '../stock/listing-map.js';
import type { IntentRow } from './intent-rows.js';

// Lines resolved per listing query (each line names up to two channel keys).
const RESOLVE_CHUNK = 500;

export interface ResolvedIntents {
  /** The rows with the tenant and internal SKU of their listing. */
  mapped: IntentRow[];
  /** The rows without a mapping, each with why. */
  unmapped: { row: IntentRow; reason: string }[];
}

/**
 * Resolves deduct intents' channel keys (seller SKU first, then listing id) to a tenant and
 * internal SKU through the listing map: one lookup per account and chunk, cached there.
 */
export async function resolveIntentTargets(
  listings: Pick<ListingMap, 'resolveOrderLines'>,
  rows: readonly IntentRow[],
): Promise<ResolvedIntents> {
  const resolved: ResolvedIntents = { mapped: [], unmapped: [] };
  const byAccount = new Map<string, IntentRow[]>();
  for (const row of rows) {
    const id = `${row.platform}\u0000${row.account}`;
    const group = byAccount.get(id);
    if (group) group.push(row);
    else byAccount.set(id, [row]);
  }
  for (const group of byAccount.values()) {
    for (let at = 0; at < group.length; at += RESOLVE_CHUNK) {
      const part = group.slice(at, at + RESOLVE_CHUNK);
      const { mapped, unmapped } = await listings.resolveOrderLines({
        platform: part[0]!.platform,
        account: part[0]!.account,
        lines: part.map((row, index) => ({
          lineId: String(index),
          sku: row.channelSku,
          listingId: row.listingId,
          quantity: row.quantity,
        })),
      });
      for (const line of mapped) {
        resolved.mapped.push({ ...part[Number(line.lineId)]!, tenant: line.tenant, sku: line.sku });
      }
      for (const line of unmapped) {
        const reason =
          line.reason === 'no_channel_key'
            ? 'the line has neither a seller SKU nor a listing id'
            : `no listing mapping for ${describeChannelKeys(line.channelSku, line.listingId)}`;
        resolved.unmapped.push({ row: part[Number(line.lineId)]!, reason });
      }
    }
  }
  return resolved;
}

function describeChannelKeys(channelSku: string | null, listingId: string | null): string {
  const parts = [
    channelSku !== null && `seller SKU "${channelSku}"`,
    listingId !== null && `listing "${listingId}"`,
  ];
  return parts.filter(Boolean).join(' or ');
}
