import type { Pool } from 'mysql2/promise';
import { type FieldIssue, ValidationError } from '../errors.js';
import type { OrderLine } from '../order.js';
import type { ShardRouter } from '../shard-router.js';
import { fromEpochMs, toSqlDateTime } from '../time.js';
import { BoundedCache } from './bounded-cache.js';
import { parseListingsCsv } from './listing-csv.js';
import {
  checkMapping,
  type ListingKeyKind,
  type ListingMapping,
  type ListingMappingInput,
  listingKey,
  parseMapping,
} from './listing-mapping.js';
import {
  type AddOutcome,
  deleteListing,
  type ImportResult,
  insertListing,
  type ListingCursor,
  type ListingFilter,
  type StoredListing,
  selectListings,
  selectTargets,
  upsertListings,
} from './listing-store.js';

export interface ListingMapOptions {
  /** The meta database's pool: `MysqlPools.meta()`. */
  pool: Pool;
  router: ShardRouter;
  /** Most channel listings kept in memory (hits and misses alike). Default 10,000. */
  cacheEntries?: number;
  /**
   * How long a lookup is trusted, ms. A mapping changed by another process (another replica,
   * the CLI) is seen after at most this long; this instance's own changes at once. Default 60 s.
   */
  cacheTtlMs?: number;
  /** Wall clock, Unix ms (cache expiry, created_at/updated_at). Default `Date.now`. */
  clock?: () => number;
}

/** The internal SKU (and stock tenant) a channel listing sells, and which key found it. */
export interface ListingTarget {
  tenant: string;
  sku: string;
  via: ListingKeyKind;
}

export interface MappedLine {
  lineId: string;
  tenant: string;
  /** The internal SKU. */
  sku: string;
  quantity: number;
  via: ListingKeyKind;
  channelSku: string | null;
  listingId: string | null;
}

export interface UnmappedLine {
  lineId: string;
  channelSku: string | null;
  listingId: string | null;
  quantity: number;
  reason: 'no_mapping' | 'no_channel_key';
}

/** An order's lines split into those with a mapping and those without; nothing is guessed. */
export interface ResolvedLines {
  mapped: MappedLine[];
  unmapped: UnmappedLine[];
}

type Target = { tenant: string; sku: string };

/**
 * The mapping from channel listings to internal SKUs (`<prefix>_meta.listings`, see
 * listing-schema.ts). A line is resolved by the seller's SKU on the channel first, then by the
 * listing id: a listing with variations (eBay) or several offers of one product (Amazon ASIN)
 * shares its listing id while each variation or offer has its own seller SKU. Lookups, found or
 * not, are cached in a bounded LRU with a time-to-live.
 */
export class ListingMap {
  readonly #pool: Pool;
  readonly #router: ShardRouter;
  readonly #cache: BoundedCache<Target | null>;
  readonly #clock: () => number;

  constructor(options: ListingMapOptions) {
    this.#pool = options.pool;
    this.#router = options.router;
    this.#clock = options.clock ?? Date.now;
    this.#cache = new BoundedCache({
      maxEntries: options.cacheEntries ?? 10_000,
      ttlMs: options.cacheTtlMs ?? 60_000,
      clock: this.#clock,
    });
  }

  /** The internal SKU of a channel listing, by its seller SKU and/or listing id; null when unmapped. */
  async resolve(input: {
    platform: string;
    account: string;
    sku?: string | null;
    listingId?: string | null;
  }): Promise<ListingTarget | null> {
    const { mapped } = await this.resolveOrderLines({
      platform: input.platform,
      account: input.account,
      lines: [{ lineId: '', sku: input.sku ?? null, listingId: input.listingId ?? null, quantity: 1 }],
    });
    const line = mapped[0];
    return line ? { tenant: line.tenant, sku: line.sku, via: line.via } : null;
  }

  /**
   * Maps each line of an order to its internal SKU: seller SKUs first, then the listing ids of
   * the lines their SKU did not map, each with one query for whatever the cache lacks.
   * Lines without a mapping (or with neither a seller SKU nor a listing id) are reported in
   * `unmapped`, never guessed. Cancelled lines sell nothing and are left out of both.
   */
  async resolveOrderLines(order: {
    platform: string;
    account: string;
    lines: readonly (Pick<OrderLine, 'lineId' | 'sku' | 'listingId' | 'quantity'> & {
      cancelled?: boolean;
    })[];
  }): Promise<ResolvedLines> {
    const lines = order.lines.filter((line) => line.cancelled !== true);
    // Each line's channel keys, seller SKU first, with their cache ids (built once: this runs
    // for every sold line the sink stores).
    const keysOfLines = lines.map((line) => {
      const keys: { kind: ListingKeyKind; channelKey: string; id: string }[] = [];
      if (line.sku) {
        keys.push({
          kind: 'sku',
          channelKey: line.sku,
          id: listingKey(order.platform, order.account, 'sku', line.sku),
        });
      }
      if (line.listingId) {
        const id = listingKey(order.platform, order.account, 'listing', line.listingId);
        keys.push({ kind: 'listing', channelKey: line.listingId, id });
      }
      return keys;
    });
    // What this call knows, so an entry expiring between two reads cannot flip a line. Seller
    // SKUs first; listing ids only for the lines their SKU did not map (most lines need one key).
    const known = new Map<string, Target | null>();
    await this.#lookUp(
      order,
      keysOfLines.flatMap((keys) => keys.filter((key) => key.kind === 'sku')),
      known,
    );
    const fallbacks = keysOfLines.flatMap((keys) =>
      keys.some((key) => key.kind === 'sku' && known.get(key.id))
        ? []
        : keys.filter((key) => key.kind === 'listing'),
    );
    await this.#lookUp(order, fallbacks, known);
    const result: ResolvedLines = { mapped: [], unmapped: [] };
    lines.forEach((line, index) => {
      const keys = keysOfLines[index]!;
      const channelSku = line.sku ?? null;
      const listingId = line.listingId ?? null;
      const hit = keys.find((key) => known.get(key.id));
      const target = hit && known.get(hit.id);
      if (hit && target) {
        const { tenant, sku } = target;
        result.mapped.push({
          lineId: line.lineId,
          tenant,
          sku,
          via: hit.kind,
          quantity: line.quantity,
          channelSku,
          listingId,
        });
      } else {
        const reason = keys.length === 0 ? 'no_channel_key' : 'no_mapping';
        result.unmapped.push({ lineId: line.lineId, channelSku, listingId, quantity: line.quantity, reason });
      }
    });
    return result;
  }

  /** Fills `known` for these keys: from the cache, and one query for what it lacks. */
  async #lookUp(
    order: { platform: string; account: string },
    keys: readonly { kind: ListingKeyKind; channelKey: string; id: string }[],
    known: Map<string, Target | null>,
  ): Promise<void> {
    const wanted = new Map<string, { kind: ListingKeyKind; channelKey: string }>();
    for (const { kind, channelKey, id } of keys) {
      if (known.has(id) || wanted.has(id)) continue;
      const cached = this.#cache.get(id);
      if (cached === undefined) wanted.set(id, { kind, channelKey });
      else known.set(id, cached);
    }
    if (wanted.size === 0) return;
    const found = await selectTargets(this.#pool, this.#router, order.platform, order.account, [
      ...wanted.values(),
    ]);
    for (const id of wanted.keys()) {
      const target = found.get(id) ?? null;
      this.#cache.set(id, target);
      known.set(id, target);
    }
  }

  /** Maps a listing; an existing mapping to another SKU is refused (TRADECTL_LISTING_EXISTS) unless `replace`. */
  async add(input: ListingMappingInput, options: { replace?: boolean } = {}): Promise<AddOutcome> {
    const mapping = parseMapping(input);
    const outcome = await insertListing(
      this.#pool,
      this.#router,
      mapping,
      this.#now(),
      options.replace === true,
    );
    this.#forget(mapping);
    return outcome;
  }

  /** Removes a listing's mapping; false when there was none. */
  async remove(key: ListingCursor): Promise<boolean> {
    const removed = await deleteListing(this.#pool, this.#router, key);
    this.#forget(key);
    return removed;
  }

  /** One page of mappings in key order, filtered; `next` continues after it (null at the end). */
  async list(filter: ListingFilter = {}): Promise<{ rows: StoredListing[]; next: ListingCursor | null }> {
    const limit = filter.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ValidationError('invalid listing query', [
        { path: 'limit', message: `expected 1-1000, got ${limit}` },
      ]);
    }
    const rows = await selectListings(this.#pool, this.#router, { ...filter, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const next =
      rows.length > limit && last
        ? { platform: last.platform, account: last.account, kind: last.kind, channelKey: last.channelKey }
        : null;
    return { rows: page, next };
  }

  /** Imports a listings CSV (listing-csv.ts): all rows or none; errors name row and column. */
  importCsv(text: string, options: { dryRun?: boolean } = {}): Promise<ImportResult> {
    return this.#import(parseListingsCsv(text), options.dryRun === true);
  }

  /** Imports mappings given as data: all or none; each is checked first. */
  importMappings(
    inputs: readonly ListingMappingInput[],
    options: { dryRun?: boolean } = {},
  ): Promise<ImportResult> {
    const issues: FieldIssue[] = [];
    const seen = new Map<string, number>();
    const mappings = inputs.map((input, index) => {
      const mapping = checkMapping(input, issues, undefined, (field) => `[${index}].${field}`);
      const id = listingKey(mapping.platform, mapping.account, mapping.kind, mapping.channelKey);
      const first = seen.get(id);
      if (first !== undefined) issues.push({ path: `[${index}]`, message: `the same listing as [${first}]` });
      else seen.set(id, index);
      return mapping;
    });
    if (issues.length > 0) throw new ValidationError('invalid listing mappings', issues);
    return this.#import(mappings, options.dryRun === true);
  }

  /** The listings that sell an internal SKU (to push its quantity to each channel). */
  async listingsOf(input: { tenant: string; sku: string }): Promise<StoredListing[]> {
    const all: StoredListing[] = [];
    let after: ListingCursor | undefined;
    for (;;) {
      const page = await this.list({
        tenant: input.tenant,
        sku: input.sku,
        limit: 1000,
        ...(after ? { after } : {}),
      });
      all.push(...page.rows);
      if (!page.next) return all;
      after = page.next;
    }
  }

  async #import(mappings: ListingMapping[], dryRun: boolean): Promise<ImportResult> {
    const result = await upsertListings(this.#pool, this.#router, mappings, this.#now(), dryRun);
    if (!dryRun) for (const mapping of mappings) this.#forget(mapping);
    return result;
  }

  #forget(key: { platform: string; account: string; kind: ListingKeyKind; channelKey: string }): void {
    this.#cache.delete(listingKey(key.platform, key.account, key.kind, key.channelKey));
  }

  #now(): string {
    return toSqlDateTime(fromEpochMs(this.#clock()));
  }
}
