/**
 * Memory soak (issue 4): one `tradectl worker` (built dist/, sync,sink,api) against a sandbox
 * that keeps generating orders and updates, for `--minutes`. Heap snapshots are written by the
 * worker itself (node --heapsnapshot-signal=SIGUSR2) after the backfill and a warm-up, half way,
 * and at the end; each snapshot collects garbage first, so what they hold is live. A structure
 * that only ever grows (a map per order, a cursor cache, listeners, timers) shows as growth
 * between them in the same constructor, run after run; a heap that only churns does not.
 *
 *   npm run build && npx tsx bench/worker-soak.ts [--minutes 10] [--updates 20] [--via kafka|inline]
 *        [--warmup-seconds 330]
 *
 * Verdict: the live heap at the end is within 5% (or 2 MiB) of the warm-up snapshot. Prints the
 * constructors that grew most, resident memory over time, and the orders synced meanwhile.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createWorld } from '../test/helpers/worker-fixture.js';
import { type HeapSummary, summarizeHeap, topGrowth } from './lib/heap-snapshot.js';
import {
  freshTopics,
  RssSampler,
  requireBuild,
  sleep,
  startBuiltWorker,
  stopWorker,
} from './lib/worker-run.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    updates: { type: 'string', default: '20' },
    via: { type: 'string', default: 'kafka' },
    // Longer than the longest lookback (Shopify 300 s): the handed-off versions, which are
    // bounded by the lookback, have filled by then; before it their growth is expected.
    'warmup-seconds': { type: 'string', default: '330' },
  },
});
const MINUTES = Number(args.minutes);
const MIB = 1024 * 1024;

async function main(): Promise<void> {
  requireBuild();
  const dir = await mkdtemp(join(tmpdir(), 'tradectl-soak-'));
  const world = await createWorld(
    args.via === 'inline' ? 'inline' : 'kafka',
    { seed: 61, ordersPerAccount: 1000, historyDays: 2 },
    { sync: { safetyLagSeconds: { shopify: 0, ebay: 0 } }, kafka: freshTopics() },
  );
  const rss = new RssSampler(1000);
  const worker = await startBuiltWorker(world, 'w', {
    nodeOptions: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`],
  });
  rss.watch('w', worker.pid);
  const snapshot = async (label: string): Promise<HeapSummary> => {
    const before = new Set(await readdir(dir));
    worker.process.signal('SIGUSR2');
    for (;;) {
      await sleep(1000);
      const added = (await readdir(dir)).filter(
        (name) => !before.has(name) && name.endsWith('.heapsnapshot'),
      );
      if (added.length > 0) {
        // The file grows while V8 writes it: read it once its size held still for 2 s.
        const file = join(dir, added[0]!);
        for (let last = -1, size = (await stat(file)).size; size !== last; ) {
          await sleep(2000);
          last = size;
          size = (await stat(file)).size;
        }
        const summary = await summarizeHeap(file);
        console.log(
          `${label}: live heap ${(summary.totalBytes / MIB).toFixed(1)} MiB in ${summary.nodes} objects; ` +
            `RSS ${rss.samples.at(-1)?.mb.toFixed(0)} MB; orders stored ${(await world.compare()).stored}`,
        );
        return summary;
      }
    }
  };
  try {
    await world.converge(300_000);
    world.sandbox.setUpdatesPerSecond(Number(args.updates));
    await sleep(Number(args['warmup-seconds']) * 1000);
    console.log(
      `soak: ${MINUTES} min, ${args.updates} changes/s, sync every 1 s; load ${loadavg()[0]!.toFixed(1)}`,
    );
    const first = await snapshot('after warm-up');
    await sleep((MINUTES * 60_000) / 2);
    const middle = await snapshot('half way');
    await sleep((MINUTES * 60_000) / 2);
    const last = await snapshot('end');
    for (const [label, from, to] of [
      ['warm-up -> half way', first, middle],
      ['half way -> end', middle, last],
    ] as const) {
      console.log(`largest growth ${label}:`);
      for (const row of topGrowth(from, to, 8)) {
        console.log(
          `  ${row.name.slice(0, 40).padEnd(42)}${String(row.count).padStart(9)} objects ${(row.bytes / 1024).toFixed(0).padStart(8)} KiB`,
        );
      }
    }
    const growth = last.totalBytes - first.totalBytes;
    const flat = growth <= Math.max(2 * MIB, first.totalBytes * 0.05);
    const rssValues = rss.samples.map((sample) => sample.mb);
    console.log(
      `live heap ${(first.totalBytes / MIB).toFixed(1)} -> ${(middle.totalBytes / MIB).toFixed(1)} -> ` +
        `${(last.totalBytes / MIB).toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${(growth / MIB).toFixed(2)} MiB): ` +
        `${flat ? 'no growth' : 'GROWS'}; RSS min ${Math.min(...rssValues).toFixed(0)} max ${Math.max(...rssValues).toFixed(0)} MB`,
    );
    world.sandbox.setUpdatesPerSecond(0);
    const stopped = await stopWorker(worker);
    console.log(`worker exit ${JSON.stringify(stopped.exit)}; load ${loadavg()[0]!.toFixed(1)}`);
    if (!flat) process.exitCode = 1;
  } finally {
    rss.stop();
    worker.process.signal('SIGKILL');
    await world.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
