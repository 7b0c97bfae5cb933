/**
 * The stock HTTP API's latency at a target rate and its capacity, against the real Redis:
 *
 *   - POST /v1/stock/deduct, open loop (requests on a fixed schedule, whatever the answers do) at
 *     the target rate and at a quarter and half of it: the goal is p99 under 5 ms at 10k/s;
 *   - GET /healthz, open loop at the same rates: the ceiling of the HTTP stack alone (fastify,
 *     keep-alive connections, the load generator), no auth, no Redis;
 *   - both closed loop, 64 in flight: the most each answers (deduct's capacity as a share of it).
 *
 * The API server runs in this process (createHttpApi over a StockService on a client of its own,
 * as the worker's api role builds it: WorkerContext.stockApiRedis); the load comes from a
 * child process (bench/stock-http-load.ts: 64 keep-alive connections on raw sockets), so the two do not
 * share an event loop. Every deduct is a new Idempotency-Key, one unit from a stock of 10^12; the
 * stock is checked after each deduct phase. Also printed: CPU time per request of the server and
 * of the generator (what the machine's load cannot inflate much), and the load average per round.
 *
 * Each round line also counts the AOF rewrites Redis started during the phase: a rewrite forks
 * a child that writes the whole dataset, and on a small machine it takes CPU from the rest; and
 * Redis's own CPU per request (from /proc, when Redis runs on this machine), the third process
 * sharing the machine.
 *
 * The API's Redis connection lingers as the worker's does (api.redisLingerMs, default 1 ms: once
 * Redis is slow to answer, commands share writes; src/core/redis-linger.ts). Each round also runs the
 * top rate against a second API on a connection that does not linger, right after the first, so
 * the two are compared under the same machine load.
 *
 * The generator runs under Linux's SCHED_BATCH policy (chrt): it keeps its fair share of the CPU
 * but does not preempt the server when an answer wakes it, as callers on other machines could not.
 * On two shared cores its wake-ups otherwise cut into the server's batches (measured: the server
 * preempted 1,300-4,500 times per 4-s phase against 500-740). Each round also runs the top rate
 * with the generator moved back to the default policy (SCHED_OTHER), right after, so both are
 * reported; BENCH_GEN_BATCH=0 runs everything at the default policy instead.
 *
 * Before the rounds and after each, with nothing of the bench running, one spinning thread per CPU measures
 * what the machine itself takes (bench/lib/host-stalls.ts): on a VM with busy neighbours a thread
 * that never sleeps still loses milliseconds at a time, and no answer can be faster than that.
 *
 * BENCH_PIN=1 gives the API server CPU 0 to itself and puts the generator and the (local) Redis on
 * the other CPUs, as a deployment gives the API role a dedicated core (docs/stock-http.md); Redis's
 * own CPU list is restored at the end. Unpinned, on two cores the scheduler often parks the
 * server's event loop for milliseconds behind Redis or the generator.
 *
 *   npx tsx bench/stock-http.ts [rounds=5] [seconds=4] [rate=10000]
 *   env TRADECTL_REDIS_URL, BENCH_REDIS_DB (14; must be empty, flushed before each phase),
 *       BENCH_AUTO_PIPELINE (0; 1 runs the API on an auto-pipelined client, for comparison),
 *       BENCH_LINGER_MS (1, as api.redisLingerMs; 0 leaves out the comparison phase),
 *       BENCH_PIN (0; 1 pins as above: Linux, taskset, 2+ CPUs, Redis on this machine),
 *       BENCH_GEN_BATCH (1: the generator under SCHED_BATCH, as above; 0: the default policy)
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { silentLogger } from '../src/core/logger.js';
import { lingerWrites } from '../src/core/redis-linger.js';
import { Secret } from '../src/core/secret.js';
import { StockService } from '../src/core/stock/stock-service.js';
import { createHttpApi } from '../src/workers/http-api.js';
import {
  type CpuPlan,
  cpuList,
  cpuPlan,
  type LoadPolicy,
  pinnableRedisPid,
  pinnedCommand,
  pinProcess,
  setPolicy,
  withPolicy,
} from './lib/cpu-pinning.js';
import {
  describeHostStalls,
  type HostStalls,
  measureHostStalls,
  summarizeHostStalls,
} from './lib/host-stalls.js';
import { ServerCpu } from './lib/process-cpu.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const SECONDS = Number(process.argv[3] ?? 4);
const RATE = Number(process.argv[4] ?? 10_000);
const RATES = [RATE / 4, RATE / 2, RATE].map(Math.round);
const IN_FLIGHT = 64;
const CONNECTIONS = 64;
const REDIS_URL = process.env.TRADECTL_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB = Number(process.env.BENCH_REDIS_DB ?? 14);
const PREFIX = 'bench-http:';
const SKU = 'H1';
const STOCK = 1_000_000_000_000;
const TOKEN = 'bench-token-0123456789abcdef';
const GOAL_P99_MS = 5;

interface Result {
  requests: number;
  failures: number;
  statuses: Record<string, number>;
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  lagP99: number;
  clientCpuUs: number;
  /** CPU time of the server process (this one) per request, µs. */
  serverCpuUs: number;
  /** The share of serverCpuUs spent in the kernel (system calls, loopback TCP). */
  serverSystemShare: number;
  /** CPU time of the Redis server per request, µs (/proc: all its threads; NaN if not local). */
  redisCpuUs: number;
  /** AOF rewrites Redis started while the phase ran. */
  aofRewrites: number;
  /** The server's garbage-collection pauses during the phase: every request in flight waits them out. */
  gcPauses: { count: number; totalMs: number; maxMs: number };
}

const gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push(entry.duration);
}).observe({ entryTypes: ['gc'] });

const AUTO_PIPELINE = process.env.BENCH_AUTO_PIPELINE === '1';
const PIN = process.env.BENCH_PIN === '1';
const LINGER_MS = Number(process.env.BENCH_LINGER_MS ?? 1);
const GEN_POLICY: LoadPolicy = process.env.BENCH_GEN_BATCH === '0' ? 'other' : 'batch';

/** An API over a StockService on a Redis client of its own, as the worker's api role builds it. */
function apiStack(lingerMs: number) {
  const redis = new Redis(REDIS_URL, { db: DB, enableAutoPipelining: AUTO_PIPELINE });
  lingerWrites(redis, lingerMs);
  const service = new StockService({ redis, keyPrefix: PREFIX, operationTtlMs: 600_000 });
  const api = createHttpApi({
    logger: silentLogger(),
    stock: service,
    readiness: async () => ({ ok: true, checks: {} }),
    metricsRegistry: new Registry(),
    authTokens: [new Secret(TOKEN)],
  });
  return { redis, service, api };
}

const { redis, service, api } = apiStack(LINGER_MS);
/** The same API on a connection that does not linger: the comparison phase's. */
const plain = LINGER_MS > 0 ? apiStack(0) : undefined;

async function reset(): Promise<void> {
  await redis.flushdb();
  await service.set({ operationId: `stock-${Date.now()}`, sku: SKU, expectedVersion: 0, available: STOCK });
}

async function aofRewrites(): Promise<number> {
  return Number(/^aof_rewrites:(\d+)/m.exec(await redis.info('persistence'))?.[1] ?? Number.NaN);
}

function startLoad(url: string, cpus: CpuPlan | undefined, redisCpu: ServerCpu) {
  const file = fileURLToPath(new URL('./stock-http-load.ts', import.meta.url));
  const args = ['--single-threaded', '--import', 'tsx', file, url, String(CONNECTIONS)];
  const [command, commandArgs] = withPolicy(
    GEN_POLICY,
    cpus ? pinnedCommand(cpus.others, process.execPath, args) : [process.execPath, args],
  );
  const child = spawn(command, commandArgs, {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the load generator exited');
    return value as string;
  };
  const pid = child.pid;
  if (pid === undefined) throw new Error('the load generator did not start');
  return {
    ready: next,
    /** Runs one phase; `policy` moves the generator to another scheduling policy for it alone. */
    async run(phase: Record<string, unknown>, policy = GEN_POLICY): Promise<Result> {
      if (policy !== GEN_POLICY) setPolicy(pid, policy);
      try {
        return await measure(phase);
      } finally {
        if (policy !== GEN_POLICY) setPolicy(pid, GEN_POLICY);
      }
    },
    stop() {
      child.stdin.write('exit\n');
    },
  };

  async function measure(phase: Record<string, unknown>): Promise<Result> {
    const rewrites = await aofRewrites();
    const redisBefore = redisCpu.snapshot();
    gcPauses.length = 0;
    const cpu = process.cpuUsage();
    child.stdin.write(`${JSON.stringify(phase)}\n`);
    const result = JSON.parse(await next()) as Result;
    const used = process.cpuUsage(cpu);
    const requests = Math.max(1, result.requests);
    result.serverCpuUs = (used.user + used.system) / requests;
    result.serverSystemShare = used.system / Math.max(1, used.user + used.system);
    // NaN when Redis is not on this machine.
    result.redisCpuUs = ((redisCpu.since(redisBefore).get('Redis') ?? Number.NaN) * 1000) / requests;
    result.aofRewrites = (await aofRewrites()) - rewrites;
    result.gcPauses = {
      count: gcPauses.length,
      totalMs: gcPauses.reduce((sum, ms) => sum + ms, 0),
      maxMs: Math.max(0, ...gcPauses),
    };
    return result;
  }
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! };
}

const rps = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`.padStart(9);
const ms = (value: number) => `${value.toFixed(2)} ms`.padStart(10);
const us = (value: number) => `${value.toFixed(0)} µs`.padStart(7);
const pct = (share: number) => `${(share * 100).toFixed(0)}%`.padStart(5);
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const nonOk = (result: Result) =>
  result.failures +
  Object.entries(result.statuses).reduce((sum, [status, n]) => (status.startsWith('2') ? sum : sum + n), 0);

async function main(): Promise<void> {
  const size = await redis.dbsize();
  if (size > 0) {
    throw new Error(`Redis db ${DB} is not empty (${size} keys): set BENCH_REDIS_DB to an unused database`);
  }
  const stallsBefore = describeHostStalls(await measureHostStalls());
  const [, aof] = (await redis.config('GET', 'appendonly')) as [string, string];
  const [, fsync] = (await redis.config('GET', 'appendfsync')) as [string, string];
  const cpus = PIN ? cpuPlan() : undefined;
  if (cpus) {
    const redisPid = pinnableRedisPid(await redis.info('server'), REDIS_URL);
    const redisCpus = cpuList(redisPid);
    restoreRedisCpus = () => pinProcess(redisPid, redisCpus);
    pinProcess(process.pid, cpus.server);
    pinProcess(redisPid, cpus.others);
  }
  const redisCpu = await ServerCpu.ofRedis(redis);
  const loader = startLoad((await api.listen(0, '127.0.0.1')).url, cpus, redisCpu);
  await loader.ready();
  const plainLoader = plain
    ? startLoad((await plain.api.listen(0, '127.0.0.1')).url, cpus, redisCpu)
    : undefined;
  await plainLoader?.ready();
  console.log(
    `stock HTTP API, ${ROUNDS} rounds x ${SECONDS} s per phase; open loop at ${RATES.join(', ')}/s, closed loop ` +
      `${IN_FLIGHT} in flight; ${CONNECTIONS} keep-alive connections; Redis db ${DB} appendonly ${aof} ` +
      `appendfsync ${fsync}, auto-pipelining ${AUTO_PIPELINE ? 'on' : 'off'}, linger ${LINGER_MS} ms; ` +
      (cpus ? `API on CPU ${cpus.server}, generator and Redis on CPU ${cpus.others}` : 'not pinned') +
      `; generator ${GEN_POLICY === 'batch' ? 'SCHED_BATCH' : 'SCHED_OTHER'}` +
      `; load average ${load()}`,
  );
  const deduct = {
    path: '/v1/stock/deduct',
    method: 'POST',
    token: TOKEN,
    body: JSON.stringify({ lines: [{ sku: SKU, quantity: 1 }] }),
  };
  const health = { path: '/healthz', method: 'GET' };
  const topRate = { spec: { ...deduct, mode: 'open', rate: RATE } };
  const phases: {
    key: string;
    label: string;
    spec: Record<string, unknown>;
    on?: typeof loader;
    policy?: LoadPolicy;
  }[] = [
    ...RATES.flatMap((rate) => [
      { key: `health@${rate}`, label: `healthz @${rate}/s`, spec: { ...health, mode: 'open', rate } },
      { key: `deduct@${rate}`, label: `deduct @${rate}/s`, spec: { ...deduct, mode: 'open', rate } },
    ]),
    // The same rounds' comparisons at the top rate: one thing changed against `deduct@${RATE}`.
    ...(plainLoader
      ? [{ ...topRate, key: 'deduct-plain', label: `  no linger @${RATE}`, on: plainLoader }]
      : []),
    ...(GEN_POLICY === 'batch'
      ? [{ ...topRate, key: 'deduct-other', label: `  gen other @${RATE}`, policy: 'other' as const }]
      : []),
    { key: 'health-max', label: 'healthz, closed', spec: { ...health, mode: 'closed', inFlight: IN_FLIGHT } },
    { key: 'deduct-max', label: 'deduct, closed', spec: { ...deduct, mode: 'closed', inFlight: IN_FLIGHT } },
  ];
  // Warm-up: JIT on both sides, every connection open.
  await reset();
  for (const warming of [loader, plainLoader]) {
    await warming?.run({ ...deduct, mode: 'closed', inFlight: IN_FLIGHT, seconds: 2, keyPrefix: 'warm' });
  }
  await loader.run({ ...health, mode: 'closed', inFlight: IN_FLIGHT, seconds: 1, keyPrefix: 'warm' });

  const results = new Map<string, Result[]>(phases.map((phase) => [phase.key, []]));
  const loads: string[] = [];
  /** What a spinning thread per CPU lost after each round, with the bench idle (host-stalls.ts). */
  const stalls: HostStalls[][] = [];
  console.log(
    'round  phase                    rps        p50        p99      p99.9        max  gen lag p99  non-2xx  CPU/req server (sys) redis client  AOF rewrites  server GC n/total/max',
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const phase of phases) {
      await reset();
      const result = await (phase.on ?? loader).run(
        { ...phase.spec, seconds: SECONDS, keyPrefix: `r${round}-${phase.key}` },
        phase.policy,
      );
      results.get(phase.key)!.push(result);
      console.log(
        `${String(round).padStart(5)}  ${phase.label.padEnd(19)} ${rps(result.rps)} ${ms(result.p50)} ${ms(result.p99)} ` +
          `${ms(result.p999)} ${ms(result.max)}   ${ms(result.lagP99)}  ${String(nonOk(result)).padStart(7)}  ` +
          `        ${us(result.serverCpuUs)} ${pct(result.serverSystemShare)} ${us(result.redisCpuUs)} ` +
          `${us(result.clientCpuUs)}  ${String(result.aofRewrites).padStart(12)}  ` +
          `${String(result.gcPauses.count).padStart(4)} ${ms(result.gcPauses.totalMs)} ${ms(result.gcPauses.maxMs)}`,
      );
      if (phase.key.startsWith('deduct')) {
        const level = await service.get({ sku: SKU });
        const sold = result.statuses['200'] ?? 0;
        if (!level || level.available !== STOCK - sold) {
          throw new Error(`stock is ${level?.available} after ${sold} sales`);
        }
      }
    }
    loads.push(load());
    stalls.push(await measureHostStalls(2));
    console.log(
      `       after round ${round}: load average ${loads.at(-1)}; the machine's own stalls ${describeHostStalls(stalls.at(-1)!)}`,
    );
  }
  loader.stop();
  plainLoader?.stop();
  await redis.flushdb();

  console.log('');
  console.log(
    'phase                 min rps  median rps    max rps  median p50  median p99     min p99     max p99  server µs/req  redis µs/req',
  );
  const median = (key: string, pick: (result: Result) => number) => stats(results.get(key)!.map(pick)).median;
  for (const phase of phases) {
    const rate = stats(results.get(phase.key)!.map((r) => r.rps));
    const p99 = stats(results.get(phase.key)!.map((r) => r.p99));
    console.log(
      `${phase.label.padEnd(19)} ${rps(rate.min)}  ${rps(rate.median)}  ${rps(rate.max)} ` +
        `${ms(median(phase.key, (r) => r.p50))}  ${ms(p99.median)}  ${ms(p99.min)}  ${ms(p99.max)}  ` +
        `${us(median(phase.key, (r) => r.serverCpuUs))}       ${us(median(phase.key, (r) => r.redisCpuUs))}`,
    );
  }
  const goal = stats(results.get(`deduct@${RATE}`)!.map((r) => r.p99));
  const ceiling = median(`health@${RATE}`, (r) => r.p99);
  const capacity = median('deduct-max', (r) => r.rps) / median('health-max', (r) => r.rps);
  const cpu = median('deduct-max', (r) => r.serverCpuUs);
  console.log('');
  console.log(
    `deduct p99 at ${RATE.toLocaleString('en-US')}/s: median ${goal.median.toFixed(2)} ms (min ${goal.min.toFixed(2)}, ` +
      `max ${goal.max.toFixed(2)}); /healthz at the same rate ${ceiling.toFixed(2)} ms ` +
      `(ratio ${(goal.median / ceiling).toFixed(2)}); goal < ${GOAL_P99_MS} ms: ${goal.median < GOAL_P99_MS ? 'met' : 'NOT met'}` +
      (cpus ? ` (API on a CPU of its own)` : ' (not pinned)'),
  );
  const compared = (key: string, what: string, winner: string) => {
    const other = results.get(key);
    if (!other) return;
    const p99 = stats(other.map((r) => r.p99));
    const paired = results.get(`deduct@${RATE}`)!.filter((r, i) => r.p99 < other[i]!.p99).length;
    console.log(
      `the same rate ${what}: p99 median ${p99.median.toFixed(2)} ms (min ${p99.min.toFixed(2)}, max ` +
        `${p99.max.toFixed(2)}), p50 median ${median(key, (r) => r.p50).toFixed(2)} ms; ` +
        `${winner} had the lower p99 in ${paired} of ${ROUNDS} rounds`,
    );
  };
  compared('deduct-plain', 'on a connection that does not linger', 'the lingering one');
  compared(
    'deduct-other',
    'with the generator at the default policy (SCHED_OTHER)',
    'the one under SCHED_BATCH',
  );
  const withRewrite = results.get(`deduct@${RATE}`)!.filter((r) => r.aofRewrites > 0);
  console.log(
    `rounds at ${RATE.toLocaleString('en-US')}/s during which Redis started an AOF rewrite: ${withRewrite.length} of ${ROUNDS}` +
      (withRewrite.length > 0
        ? ` (their p99: ${withRewrite.map((r) => r.p99.toFixed(2)).join(', ')} ms)`
        : ''),
  );
  console.log(
    `deduct capacity, closed loop: ${Math.round(median('deduct-max', (r) => r.rps)).toLocaleString('en-US')}/s, ` +
      `${(capacity * 100).toFixed(1)}% of /healthz's; server CPU ${cpu.toFixed(0)} µs per deduct ` +
      `(one idle core: ~${Math.round(1e6 / cpu).toLocaleString('en-US')}/s)`,
  );
  console.log(`load average (1, 5, 15 min) after each round: ${loads.join(' | ')}`);
  console.log(
    `the machine's own stalls (a spinning thread per CPU, the bench idle), before the rounds: ${stallsBefore}; ` +
      `after each round (CPUs split by /): ${summarizeHostStalls(stalls)}`,
  );
  if (goal.median >= GOAL_P99_MS) process.exitCode = 1;
}

let restoreRedisCpus: (() => void) | undefined;

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    restoreRedisCpus?.();
    await api.close();
    await redis.quit();
    await plain?.api.close();
    await plain?.redis.quit();
  });
