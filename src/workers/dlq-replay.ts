import type { DeadLetterEntryWithBytes, DeadLetterStore } from '../core/bus/dlq.js';
import type { OrderBus, RawMessage } from '../core/bus/order-bus.js';
import type { Logger } from '../core/logger.js';
import { replayability, replayKey } from './dlq-payload.js';

/**
 * `tradectl dlq replay`: publishes an entry's ORIGINAL bytes again, to the orders topic (Kafka)
 * or through the inline bus into the sink, then marks the entry replayed.
 *
 * - The replayed message carries its entry id (`replayOf`): if it is still invalid, the sink or
 *   the bus quarantines it into the SAME entry (seen count + 1, reason refreshed, open again), so
 *   a failed replay is never lost and never duplicated.
 * - `markReplayed` only applies when the seen count is still what was read before publishing: an
 *   inline replay that failed again (during the publish) stays open.
 * - Idempotent: an entry already marked replayed is skipped. A crash between publish and mark
 *   leaves it open, and a second replay publishes it again, which the versioned upsert makes
 *   harmless (an older version never overwrites a newer one).
 * - Entries whose bytes are not an order envelope are left open (see `replayability`).
 */
export type ReplayOutcome =
  /** Published and marked replayed (inline: stored by the sink; Kafka: acknowledged by the brokers). */
  | 'replayed'
  /** Published, but the sink or the bus quarantined it again: open, seen count raised. */
  | 'failed-again'
  | 'already-replayed'
  | 'not-found'
  | 'not-replayable'
  /** --dry-run: would be published. */
  | 'would-replay';

export interface ReplayItem {
  id: string;
  key: string | null;
  platform: string | null;
  account: string | null;
  outcome: ReplayOutcome;
  /** The entry's reason: the new one when it failed again; why not, when not replayable. */
  reason: string | null;
  seenCount: number | null;
}

export interface ReplaySelection {
  /** Entry ids, in the order given. */
  ids?: readonly string[] | undefined;
  /** Every open entry (optionally of one platform / account) instead of ids. */
  all?: boolean | undefined;
  platform?: string | undefined;
  account?: string | undefined;
}

export interface ReplayDeps {
  dlq: DeadLetterStore;
  /** Opened only when something is to be published (not for a dry run). */
  openBus(): Promise<OrderBus>;
  logger: Logger;
  /** Kafka: waits until the sink group stored what was published, so failures show here. */
  waitForSink?: (() => Promise<void>) | undefined;
}

/** Entries published per bus call; each page also bounds the bytes held in memory. */
const PAGE = 100;

export async function replayDeadLetters(
  selection: ReplaySelection,
  options: { dryRun: boolean },
  deps: ReplayDeps,
): Promise<ReplayItem[]> {
  const items: ReplayItem[] = [];
  let bus: OrderBus | undefined;
  const published: DeadLetterEntryWithBytes[] = [];
  for await (const page of pages(selection, deps.dlq)) {
    const toPublish: DeadLetterEntryWithBytes[] = [];
    for (const { id, entry } of page) {
      if (entry === null) {
        items.push({
          id,
          key: null,
          platform: null,
          account: null,
          outcome: 'not-found',
          reason: null,
          seenCount: null,
        });
        continue;
      }
      const check = replayability(entry.original);
      const outcome: ReplayOutcome | null =
        entry.replayedAt !== null
          ? 'already-replayed'
          : !check.replayable
            ? 'not-replayable'
            : options.dryRun
              ? 'would-replay'
              : null;
      if (outcome === null) toPublish.push(entry);
      else items.push(itemOf(entry, outcome, check.replayable ? entry.reason : check.why));
    }
    if (toPublish.length === 0) continue;
    bus ??= await deps.openBus();
    const messages: RawMessage[] = toPublish.map((entry) => ({
      key: replayKey(entry.key, entry.original),
      value: entry.original,
      replayOf: entry.id,
    }));
    await bus.publishRaw(messages);
    for (const entry of toPublish) {
      const marked = await deps.dlq.markReplayed(entry.id, { ifSeenCount: entry.seenCount });
      if (marked) published.push(entry);
      else items.push(await afterFailure(entry, deps.dlq));
    }
  }
  if (published.length > 0 && deps.waitForSink) await deps.waitForSink();
  for (const entry of published) {
    // Without waiting (Kafka) the sink has probably not read it yet: "replayed" means handed off.
    const now = deps.waitForSink ? await deps.dlq.get(entry.id) : null;
    if (now !== null && now.seenCount > entry.seenCount) items.push(itemOf(now, 'failed-again', now.reason));
    else items.push(itemOf(entry, 'replayed', entry.reason));
  }
  deps.logger.debug({ replayed: published.length, items: items.length }, 'dead letter replay finished');
  return items.sort((a, b) => compareIds(a.id, b.id));
}

async function afterFailure(entry: DeadLetterEntryWithBytes, dlq: DeadLetterStore): Promise<ReplayItem> {
  const now = await dlq.get(entry.id);
  return now === null
    ? itemOf(entry, 'not-found', null)
    : itemOf(now, now.replayedAt === null ? 'failed-again' : 'already-replayed', now.reason);
}

async function* pages(
  selection: ReplaySelection,
  dlq: DeadLetterStore,
): AsyncGenerator<{ id: string; entry: DeadLetterEntryWithBytes | null }[]> {
  if (!selection.all) {
    const ids = [...new Set(selection.ids ?? [])];
    for (let start = 0; start < ids.length; start += PAGE) {
      const slice = ids.slice(start, start + PAGE);
      yield await Promise.all(slice.map(async (id) => ({ id, entry: await dlq.get(id) })));
    }
    return;
  }
  // Keyset by id: an entry that fails again keeps its id, so it is not met twice in one run.
  let after: string | undefined;
  for (;;) {
    const listed = await dlq.list({
      state: 'open',
      platform: selection.platform,
      account: selection.account,
      limit: PAGE,
      after,
    });
    if (listed.length === 0) return;
    after = listed.at(-1)!.id;
    yield await Promise.all(listed.map(async ({ id }) => ({ id, entry: await dlq.get(id) })));
  }
}

function itemOf(
  entry: Pick<DeadLetterEntryWithBytes, 'id' | 'key' | 'platform' | 'account' | 'seenCount'>,
  outcome: ReplayOutcome,
  reason: string | null,
): ReplayItem {
  return {
    id: entry.id,
    key: entry.key,
    platform: entry.platform,
    account: entry.account,
    outcome,
    reason,
    seenCount: entry.seenCount,
  };
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
