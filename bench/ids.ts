/**
 * Snowflake id throughput: one generator on the real clock against the layout's cap of 4,096 ids
 * per millisecond (4,096,000/s), which no single worker id can exceed.
 *
 *   npx tsx bench/ids.ts [rounds=7] [roundMs=1000]
 *
 * Per round it also measures, in the same run, the best a capped generator can do on this
 * machine right now: a bare loop that reads Date.now() and counts the sequence, with no id
 * formatting (the "clock-bound ceiling"; CPU contention lowers it, and ours with it). Every id is
 * checked to be strictly greater than the one before (so all are unique, across rounds too), and
 * a 1-in-64 sample of each round goes through a Set after the round (a Set growing inside the
 * timed loop would measure its rehashing). Two alternatives are measured for reference: formatting each id with
 * BigInt#toString, and our formatting with the cap lifted (a virtual clock), i.e. the headroom.
 */
import { availableParallelism, loadavg } from 'node:os';
import {
  DEFAULT_SNOWFLAKE_EPOCH_MS,
  IDS_PER_MS,
  MAX_SEQUENCE,
  parseSnowflake,
  SnowflakeGenerator,
} from '../src/core/snowflake.js';

const ROUNDS = Number(process.argv[2] ?? 7);
const ROUND_MS = Number(process.argv[3] ?? 1000);
const CAP_PER_S = IDS_PER_MS * 1000;
const TARGET_RATIO = 0.85;
const SAMPLE_EVERY = 64;
const WORKER_ID = 421;

interface RoundResult {
  perSecond: number;
  ids: number;
}

// Compare decimal ids as numbers without parsing: a longer string is a larger number.
function greater(a: string, b: string): boolean {
  return a.length > b.length || (a.length === b.length && a > b);
}

let previous = '';
let notIncreasing = 0;
let sampled = 0;
let duplicatesInSamples = 0;
const sample: string[] = [];

function runOurs(generator: SnowflakeGenerator, ms: number): RoundResult {
  sample.length = 0;
  let ids = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 4096; i++) {
      const id = generator.next();
      if (!greater(id, previous)) notIncreasing++;
      previous = id;
      if ((i & (SAMPLE_EVERY - 1)) === 0) sample.push(id);
    }
    ids += 4096;
    elapsed = performance.now() - start;
  }
  sampled += sample.length;
  duplicatesInSamples += sample.length - new Set(sample).size;
  return { perSecond: (ids / elapsed) * 1000, ids };
}

// The cap enforced with nothing else: what any generator on this clock can reach at best.
function runClockBound(ms: number): RoundResult {
  let ids = 0;
  let last = -1;
  let sequence = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 4096; i++) {
      let now = Date.now();
      if (now > last) {
        last = now;
        sequence = 0;
      } else if (sequence < MAX_SEQUENCE) sequence++;
      else {
        do now = Date.now();
        while (now <= last);
        last = now;
        sequence = 0;
      }
    }
    ids += 4096;
    elapsed = performance.now() - start;
  }
  return { perSecond: (ids / elapsed) * 1000, ids };
}

function runBigIntFormatting(generator: SnowflakeGenerator, ms: number): RoundResult {
  let ids = 0;
  let last = '';
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 4096; i++) {
      const id = generator.nextBigInt().toString();
      if (!greater(id, last)) notIncreasing++;
      last = id;
    }
    ids += 4096;
    elapsed = performance.now() - start;
  }
  return { perSecond: (ids / elapsed) * 1000, ids };
}

// Our formatting with the cap lifted: the clock is still read (Date.now()) on every id, but a
// virtual millisecond advances as soon as its 4,096 ids are used up.
function runUncapped(ms: number): RoundResult {
  let virtual = Date.now();
  const generator = new SnowflakeGenerator({
    workerId: WORKER_ID,
    epochMs: DEFAULT_SNOWFLAKE_EPOCH_MS,
    clock: () => (Date.now() > 0 ? virtual : 0),
    sleep: (wait) => {
      virtual += wait;
    },
  });
  let ids = 0;
  let last = '';
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 4096; i++) {
      const id = generator.next();
      if (!greater(id, last)) notIncreasing++;
      last = id;
    }
    ids += 4096;
    elapsed = performance.now() - start;
  }
  return { perSecond: (ids / elapsed) * 1000, ids };
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! };
}

const mps = (perSecond: number) => `${(perSecond / 1e6).toFixed(3)}M/s`;
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

const generator = new SnowflakeGenerator({ workerId: WORKER_ID, epochMs: DEFAULT_SNOWFLAKE_EPOCH_MS });
// Warm-up, so the first round measures optimised code.
runOurs(generator, 200);
runClockBound(100);

// The cap is per wall-clock millisecond: any time the process is descheduled is lost for good,
// so the load of the machine is part of the result.
const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
console.log(
  `snowflake ids: ${ROUNDS} rounds of ${ROUND_MS} ms, layout cap ${mps(CAP_PER_S)} (4,096 ids/ms); ${load()}`,
);
console.log('round  ours          vs cap   clock-bound   ours/clock-bound');
const ours: number[] = [];
const bound: number[] = [];
let totalIds = 0;
for (let round = 1; round <= ROUNDS; round++) {
  const result = runOurs(generator, ROUND_MS);
  const ceiling = runClockBound(ROUND_MS / 2);
  ours.push(result.perSecond);
  bound.push(ceiling.perSecond);
  totalIds += result.ids;
  console.log(
    `${String(round).padStart(5)}  ${mps(result.perSecond).padEnd(12)}  ${pct(result.perSecond / CAP_PER_S).padStart(6)}` +
      `   ${mps(ceiling.perSecond).padEnd(12)}  ${pct(result.perSecond / ceiling.perSecond).padStart(6)}`,
  );
}

const bigint = [0, 1, 2].map(() => runBigIntFormatting(generator, ROUND_MS / 2).perSecond);
const uncapped = [0, 1, 2].map(() => runUncapped(ROUND_MS / 2).perSecond);

const o = stats(ours);
const b = stats(bound);
console.log('');
console.log(
  `ours          min ${mps(o.min)}  median ${mps(o.median)}  max ${mps(o.max)}` +
    `  = ${pct(o.min / CAP_PER_S)} / ${pct(o.median / CAP_PER_S)} / ${pct(o.max / CAP_PER_S)} of the cap`,
);
console.log(`clock-bound   min ${mps(b.min)}  median ${mps(b.median)}  max ${mps(b.max)}`);
console.log(`ours / clock-bound (median): ${pct(o.median / b.median)}`);
console.log(
  `reference: BigInt#toString per id (capped) median ${mps(stats(bigint).median)}; ` +
    `our formatting uncapped median ${mps(stats(uncapped).median)} = ${(stats(uncapped).median / CAP_PER_S).toFixed(1)}x the cap`,
);

const lastParts = parseSnowflake(previous);
console.log(
  `checked ${totalIds.toLocaleString('en-US')} ids (+ reference runs): ${notIncreasing} not strictly increasing; ` +
    `1-in-${SAMPLE_EVERY} samples (${sampled.toLocaleString('en-US')}) through a Set per round: ${duplicatesInSamples} duplicates; ` +
    `last id ${previous} = worker ${lastParts.workerId}, ${lastParts.timestamp}`,
);

console.log(`after the run: ${load()}`);
const met = o.median / CAP_PER_S >= TARGET_RATIO;
console.log(`target >= ${pct(TARGET_RATIO)} of the cap: ${met ? 'met' : 'NOT met'}`);
if (notIncreasing > 0 || duplicatesInSamples > 0 || lastParts.workerId !== WORKER_ID || !met)
  process.exitCode = 1;
