/**
 * Rate limiter utilisation: how much of a token bucket's budget callers actually get, for the
 * in-process bucket (bottleneck reservoir) and the Redis bucket shared by two "processes"
 * (two limiters, two connections, lua/take-tokens-1.lua).
 *
 *   npx tsx bench/rate-limiter.ts [rounds=5] [roundMs=2000] [rate=50] [burst=10]
 *
 * The ceiling is measured in the same run: a token bucket allows at most burst + rate × elapsed
 * grants over the round's elapsed time. Each round prints grants / ceiling (the utilisation;
 * the sandbox backfills need ≥ 0.9) and fails loudly if any round got more than the ceiling.
 * A second line compares one take-tokens script call with a bare PING on the same connection
 * (the Redis round-trip ceiling), sequentially, to show what the script costs.
 */
import { Redis } from 'ioredis';
import { createRateLimiter, type RateLimiter } from '../src/adapters/resilience/rate-limiter.js';
import { takeTokensArgs } from '../src/adapters/resilience/redis-bucket.js';
import { runLuaScript, TAKE_TOKENS } from '../src/adapters/resilience/redis-scripts.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const ROUND_MS = Number(process.argv[3] ?? 2000);
const RATE = Number(process.argv[4] ?? 50);
const BURST = Number(process.argv[5] ?? 10);
const REDIS_URL = process.env.TRADECTL_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `bench:${process.pid}:`;

async function round(limiters: RateLimiter[]): Promise<{ grants: number; ceiling: number }> {
  let grants = 0;
  const started = Date.now();
  const worker = async (limiter: RateLimiter) => {
    while (Date.now() - started < ROUND_MS) {
      await limiter.schedule('getOrders', async () => {
        grants++;
      });
    }
  };
  await Promise.all(limiters.flatMap((limiter) => [worker(limiter), worker(limiter), worker(limiter)]));
  const elapsed = Date.now() - started;
  return { grants, ceiling: BURST + (RATE * elapsed) / 1000 };
}

function summary(name: string, ratios: number[]): void {
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const format = (value: number) => value.toFixed(3);
  console.log(
    `${name.padEnd(28)} utilisation min ${format(sorted[0]!)}  median ${format(median)}  max ${format(sorted.at(-1)!)}`,
  );
  if (sorted.at(-1)! > 1) {
    console.error(`${name}: MORE GRANTS THAN THE BUCKET ALLOWS`);
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  const connections = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
  try {
    const limits = { getOrders: { ratePerSecond: RATE, burst: BURST } };
    const backends: [string, (index: number) => RateLimiter[]][] = [
      ['in-process (bottleneck)', () => [createRateLimiter({ platform: 'bench', account: 'local', limits })]],
      [
        'redis, 2 processes (lua)',
        (index) =>
          connections.map((redis) =>
            createRateLimiter({
              platform: 'bench',
              account: `shared${index}`,
              limits,
              redis,
              keyPrefix: PREFIX,
            }),
          ),
      ],
    ];
    console.log(`rate ${RATE}/s, burst ${BURST}, ${ROUNDS} rounds of ${ROUND_MS} ms`);
    for (const [name, make] of backends) {
      const ratios: number[] = [];
      for (let index = 0; index < ROUNDS; index++) {
        const limiters = make(index);
        const { grants, ceiling } = await round(limiters);
        ratios.push(grants / ceiling);
        await Promise.all(limiters.map((limiter) => limiter.stop()));
      }
      summary(name, ratios);
    }

    const redis = connections[0]!;
    const key = `${PREFIX}script`;
    const limit = { ratePerSecond: 1e9, burst: 1e9 };
    const calls = 2000;
    const ratios: number[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      let started = performance.now();
      for (let i = 0; i < calls; i++) await redis.ping();
      const ping = performance.now() - started;
      started = performance.now();
      for (let i = 0; i < calls; i++)
        await runLuaScript(redis, TAKE_TOKENS, [key], takeTokensArgs(Date.now(), 1, limit));
      ratios.push((performance.now() - started) / ping);
    }
    const sorted = ratios.sort((a, b) => a - b);
    console.log(
      `take-tokens vs PING latency   ratio min ${sorted[0]!.toFixed(2)}  median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}  max ${sorted.at(-1)!.toFixed(2)}`,
    );
  } finally {
    const keys = await connections[0]!.keys(`${PREFIX}*`);
    if (keys.length > 0) await connections[0]!.del(...keys);
    await Promise.all(connections.map((redis) => redis.quit()));
  }
}

await main();
