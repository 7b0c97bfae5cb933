import { InvalidArgumentError } from 'commander';
import type { Config } from '../core/config.js';
import { parseLayoutShape } from '../core/migrate/layouts.js';
import { parseTableName } from '../core/migrate/legacy-table.js';
import type { PlanInput } from '../core/migrate/plan-start.js';
import { AUTO_BATCH_ROWS } from '../core/migrate/throttle.js';
import { type CommonOptions, parseIntegerOption } from './common.js';

/** The parsed flags of `tradectl migrate-shards` and their parsers (each error names its flag). */

export interface PlanFlags extends CommonOptions {
  to?: { databases: number; tablesPerDatabase: number };
  toPrefix?: string;
  fromLegacy?: { schema: string; table: string };
  legacyPlatform: string;
  legacyAccount: string;
  legacyCurrency: string;
  legacyUtcOffset: number;
  throttle: number;
  /** AUTO_BATCH_ROWS for `auto`. */
  batch: number;
  dryRun?: boolean;
}

export interface StepFlags extends CommonOptions {
  dryRun?: boolean;
  yes?: boolean;
  keepSource?: boolean;
  dropTarget?: boolean;
  repair?: boolean;
  settle: number;
  concurrency: number;
  chunkRows: number;
}

/** `plan`'s flags as the core's input; the target prefix defaults to `<mysql.databasePrefix>_<D>x<T>`. */
export function planInput(flags: PlanFlags, config: Config): PlanInput {
  return {
    to: flags.to && {
      ...flags.to,
      databasePrefix:
        flags.toPrefix ??
        `${config.mysql.databasePrefix}_${flags.to.databases}x${flags.to.tablesPerDatabase}`,
    },
    legacy: flags.fromLegacy && {
      ...flags.fromLegacy,
      platform: flags.legacyPlatform,
      account: flags.legacyAccount,
      currency: flags.legacyCurrency,
      utcOffsetMinutes: flags.legacyUtcOffset,
    },
    throttle: flags.throttle,
    batchRows: flags.batch,
    dryRun: flags.dryRun === true,
  };
}

export function parseShape(value: string) {
  const shape = parseLayoutShape(value);
  if (!shape)
    throw new InvalidArgumentError(
      `--to must look like 16x256 (1-1024 databases x 1-4096 tables), got "${value}"`,
    );
  return shape;
}

export function parseTable(value: string) {
  const table = parseTableName(value);
  if (!table) throw new InvalidArgumentError(`--from-legacy must be <database>.<table>, got "${value}"`);
  return table;
}

const parseBatchRows = parseIntegerOption('--batch', 1, 1_000_000);

/** `--batch`: a row count, or `auto` (the backfill sizes batches by how it copies: throttle.ts). */
export function parseBatch(value: string): number {
  return value.trim() === 'auto' ? AUTO_BATCH_ROWS : parseBatchRows(value);
}

export function parseOffset(value: string): number {
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(value.trim());
  if (!match || Number(match[2]) > 14 || Number(match[3]) > 59) {
    throw new InvalidArgumentError(`--legacy-utc-offset must look like +08:00 or -05:00, got "${value}"`);
  }
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}
