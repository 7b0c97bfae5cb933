import { createHash } from 'node:crypto';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { isRetriable, TradectlError } from '../errors.js';
import { classifyMysqlError } from '../mysql-errors.js';
import { toEpochMs } from '../time.js';
import type { LegacyBulkCopier } from './legacy-bulk.js';
import { requireStep } from './phases.js';
import type { MigrationSides } from './sides.js';
import type { BackfillCheckpoint, MigrationState, MigrationStateStore } from './state.js';
import { AUTO_BATCH_ROWS, batchSizeFor, defaultBatchRows, RateGate, sleepFor } from './throttle.js';

/**
 * `backfill`: copies the source into the target in keyset batches through the versioned
 * upsert, so a live order the dual write stored meanwhile is never overwritten by an older copy.
 *
 * - Waits until dual write has been on for `settleMs` (sinks re-read the phase every few
 *   seconds): a row written to the source only, after the backfill passed it, would be missed.
 * - One backfill per migration at a time (a MySQL named lock, released by the server if the
 *   process dies). After each batch the checkpoint is saved; a crash re-copies at most the batch
 *   in flight, which the idempotent upsert makes harmless, and the next run resumes there.
 * - Reads the next batch while the current one is written; holds at most those two batches, so
 *   memory does not grow with the table.
 * - Throttled by the state's rows/s, re-read every second (changeable while running).
 * - Transient errors (deadlock with a live writer, lost connection) retry the batch with backoff.
 */
export interface BackfillOptions {
  states: MigrationStateStore;
  /** The source and target of the current migration (migrationSides). */
  sidesFor: (state: MigrationState) => MigrationSides;
  /** The meta database's pool (the lock). */
  lockPool: Pool;
  signal?: AbortSignal;
  /** How long dual write must have been on before copying. Default 15 s. */
  settleMs?: number;
  dryRun?: boolean;
  onProgress?: (progress: BackfillProgress) => void;
  /** Attempts per batch for transient errors. Default 5. */
  attempts?: number;
  /**
   * Copy a legacy table on the server when it can (legacy-bulk.ts): the pools must allow
   * multiple statements. Default false: batches pass through this process.
   */
  serverCopy?: boolean;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface BackfillProgress {
  stage: 'settling' | 'copying' | 'done';
  copied: number;
  total: number;
  rowsPerSecond: number;
}

export interface BackfillResult {
  migration: number;
  completed: boolean;
  /** The backfill had finished before this run. */
  alreadyDone: boolean;
  /** Why it stopped before the end: a signal, or the phase changed (abort) under it. */
  stopped: 'signal' | 'phase' | null;
  resumedFrom: BackfillCheckpoint | null;
  copiedThisRun: number;
  copiedTotal: number;
  sourceRows: number;
  /** Rows per batch this run (a throttle caps a batch at ten seconds of rows); null if none ran. */
  batchRows: number | null;
  /** Whether the server copied the batches (legacy-bulk.ts) or they passed through this process. */
  serverCopy: boolean;
  dryRun: boolean;
  seconds: number;
}

export async function runBackfill(options: BackfillOptions): Promise<BackfillResult> {
  const { states, signal } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const started = now();
  const initial = await states.current();
  requireStep('backfill', initial);
  let state = initial!;
  const result: BackfillResult = {
    migration: state.id,
    completed: state.phase === 'backfilled',
    alreadyDone: state.phase === 'backfilled',
    stopped: null,
    resumedFrom: state.checkpoint,
    copiedThisRun: 0,
    copiedTotal: state.copiedRows,
    sourceRows: state.sourceRows,
    batchRows: null,
    serverCopy: false,
    dryRun: options.dryRun === true,
    seconds: 0,
  };
  const finish = () => ({ ...result, seconds: (now() - started) / 1000 });
  if (result.alreadyDone) return finish();
  const sides = options.sidesFor(state);
  result.sourceRows = (await sides.source.stats()).rows;
  if (options.dryRun) return finish();

  const lock = await acquireLock(
    options.lockPool,
    `tradectl:backfill:${state.id}:${state.target.databasePrefix}`,
  );
  try {
    const progress = (stage: BackfillProgress['stage']) =>
      options.onProgress?.({
        stage,
        copied: result.copiedTotal,
        total: Math.max(result.sourceRows, result.copiedTotal),
        rowsPerSecond: result.copiedThisRun / Math.max(0.001, (now() - started) / 1000),
      });
    progress('settling');
    const settle = toEpochMs(state.startedAt!) + (options.settleMs ?? 15_000) - toEpochMs(await states.now());
    if (settle > 0) await sleep(settle, signal);
    if (signal?.aborted) return { ...finish(), stopped: 'signal' };

    const gate = new RateGate({ now, sleep });
    const id = state.id;
    let readAt = now();
    let moved = false;
    // The throttle (and whether this migration is still the started one) is read every second.
    const rate = async () => {
      if (now() - readAt >= 1000) {
        const latest = await states.current();
        readAt = now();
        if (latest?.id === id && latest.phase === 'started') state = latest;
        else moved = true;
      }
      return moved ? 0 : state.throttle;
    };
    const attempts = options.attempts ?? 5;
    const serverCopier = options.serverCopy ? sides.serverCopier : undefined;
    const serverCopy = serverCopier !== undefined;
    const { databases, tablesPerDatabase } = state.target;
    const autoRows = defaultBatchRows({ serverCopy, orderTables: databases * tablesPerDatabase });
    const batchRows = () => (state.batchRows === AUTO_BATCH_ROWS ? autoRows : state.batchRows);
    const limit = () => batchSizeFor(batchRows(), state.throttle);
    result.batchRows = batchRows();
    result.serverCopy = serverCopy;
    const copyNext =
      serverCopier !== undefined
        ? await serverSteps(await serverCopier(), attempts, sleep, signal)
        : clientSteps(sides, limit, attempts, sleep, signal);
    let from = state.checkpoint;
    progress('copying');
    for (;;) {
      await gate.admit(limit(), rate, signal);
      if (signal?.aborted) return { ...finish(), stopped: 'signal' };
      if (moved) return { ...finish(), stopped: 'phase' };
      const batch = await copyNext.step(from, limit());
      from = batch.next;
      result.copiedThisRun += batch.rows;
      result.copiedTotal += batch.rows;
      const changes = {
        checkpoint_table: batch.next.table,
        checkpoint_after_id: batch.next.afterId,
        copied_rows: result.copiedTotal,
        ...(batch.done ? { phase: 'backfilled' } : {}),
      };
      if (!(await states.update(id, ['started'], changes, batch.done ? ['backfilled_at'] : []))) {
        return { ...finish(), stopped: 'phase' };
      }
      if (batch.done) {
        result.completed = true;
        progress('done');
        await copyNext.dispose();
        return finish();
      }
      progress('copying');
      if (signal?.aborted) return { ...finish(), stopped: 'signal' };
    }
  } finally {
    await lock.release();
  }
}

interface Steps {
  /** Copies the batch after `from`: its rows, where it ends, and whether the source is done. */
  step(
    from: BackfillCheckpoint | null,
    limit: number,
  ): Promise<{ rows: number; next: BackfillCheckpoint; done: boolean }>;
  dispose(): Promise<void>;
}

type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Batches read into this process and written by the layout writer; the next batch is read while
 * this one is written (at most two in memory). Reads and writes retry on their own, so a retried
 * write never skips the batch that was read ahead.
 */
function clientSteps(
  sides: MigrationSides,
  limit: () => number,
  attempts: number,
  sleep: Sleep,
  signal?: AbortSignal,
): Steps {
  const read = (from: BackfillCheckpoint | null) =>
    withRetry(() => sides.readBatch(from, limit()), attempts, sleep, signal);
  let ahead: { from: BackfillCheckpoint | null; batch: ReturnType<typeof read> } | null = null;
  return {
    async step(from) {
      const batch = await (ahead !== null && ahead.from === from ? ahead.batch : read(from));
      ahead = batch.done ? null : { from: batch.next, batch: read(batch.next) };
      // A failed read-ahead surfaces when it is awaited, as the next step.
      ahead?.batch.catch(() => undefined);
      if (batch.items.length > 0)
        await withRetry(() => sides.writeTarget(batch.items), attempts, sleep, signal);
      return { rows: batch.items.length, next: batch.next, done: batch.done };
    },
    dispose: async () => undefined,
  };
}

/** Batches copied by the server (legacy-bulk.ts); a retried batch is copied again whole. */
async function serverSteps(
  copier: LegacyBulkCopier,
  attempts: number,
  sleep: Sleep,
  signal?: AbortSignal,
): Promise<Steps> {
  return {
    async step(from, limit) {
      const batch = await withRetry(() => copier.copy(from?.afterId ?? null, limit), attempts, sleep, signal);
      return { rows: batch.rows, next: { table: 0, afterId: batch.lastId }, done: batch.done };
    },
    dispose: () => copier.dispose(),
  };
}

async function withRetry<T>(
  work: () => Promise<T>,
  attempts: number,
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error) || signal?.aborted) throw error;
      await sleep(Math.min(5000, 250 * 2 ** (attempt - 1)), signal);
    }
  }
}

/** A server-side named lock held by one connection; the server drops it if the process dies. */
async function acquireLock(pool: Pool, key: string): Promise<{ release(): Promise<void> }> {
  // Lock names are limited to 64 characters.
  const name = `tradectl:${createHash('sha1').update(key).digest('hex')}`;
  let connection: PoolConnection | undefined;
  try {
    connection = await pool.getConnection();
    const [rows] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [name]);
    if (Number(rows[0]?.got) !== 1) {
      throw new TradectlError('TRADECTL_MIGRATION_BUSY', 'another backfill of this migration is running', {
        kind: 'usage',
        hint: 'wait for it, or stop it (its progress is kept: the next backfill resumes where it stopped)',
      });
    }
  } catch (error) {
    connection?.release();
    throw classifyMysqlError(error, 'take the backfill lock');
  }
  const held = connection;
  return {
    async release() {
      try {
        await held.query('SELECT RELEASE_LOCK(?)', [name]);
        held.release();
      } catch {
        held.destroy();
      }
    },
  };
}
