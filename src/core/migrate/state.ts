import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { z } from 'zod';
import { TradectlError } from '../errors.js';
import { classifyMysqlError, mysqlErrno } from '../mysql-errors.js';
import { fromSqlDateTime, type Instant } from '../time.js';
import type { LayoutSpec } from './layouts.js';
import type { LegacySource } from './legacy-mapping.js';

/**
 * Where a migration's state lives: one row per migration in `<meta>.shard_migrations`, the newest
 * row being the current one. Every process that writes orders reads it (the sink, every few
 * seconds) and every `tradectl migrate-shards` step changes it with a compare-and-set on the
 * phase, so two operators (or a step and a running backfill) cannot move it past each other.
 */

export const PHASES = [
  'planned',
  'started',
  'backfilled',
  'verified',
  'cut_over',
  'cleaned_up',
  'aborted',
] as const;
export type MigrationPhase = (typeof PHASES)[number];

export type MigrationSource =
  | { kind: 'layout'; layout: LayoutSpec }
  | { kind: 'legacy'; legacy: LegacySource };

/**
 * Where the backfill stands: source tables before `table` are copied, and of table `table` (in
 * ShardRouter#all order; 0 for a legacy table) the rows up to `afterId` (none yet when null).
 */
export interface BackfillCheckpoint {
  table: number;
  afterId: string | null;
}

export interface MigrationState {
  id: number;
  source: MigrationSource;
  target: LayoutSpec;
  phase: MigrationPhase;
  /** Backfill rate limit, rows per second; 0 means unlimited. */
  throttle: number;
  /** Rows per backfill batch; AUTO_BATCH_ROWS (0): the backfill chooses (throttle.ts). */
  batchRows: number;
  /** null until the first batch is copied. */
  checkpoint: BackfillCheckpoint | null;
  copiedRows: number;
  /** Source rows counted by `plan` (an estimate by the time the backfill runs). */
  sourceRows: number;
  createdAt: Instant;
  startedAt: Instant | null;
  backfilledAt: Instant | null;
  verifiedAt: Instant | null;
  cutOverAt: Instant | null;
  /** When it was cleaned up or aborted. */
  finishedAt: Instant | null;
  updatedAt: Instant;
}

const layoutSchema = z.object({
  databases: z.number().int().min(1),
  tablesPerDatabase: z.number().int().min(1),
  databasePrefix: z.string().regex(/^[a-z][a-z0-9_]*$/),
});

const legacySchema = z.object({
  schema: z.string(),
  table: z.string(),
  platform: z.string(),
  account: z.string(),
  currency: z.string(),
  utcOffsetMinutes: z.number().int(),
  hasUpdatedAt: z.boolean(),
  timePrecision: z.union([z.literal(0), z.literal(3)]),
  amountScale: z.number().int().min(0),
  highKey: z.string().nullable(),
});

const sourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('layout'), layout: layoutSchema }),
  z.object({ kind: z.literal('legacy'), legacy: legacySchema }),
]);

export function migrationsTable(metaDatabase: string): string {
  return `\`${metaDatabase}\`.\`shard_migrations\``;
}

export function migrationsTableDdl(metaDatabase: string): string {
  return `CREATE TABLE IF NOT EXISTS ${migrationsTable(metaDatabase)} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  source_kind VARCHAR(8) NOT NULL,
  source_spec TEXT NOT NULL,
  target_spec TEXT NOT NULL,
  phase VARCHAR(12) NOT NULL,
  throttle_rows_per_second INT UNSIGNED NOT NULL DEFAULT 0,
  batch_rows INT UNSIGNED NOT NULL,
  checkpoint_table INT UNSIGNED NULL,
  checkpoint_after_id BIGINT UNSIGNED NULL,
  copied_rows BIGINT UNSIGNED NOT NULL DEFAULT 0,
  source_rows BIGINT UNSIGNED NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  started_at DATETIME(3) NULL,
  backfilled_at DATETIME(3) NULL,
  verified_at DATETIME(3) NULL,
  cut_over_at DATETIME(3) NULL,
  finished_at DATETIME(3) NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}

const COLUMNS =
  'id, source_kind, source_spec, target_spec, phase, throttle_rows_per_second, batch_rows, ' +
  'checkpoint_table, checkpoint_after_id, copied_rows, source_rows, created_at, started_at, ' +
  'backfilled_at, verified_at, cut_over_at, finished_at, updated_at';

const optTime = (value: unknown): Instant | null => (value === null ? null : fromSqlDateTime(String(value)));

export function stateFromRow(row: RowDataPacket): MigrationState {
  const phase = String(row.phase) as MigrationPhase;
  let source: MigrationSource;
  let target: LayoutSpec;
  try {
    if (!PHASES.includes(phase)) throw new Error(`unknown phase "${phase}"`);
    source = sourceSchema.parse(JSON.parse(String(row.source_spec))) as MigrationSource;
    target = layoutSchema.parse(JSON.parse(String(row.target_spec)));
  } catch (error) {
    throw new TradectlError('TRADECTL_MIGRATION_STATE_INVALID', `migration ${row.id}: unreadable state row`, {
      kind: 'internal',
      cause: error,
      details: { migration: Number(row.id) },
      hint: 'the shard_migrations row was changed by hand; restore it or abort the migration',
    });
  }
  return {
    id: Number(row.id),
    source,
    target,
    phase,
    throttle: Number(row.throttle_rows_per_second),
    batchRows: Number(row.batch_rows),
    checkpoint:
      row.checkpoint_table === null
        ? null
        : {
            table: Number(row.checkpoint_table),
            afterId: row.checkpoint_after_id === null ? null : String(row.checkpoint_after_id),
          },
    copiedRows: Number(row.copied_rows),
    sourceRows: Number(row.source_rows),
    createdAt: fromSqlDateTime(String(row.created_at)),
    startedAt: optTime(row.started_at),
    backfilledAt: optTime(row.backfilled_at),
    verifiedAt: optTime(row.verified_at),
    cutOverAt: optTime(row.cut_over_at),
    finishedAt: optTime(row.finished_at),
    updatedAt: fromSqlDateTime(String(row.updated_at)),
  };
}

/** Reads and changes the migration rows of one meta database. */
export class MigrationStateStore {
  readonly #pool: Pool;
  readonly #table: string;
  readonly #metaDatabase: string;

  constructor(pool: Pool, metaDatabase: string) {
    this.#pool = pool;
    this.#metaDatabase = metaDatabase;
    this.#table = migrationsTable(metaDatabase);
  }

  /** Creates the table when missing (the meta database must exist: `tradectl shards init`). */
  async ensureTable(): Promise<void> {
    await this.#run('create the migration table', () =>
      this.#pool.query(migrationsTableDdl(this.#metaDatabase)),
    );
  }

  /** The newest migration, or null (also when the table does not exist yet: nothing was planned). */
  async current(): Promise<MigrationState | null> {
    try {
      const [rows] = await this.#pool.query<RowDataPacket[]>(
        `SELECT ${COLUMNS} FROM ${this.#table} ORDER BY id DESC LIMIT 1`,
      );
      return rows[0] === undefined ? null : stateFromRow(rows[0]);
    } catch (error) {
      if (mysqlErrno(error) === 1146) return null;
      throw classifyMysqlError(error, 'read the migration state');
    }
  }

  /** The server's clock (UTC), which every timestamp of the state uses. */
  async now(): Promise<Instant> {
    const [rows] = await this.#run('read the clock', () =>
      this.#pool.query<RowDataPacket[]>('SELECT UTC_TIMESTAMP(3) AS now'),
    );
    return fromSqlDateTime(String(rows[0]!.now));
  }

  async insert(input: {
    source: MigrationSource;
    target: LayoutSpec;
    throttle: number;
    batchRows: number;
    sourceRows: number;
  }): Promise<number> {
    const [header] = await this.#run('record the migration plan', () =>
      this.#pool.query<ResultSetHeader>(
        `INSERT INTO ${this.#table} (source_kind, source_spec, target_spec, phase, throttle_rows_per_second, ` +
          'batch_rows, source_rows, created_at, updated_at) ' +
          "VALUES (?, ?, ?, 'planned', ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
        [
          input.source.kind,
          JSON.stringify(input.source),
          JSON.stringify(input.target),
          input.throttle,
          input.batchRows,
          input.sourceRows,
        ],
      ),
    );
    return Number(header.insertId);
  }

  /**
   * Sets `changes` on migration `id` only while it is in one of `phases`; false when it was not
   * (another process moved it). Timestamp columns named in `stamp` are set to the server's now.
   */
  async update(
    id: number,
    phases: readonly MigrationPhase[],
    changes: Partial<Record<UpdatableColumn, string | number | null>>,
    stamp: readonly TimestampColumn[] = [],
  ): Promise<boolean> {
    const entries = Object.entries(changes);
    const assignments = [
      ...entries.map(([column]) => `\`${column}\` = ?`),
      ...stamp.map((column) => `\`${column}\` = UTC_TIMESTAMP(3)`),
      '`updated_at` = UTC_TIMESTAMP(3)',
    ];
    const [header] = await this.#run('update the migration state', () =>
      this.#pool.query<ResultSetHeader>(
        `UPDATE ${this.#table} SET ${assignments.join(', ')} WHERE id = ? AND phase IN (?)`,
        [...entries.map(([, value]) => value), id, phases],
      ),
    );
    return header.affectedRows === 1;
  }

  async #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw classifyMysqlError(error, operation);
    }
  }
}

export type UpdatableColumn =
  | 'phase'
  | 'source_kind'
  | 'source_spec'
  | 'target_spec'
  | 'throttle_rows_per_second'
  | 'batch_rows'
  | 'checkpoint_table'
  | 'checkpoint_after_id'
  | 'copied_rows'
  | 'source_rows';

export type TimestampColumn = 'started_at' | 'backfilled_at' | 'verified_at' | 'cut_over_at' | 'finished_at';
