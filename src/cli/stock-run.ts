import { randomUUID } from 'node:crypto';
import type { Config } from '../core/config.js';
import { MysqlPools } from '../core/mysql-pools.js';
import { connectCommandRedis } from '../core/redis-connect.js';
import { routerForConfig } from '../core/shard-admin.js';
import { StockService } from '../core/stock/stock-service.js';
import type { OperationResult, StockLevel, StockLine } from '../core/stock/stock-types.js';
import { type WarmUpResult, warmUpStock } from '../core/stock/stock-warmup.js';
import type { CommonOptions } from './common.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, writeJson, writeLine, writeTable } from './output.js';

/**
 * What `tradectl stock …` does once its flags are parsed (stock.ts parses them). Each command
 * is one StockService call (two for a set/adjust without --expected-version: read, then
 * compare-and-set); `warmup` is warmUpStock() over MySQL's inventory. docs/stock.md.
 */

export interface StockHandle {
  service: StockService;
  /** Only for warm-up: the MySQL side. */
  warmUp(input: { tenant: string; operationId: string; skus?: readonly string[] }): Promise<WarmUpResult>;
  close(): Promise<void>;
}

export interface StockCliDeps {
  io: CliIo;
  loadConfig(options: CommonOptions): Promise<Config>;
  /** Connects to the config's Redis (and MySQL for warm-up); tests may pass a fake. */
  openStock(config: Config, tenant: string | undefined): Promise<StockHandle>;
  setExitCode(code: ExitCode): void;
}

export interface StockOptions extends CommonOptions {
  tenant?: string;
}

export async function openStock(config: Config, tenant: string | undefined): Promise<StockHandle> {
  const redis = await connectCommandRedis(config.redis.url, 'stock');
  const service = new StockService({
    redis,
    keyPrefix: config.redis.keyPrefix,
    ...(tenant ? { tenant } : {}),
  });
  let pools: MysqlPools | undefined;
  return {
    service,
    async warmUp(input) {
      const router = routerForConfig(config);
      pools ??= new MysqlPools(config, router, { connectionLimit: 2 });
      return warmUpStock({ service, pool: pools.meta(), router, ...input });
    },
    async close() {
      await Promise.all([redis.quit().catch(() => redis.disconnect()), pools?.close()]);
    },
  };
}

async function withStock<T>(
  deps: StockCliDeps,
  options: StockOptions,
  work: (handle: StockHandle) => Promise<T>,
): Promise<T> {
  const config = await deps.loadConfig(options);
  const handle = await deps.openStock(config, options.tenant);
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

export async function runStockGet(skus: string[], options: StockOptions, deps: StockCliDeps): Promise<void> {
  const levels = await withStock(deps, options, ({ service }) => service.getMany({ skus }));
  const found = levels.filter((level): level is StockLevel => level !== null);
  const unknown = skus.filter((_, index) => levels[index] === null);
  if (options.json) writeJson(deps.io, { levels: found, unknown });
  else {
    writeTable(
      deps.io,
      ['sku', 'tenant', 'available', 'reserved', 'version'],
      found.map((level) => [level.sku, level.tenant, level.available, level.reserved, level.version]),
    );
    if (unknown.length > 0) {
      writeLine(
        deps.io.stderr,
        `unknown SKU(s): ${unknown.join(', ')} (set them, or load them with tradectl stock warmup)`,
      );
    }
  }
  if (unknown.length > 0) deps.setExitCode(EXIT.failed);
}

export interface CorrectionOptions extends StockOptions {
  expectedVersion?: number;
  op?: string;
}

/**
 * set and adjust are compare-and-set writes. Without --expected-version the command reads the
 * SKU's version first and writes against it (read-modify-write), and says so: a sale landing in
 * between makes the write fail with a version conflict instead of being overwritten.
 */
export async function runStockCorrection(
  kind: 'set' | 'adjust',
  input: { sku: string; value: number },
  options: CorrectionOptions,
  deps: StockCliDeps,
): Promise<void> {
  const operationId = options.op ?? `cli-${kind}-${randomUUID()}`;
  const result = await withStock(deps, options, async ({ service }) => {
    let expectedVersion = options.expectedVersion;
    if (expectedVersion === undefined) {
      const level = await service.get({ sku: input.sku, tenant: options.tenant });
      expectedVersion = level?.version ?? 0;
      writeLine(
        deps.io.stderr,
        `read ${input.sku} at version ${expectedVersion}${level ? ` (available ${level.available})` : ' (new SKU)'}; ` +
          'writing with compare-and-set: it fails if the SKU changes meanwhile',
      );
    }
    const base = { operationId, sku: input.sku, expectedVersion, tenant: options.tenant };
    return kind === 'set'
      ? service.set({ ...base, available: input.value })
      : service.adjust({ ...base, delta: input.value });
  });
  if (options.json) {
    writeJson(deps.io, result);
    return;
  }
  writeTable(
    deps.io,
    ['sku', 'tenant', 'available', 'version', 'operation'],
    [[result.sku, result.tenant, result.available, result.version, result.operationId]],
  );
  if (result.replayed)
    writeLine(deps.io.stderr, `operation ${operationId} was applied before: nothing changed now`);
}

export async function runStockDeduct(
  lines: StockLine[],
  options: StockOptions & { op: string },
  deps: StockCliDeps,
): Promise<void> {
  const result = await withStock(deps, options, ({ service }) =>
    service.deduct({ operationId: options.op, lines, tenant: options.tenant }),
  );
  writeOperation(deps, options, result, 'deducted');
}

export async function runStockRelease(
  options: StockOptions & { op: string },
  deps: StockCliDeps,
): Promise<void> {
  const result = await withStock(deps, options, ({ service }) =>
    service.release({ reservationId: options.op, tenant: options.tenant }),
  );
  writeOperation(deps, options, result, `reservation ${result.state}, stock back to available`);
}

export async function runStockRestore(
  options: StockOptions & { op: string; sale: string },
  deps: StockCliDeps,
): Promise<void> {
  const result = await withStock(deps, options, ({ service }) =>
    service.restore({ operationId: options.op, restores: options.sale, tenant: options.tenant }),
  );
  writeOperation(deps, options, result, `gave back what ${options.sale} took`);
}

export async function runStockWarmup(
  options: StockOptions & { sku?: string[]; op?: string },
  deps: StockCliDeps,
): Promise<void> {
  const operationId = options.op ?? `warmup-${randomUUID()}`;
  const result = await withStock(deps, options, (handle) =>
    handle.warmUp({
      tenant: options.tenant ?? handle.service.tenant,
      operationId,
      ...(options.sku ? { skus: options.sku } : {}),
    }),
  );
  if (options.json) writeJson(deps.io, { ...result, operationId });
  else {
    writeLine(
      deps.io.stdout,
      `loaded ${result.loaded} SKU(s) from MySQL; kept ${result.kept} that Redis already had (operation ${operationId})`,
    );
  }
}

function writeOperation(
  deps: StockCliDeps,
  options: StockOptions,
  result: OperationResult,
  done: string,
): void {
  if (options.json) {
    writeJson(deps.io, result);
    return;
  }
  writeTable(
    deps.io,
    ['sku', 'quantity', 'available', 'version'],
    result.lines.map((line) => [line.sku, line.quantity, line.available, line.version]),
  );
  writeLine(
    deps.io.stderr,
    result.replayed
      ? `operation ${result.operationId} was applied before: this is its first answer, nothing changed now`
      : `${done} (operation ${result.operationId})`,
  );
}
