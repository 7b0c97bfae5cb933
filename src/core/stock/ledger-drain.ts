import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import type { Logger } from '../logger.js';
import type { ShardRouter } from '../shard-router.js';
import { fromEpochMs } from '../time.js';
import { type TenantKeys, tenantKeys, tenantRegistryKey } from './keys.js';
import { type LedgerEntry, parseStreamEntry } from './ledger-entry.js';
import { applyLedgerBatch, type LedgerApplyResult, type RejectedEntry } from './ledger-store.js';
import {
  claimIdle,
  ensureGroup,
  type GroupReader,
  type RawEntry,
  readGroup,
  trimAcknowledged,
} from './ledger-stream.js';
import { StockScripts } from './scripts.js';

/**
 * The ledger worker role: drains every tenant's change stream into MySQL through a consumer group.
 *
 * - A batch is read (XREADGROUP), written in one MySQL transaction (ledger-store.ts: idempotent
 *   by operation id), and acknowledged (XACK) only after the commit. A crash anywhere leaves the
 *   entries pending: after a commit they are redelivered and skipped as duplicates, before it
 *   they are simply applied then. Nothing is lost and nothing counts twice.
 * - Pending entries of a consumer that died are taken over with XAUTOCLAIM once idle for
 *   `claimIdleMs`; this consumer's own pending entries (a failed batch, a restart under the same
 *   name) are read again first.
 * - Acknowledged entries are trimmed (ledger-stream.ts), never unacknowledged ones.
 * - `stop()` lets the batch in flight commit and acknowledge, then returns.
 */
export interface LedgerDrainOptions {
  /** A client without the ioredis keyPrefix option. */
  redis: Redis;
  /** The meta database's pool: `MysqlPools.meta()`. */
  pool: Pool;
  router: ShardRouter;
  /** `config.redis.keyPrefix`. */
  keyPrefix: string;
  logger: Logger;
  /** Unique among running drains. Default `hostname:pid`. */
  consumer?: string;
  /** Default `ledger`. */
  group?: string;
  /** Stream entries per read and per MySQL transaction. Default 256. */
  batchSize?: number;
  /** Wait when a round found nothing, ms. Default 200. */
  pollIntervalMs?: number;
  /** Entries pending this long at another consumer are taken over, ms. Default 30 s. */
  claimIdleMs?: number;
  /** How often acknowledged entries are trimmed and long-dead consumers removed, ms. Default 10 s. */
  maintenanceIntervalMs?: number;
  /** Consumers idle this long with nothing pending are removed from the group, ms. Default 1 h. */
  pruneIdleMs?: number;
  /** Longest wait between attempts after failures (doubling from pollIntervalMs), ms. Default 30 s. */
  maxBackoffMs?: number;
  /** Wall clock, Unix ms (created_at and intervals). Default `Date.now`. */
  clock?: () => number;
  /** Observes each batch: read, committed to MySQL, acknowledged in Redis. Awaited. */
  onBatch?: (event: LedgerBatchEvent) => void | Promise<void>;
}

export interface LedgerBatchEvent {
  tenant: string;
  stage: 'read' | 'committed' | 'acked';
  /** new entries, this consumer's own pending ones, or ones taken over from another consumer. */
  source: 'new' | 'backlog' | 'claimed';
  ids: readonly string[];
  result?: LedgerApplyResult;
}

export interface DrainRound {
  /** Stream entries handled (applied, skipped as duplicates, or rejected) and acknowledged. */
  entries: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  /** Entries taken over from other consumers. */
  claimed: number;
}

interface StreamState {
  keys: TenantKeys;
  ready: boolean;
  backlog: boolean;
  claimCursor: string;
  lastClaimMs: number;
  lastMaintenanceMs: number;
}

export class LedgerDrain {
  readonly consumer: string;
  readonly group: string;
  readonly #o: Required<Omit<LedgerDrainOptions, 'onBatch' | 'consumer' | 'group'>> &
    Pick<LedgerDrainOptions, 'onBatch'>;
  readonly #scripts: StockScripts;
  readonly #streams = new Map<string, StreamState>();
  #queue: Promise<unknown> = Promise.resolve();
  #loop: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #lastError: unknown;

  constructor(options: LedgerDrainOptions) {
    this.consumer = options.consumer ?? `${hostname()}:${process.pid}`;
    this.group = options.group ?? 'ledger';
    this.#o = {
      batchSize: 256,
      pollIntervalMs: 200,
      claimIdleMs: 30_000,
      maintenanceIntervalMs: 10_000,
      pruneIdleMs: 60 * 60 * 1000,
      maxBackoffMs: 30_000,
      clock: Date.now,
      ...options,
    };
    this.#scripts = new StockScripts(options.redis);
  }

  /** The last failure of the running loop, cleared by the next successful round. */
  get lastError(): unknown {
    return this.#lastError;
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Starts the loop in the background (idempotent). */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
    });
  }

  /** Stops after the batch in flight is committed and acknowledged. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
  }

  /** One round over every tenant's stream: take over, catch up, one batch of new entries each. */
  runOnce(): Promise<DrainRound> {
    const round = this.#queue.then(() => this.#round());
    this.#queue = round.catch(() => undefined);
    return round;
  }

  /** Rounds until one finds nothing (for tests, the CLI and shutdown). */
  async drainUntilIdle(maxRounds = 1_000_000): Promise<DrainRound> {
    const total: DrainRound = { entries: 0, inserted: 0, duplicates: 0, rejected: 0, claimed: 0 };
    for (let round = 0; round < maxRounds; round++) {
      const result = await this.runOnce();
      for (const key of Object.keys(total) as (keyof DrainRound)[]) total[key] += result[key];
      if (result.entries === 0) break;
    }
    return total;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      let idle: boolean;
      try {
        idle = (await this.runOnce()).entries === 0;
        failures = 0;
        this.#lastError = undefined;
      } catch (error) {
        failures++;
        this.#lastError = error;
        this.#o.logger.warn({ err: error, failures }, 'stock ledger drain failed; retrying');
        await this.#sleep(
          Math.min(this.#o.maxBackoffMs, this.#o.pollIntervalMs * 2 ** Math.min(failures, 16)),
        );
        continue;
      }
      if (idle) await this.#sleep(this.#o.pollIntervalMs);
    }
  }

  async #round(): Promise<DrainRound> {
    const { redis } = this.#o;
    const total: DrainRound = { entries: 0, inserted: 0, duplicates: 0, rejected: 0, claimed: 0 };
    const tenants = await redis.smembers(tenantRegistryKey(this.#o.keyPrefix));
    for (const tenant of tenants) {
      if (this.#stopping && this.#loop) break;
      const state = await this.#stream(tenant);
      const now = this.#o.clock();
      if (now - state.lastClaimMs >= this.#o.claimIdleMs / 2) {
        state.lastClaimMs = now;
        const { next, entries: claimed } = await claimIdle(
          redis,
          this.#reader(state),
          this.#o.claimIdleMs,
          state.claimCursor,
        );
        state.claimCursor = next;
        total.claimed += claimed.length;
        add(total, await this.#batch(state, claimed, 'claimed'));
      }
      if (state.backlog && !(this.#stopping && this.#loop)) {
        const pending = await this.#read(state, '0');
        if (pending.length === 0) state.backlog = false;
        add(total, await this.#batch(state, pending, 'backlog'));
      }
      if (!state.backlog && !(this.#stopping && this.#loop)) {
        add(total, await this.#batch(state, await this.#read(state, '>'), 'new'));
      }
      if (now - state.lastMaintenanceMs >= this.#o.maintenanceIntervalMs) {
        state.lastMaintenanceMs = now;
        await this.#maintain(state);
      }
    }
    return total;
  }

  async #stream(tenant: string): Promise<StreamState> {
    let state = this.#streams.get(tenant);
    if (!state) {
      state = {
        keys: tenantKeys(this.#o.keyPrefix, tenant),
        ready: false,
        backlog: true,
        claimCursor: '0-0',
        lastClaimMs: Number.NEGATIVE_INFINITY,
        lastMaintenanceMs: this.#o.clock(),
      };
      this.#streams.set(tenant, state);
    }
    if (!state.ready) {
      await ensureGroup(this.#o.redis, state.keys.stream, this.group);
      state.ready = true;
    }
    return state;
  }

  #read(state: StreamState, from: '0' | '>'): Promise<RawEntry[]> {
    return readGroup(this.#o.redis, this.#reader(state), from);
  }

  #reader(state: StreamState): GroupReader {
    return {
      stream: state.keys.stream,
      group: this.group,
      consumer: this.consumer,
      count: this.#o.batchSize,
    };
  }

  async #batch(state: StreamState, raw: RawEntry[], source: LedgerBatchEvent['source']): Promise<DrainRound> {
    const result: DrainRound = { entries: 0, inserted: 0, duplicates: 0, rejected: 0, claimed: 0 };
    if (raw.length === 0) return result;
    const { tenant } = state.keys;
    const ids = raw.map(([id]) => id);
    const entries: LedgerEntry[] = [];
    const rejects: RejectedEntry[] = [];
    for (const [id, fields] of raw) {
      const parsed = parseStreamEntry(id, fields);
      if (parsed.ok) entries.push(parsed.entry);
      else rejects.push(parsed);
    }
    for (const reject of rejects) {
      this.#o.logger.error(
        { tenant, streamId: reject.streamId, reason: reject.reason },
        'unreadable stock stream entry kept as a reject',
      );
    }
    await this.#o.onBatch?.({ tenant, stage: 'read', source, ids });
    // Until the XACK below succeeds these entries are pending here: read them again first.
    state.backlog = true;
    const applied = await applyLedgerBatch({
      pool: this.#o.pool,
      router: this.#o.router,
      tenant,
      entries,
      rejects,
      now: fromEpochMs(this.#o.clock()),
    });
    await this.#o.onBatch?.({ tenant, stage: 'committed', source, ids, result: applied });
    await this.#o.redis.xack(state.keys.stream, this.group, ...ids);
    if (source === 'new') state.backlog = false;
    await this.#o.onBatch?.({ tenant, stage: 'acked', source, ids, result: applied });
    return { entries: raw.length, ...applied, claimed: 0 };
  }

  async #maintain(state: StreamState): Promise<void> {
    await trimAcknowledged(this.#o.redis, state.keys.stream);
    const removed = await this.#scripts.run('pruneConsumers', {
      keys: [state.keys.stream],
      args: [this.group, this.consumer, this.#o.pruneIdleMs],
    });
    if (removed !== 0)
      this.#o.logger.info({ tenant: state.keys.tenant, removed }, 'removed idle ledger consumers');
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}

function add(total: DrainRound, round: DrainRound): void {
  total.entries += round.entries;
  total.inserted += round.inserted;
  total.duplicates += round.duplicates;
  total.rejected += round.rejected;
}
