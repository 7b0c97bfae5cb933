/**
 * Stock deduction throughput, three ways in one run against the same Redis (AOF as configured):
 *
 *   1. redis-benchmark sending the deduct script by EVALSHA, -c 50 -P 16: the server's ceiling;
 *   2. bare ioredis calling the same script (EVALSHA) with 50 calls in flight: the client's ceiling;
 *   3. StockService.deduct with 50 calls in flight: ours (validation, keys, reply mapping).
 *
 * For reference it also runs redis-benchmark at -P 1 (50 in flight, like 2 and 3; -P 16 keeps
 * 800 in flight) and prints the Node process's CPU time per call for 2 and 3: on a busy machine
 * throughput follows how much work each wake-up of Redis gets, while CPU per call is what the
 * library itself adds.
 *
 *   npx tsx bench/stock.ts [rounds=5] [seconds=3]      env TRADECTL_REDIS_URL, BENCH_REDIS_DB (15)
 *
 * Every call is a new operation id, one line of quantity 1 from a stock of 10^12, so nothing runs
 * out. redis-benchmark substitutes __rand_int__ from -r 2·10^9 (it parses -r into a C int: 10^12
 * overflowed to a key space of one, so every call after the first was an idempotent replay, a
 * single HMGET, and the "ceiling" was 5x too high). Every phase counts the entries its deducts
 * appended to the change stream and fails unless at least 99% of its calls were applied, so a
 * ceiling always measures the same work as the clients. The client is not auto-pipelined, as in
 * the worker's stock API; BENCH_AUTO_PIPELINING=1 turns it on for both client phases (ioredis then
 * keeps one pipeline in flight and Redis and Node take turns: ~60% of the ceiling instead of ~95%).
 * The run uses its own logical database, flushed before each phase (the records of millions
 * of operations and the stream add up), and refuses to start if that database holds anything.
 * Goals: ours >= 90% of bare ioredis and >= 70% of redis-benchmark (medians).
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { tenantKeys } from '../src/core/stock/keys.js';
import { deductArgs } from '../src/core/stock/script-args.js';
import { readStockScript } from '../src/core/stock/scripts.js';
import { StockService } from '../src/core/stock/stock-service.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const SECONDS = Number(process.argv[3] ?? 3);
const IN_FLIGHT = 50;
const PIPELINE = 16;
const REDIS_URL = process.env.TRADECTL_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB = Number(process.env.BENCH_REDIS_DB ?? 15);
const PREFIX = 'bench:';
const TENANT = 'bench';
const SKU = 'B1';
const STOCK = 1_000_000_000_000;
const RECORD_TTL_MS = 600_000;
/** Below 2^31: redis-benchmark keeps -r in a C int. Repeats among ~10^6 calls: ~250, 0.03%. */
const RANDOM_KEYSPACE = 2_000_000_000;
const MIN_APPLIED = 0.99;

interface Result {
  calls: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  /** CPU time of this process per call, µs (client phases only). */
  cpuUs?: number;
}

const url = new URL(REDIS_URL);
const AUTO_PIPELINING = process.env.BENCH_AUTO_PIPELINING === '1';
const redis = new Redis(REDIS_URL, { db: DB, enableAutoPipelining: AUTO_PIPELINING });
const keys = tenantKeys(PREFIX, TENANT);
const script = readStockScript('deduct');
const service = new StockService({ redis, keyPrefix: PREFIX, tenant: TENANT, operationTtlMs: RECORD_TTL_MS });

async function reset(): Promise<void> {
  await redis.flushdb();
  await service.set({ operationId: `stock-${Date.now()}`, sku: SKU, expectedVersion: 0, available: STOCK });
  await redis.script('LOAD', script.lua);
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** `IN_FLIGHT` loops calling `call(i)` back to back for SECONDS; latency per call. */
async function closedLoop(call: (i: number) => Promise<unknown>): Promise<Result> {
  const latencies = new Float64Array(4_000_000);
  let count = 0;
  let next = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        const began = performance.now();
        await call(next++);
        if (count < latencies.length) latencies[count] = performance.now() - began;
        count++;
      }
    }),
  );
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const sorted = latencies.subarray(0, Math.min(count, latencies.length)).sort();
  return {
    calls: count,
    opsPerSec: (count / elapsed) * 1000,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    cpuUs: (used.user + used.system) / count,
  };
}

function bareIoredis(round: number): Promise<Result> {
  return closedLoop(async (i) => {
    const call = deductArgs(keys, {
      operationId: `bare-${round}-${i}`,
      lines: [{ sku: SKU, quantity: 1 }],
      now: Date.now(),
      recordTtlMs: RECORD_TTL_MS,
      sweepCheck: true,
    });
    const reply = (await redis.evalsha(script.sha, call.keys.length, ...call.keys, ...call.args)) as [number];
    if (reply[0] !== 0) throw new Error(`bare deduct answered ${reply[0]}`);
  });
}

function library(round: number): Promise<Result> {
  return closedLoop((i) =>
    service.deduct({ operationId: `lib-${round}-${i}`, lines: [{ sku: SKU, quantity: 1 }] }),
  );
}

/** redis-benchmark with the same EVALSHA; requests sized from the last estimate to last ~SECONDS. */
function redisBenchmark(requests: number, pipeline = PIPELINE): Promise<Result> {
  // The same KEYS/ARGV a library call sends, with the operation id randomised per call.
  const call = deductArgs(keys, {
    operationId: 'rb-__rand_int__',
    lines: [{ sku: SKU, quantity: 1 }],
    now: Date.now(),
    recordTtlMs: RECORD_TTL_MS,
    sweepCheck: true,
  });
  const args = [
    ...['-h', url.hostname, '-p', url.port || '6379', '--dbnum', String(DB)],
    ...[
      '-c',
      String(IN_FLIGHT),
      '-P',
      String(pipeline),
      '-n',
      String(requests),
      '-r',
      String(RANDOM_KEYSPACE),
      '--csv',
    ],
    ...['EVALSHA', script.sha, String(call.keys.length), ...call.keys, ...call.args.map(String)],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
      const row = out
        .trim()
        .split('\n')
        .find((line) => line.startsWith('"EVALSHA'));
      const cells = row?.split('","').map((cell) => cell.replaceAll('"', ''));
      if (code !== 0 || !cells || cells.length < 8) {
        reject(new Error(`redis-benchmark failed (exit ${code}): ${out}`));
        return;
      }
      resolve({ calls: requests, opsPerSec: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6]) });
    });
  });
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! };
}

const ops = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`.padStart(11);
const ms = (value: number) => `${value.toFixed(3)} ms`.padStart(9);
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

async function main(): Promise<void> {
  const size = await redis.dbsize();
  if (size > 0)
    throw new Error(`Redis db ${DB} is not empty (${size} keys): set BENCH_REDIS_DB to an unused database`);
  const [, aof] = (await redis.config('GET', 'appendonly')) as [string, string];
  const [, fsync] = (await redis.config('GET', 'appendfsync')) as [string, string];
  console.log(
    `stock deduct, ${ROUNDS} rounds x ${SECONDS} s per phase, ${IN_FLIGHT} in flight, Redis ${url.host} db ${DB}, ` +
      `appendonly ${aof} appendfsync ${fsync}, script ${script.file} (${script.sha.slice(0, 12)})`,
  );
  // Warm-up: JIT, connections, the script cache.
  await reset();
  const warm = await closedLoop((i) =>
    service.deduct({ operationId: `warm-${i}`, lines: [{ sku: SKU, quantity: 1 }] }),
  );
  let requests = Math.max(100_000, Math.round(warm.opsPerSec * 1.5 * SECONDS));

  const results = { rb: [] as Result[], bare: [] as Result[], lib: [] as Result[], rb1: [] as Result[] };
  console.log('round  phase             ops/s        p50        p99');
  for (let round = 1; round <= ROUNDS; round++) {
    const phases: [keyof typeof results, string, () => Promise<Result>][] = [
      ['rb', 'redis-benchmark', () => redisBenchmark(requests)],
      ['bare', 'bare ioredis', () => bareIoredis(round)],
      ['lib', 'StockService', () => library(round)],
      ['rb1', 'rb -P 1 (ref)', () => redisBenchmark(Math.max(50_000, Math.round(requests / 4)), 1)],
    ];
    // Rotated each round, so no phase always runs after the heaviest one (AOF rewrites, a hot CPU).
    const order = [...phases.slice((round - 1) % 3, 3), ...phases.slice(0, (round - 1) % 3), phases[3]!];
    for (const [key, label, run] of order) {
      await reset();
      const result = await run();
      // Each applied deduct appends one stream entry; a replay appends none.
      const applied = await redis.xlen(keys.stream);
      if (applied < result.calls * MIN_APPLIED)
        throw new Error(
          `${label}: only ${applied} of ${result.calls} calls deducted (the rest were replays): it measured other work`,
        );
      results[key].push(result);
      if (key === 'rb') requests = Math.max(100_000, Math.round(result.opsPerSec * SECONDS));
      const cpu = result.cpuUs === undefined ? '' : `  ${result.cpuUs.toFixed(1)} µs CPU/call`;
      console.log(
        `${String(round).padStart(5)}  ${label.padEnd(15)} ${ops(result.opsPerSec)} ${ms(result.p50)} ${ms(result.p99)}${cpu}`,
      );
    }
    const stock = await service.get({ sku: SKU });
    if (!stock || stock.available < 0) throw new Error('stock went below zero');
  }
  await redis.flushdb();

  console.log('');
  console.log('phase             min ops/s   median ops/s   max ops/s   median p50   median p99');
  const medians: Record<string, number> = {};
  for (const [key, label] of [
    ['rb', 'redis-benchmark'],
    ['bare', 'bare ioredis'],
    ['lib', 'StockService'],
    ['rb1', 'rb -P 1 (ref)'],
  ] as const) {
    const rate = stats(results[key].map((r) => r.opsPerSec));
    medians[key] = rate.median;
    console.log(
      `${label.padEnd(15)} ${ops(rate.min)}    ${ops(rate.median)}  ${ops(rate.max)}` +
        `    ${ms(stats(results[key].map((r) => r.p50)).median)}    ${ms(stats(results[key].map((r) => r.p99)).median)}`,
    );
  }
  const perRound = (key: 'rb' | 'bare') =>
    stats(results.lib.map((r, i) => r.opsPerSec / results[key][i]!.opsPerSec));
  const cpu = (key: 'bare' | 'lib') => stats(results[key].map((r) => r.cpuUs ?? Number.NaN)).median;
  const vsBare = medians.lib! / medians.bare!;
  const vsServer = medians.lib! / medians.rb!;
  const bareRounds = perRound('bare');
  const serverRounds = perRound('rb');
  console.log('');
  console.log(
    `StockService / bare ioredis:    ${pct(vsBare)} of medians (per round min ${pct(bareRounds.min)}, ` +
      `median ${pct(bareRounds.median)}, max ${pct(bareRounds.max)}); goal >= 90%: ${vsBare >= 0.9 ? 'met' : 'NOT met'}`,
  );
  console.log(
    `StockService / redis-benchmark: ${pct(vsServer)} of medians (per round min ${pct(serverRounds.min)}, ` +
      `median ${pct(serverRounds.median)}, max ${pct(serverRounds.max)}); goal >= 70%: ${vsServer >= 0.7 ? 'met' : 'NOT met'}`,
  );
  console.log(
    `client CPU per call (median): bare ioredis ${cpu('bare').toFixed(1)} µs, StockService ${cpu('lib').toFixed(1)} µs ` +
      `(library overhead ${(cpu('lib') - cpu('bare')).toFixed(1)} µs); StockService / rb -P 1: ${pct(medians.lib! / medians.rb1!)}`,
  );
  if (vsBare < 0.9 || vsServer < 0.7) process.exitCode = 1;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => redis.quit());
