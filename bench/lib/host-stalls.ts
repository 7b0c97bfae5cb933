import { execFile } from 'node:child_process';
import { cpus as machineCpus } from 'node:os';
import { promisify } from 'node:util';
import { pinnedCommand } from './cpu-pinning.js';

/**
 * What the machine itself takes from a thread that never sleeps: one spinning process per CPU,
 * all at once, each reading the clock in a tight loop; a gap of more than 0.1 ms between two reads
 * is time the thread did not run (the hypervisor ran another guest, the kernel ran something
 * else). On a VM with busy neighbours these stalls run to milliseconds, and no server on it can
 * answer faster than its CPU runs, so a latency goal is only as reachable as this floor allows.
 *
 * Measured with nothing of the bench running (the services idle), before the rounds and after each.
 */
export interface HostStalls {
  cpu: number;
  /** Time not run, ms per second of wall time. */
  lostMsPerSecond: number;
  /** Stalls of 1 ms or more. */
  overOneMs: number;
  longestMs: number;
}

// CommonJS on purpose (node -e): nothing to load, so the loop starts at once. In a function, so
// it is optimized; reading the clock still allocates, and the spinner's own scavenges (~40 µs,
// nearly everything dead) stay under the 0.1 ms that counts as a stall.
const SPINNER = `
function spin(ms) {
  const end = performance.now() + ms;
  let last = performance.now(), lost = 0, overOneMs = 0, longest = 0;
  while (last < end) {
    const now = performance.now();
    const gap = now - last;
    if (gap > 0.1) {
      lost += gap;
      if (gap >= 1) overOneMs++;
      if (gap > longest) longest = gap;
    }
    last = now;
  }
  return { lost, overOneMs, longest };
}
spin(300);
const seconds = Number(process.argv[1]);
const { lost, overOneMs, longest } = spin(seconds * 1000);
process.stdout.write(JSON.stringify({ lostMsPerSecond: lost / seconds, overOneMs, longestMs: longest }));
`;

const run = promisify(execFile);

/** Spins `seconds` on every CPU at once (pinned with taskset, one process each). */
export async function measureHostStalls(seconds = 3): Promise<HostStalls[]> {
  // Every CPU of the machine, not availableParallelism(): a pinned caller's affinity narrows that.
  const cpus = machineCpus().map((_, cpu) => cpu);
  return Promise.all(
    cpus.map(async (cpu) => {
      const { stdout } = await run(
        ...pinnedCommand(String(cpu), process.execPath, ['-e', SPINNER, String(seconds)]),
      );
      return { cpu, ...(JSON.parse(stdout) as Omit<HostStalls, 'cpu'>) };
    }),
  );
}

export function describeHostStalls(stalls: HostStalls[]): string {
  return stalls
    .map(
      (s) =>
        `CPU ${s.cpu} lost ${s.lostMsPerSecond.toFixed(1)} ms/s, ${s.overOneMs} stalls >= 1 ms, ` +
        `longest ${s.longestMs.toFixed(2)} ms`,
    )
    .join(' | ');
}

/** Several measurements on one line, CPUs separated by "/": "lost ms/s 4.1/7.9 24.8/19.1; ...". */
export function summarizeHostStalls(runs: HostStalls[][]): string {
  const perRun = (pick: (s: HostStalls) => string) => runs.map((run) => run.map(pick).join('/')).join(' ');
  const longest = Math.max(0, ...runs.flat().map((s) => s.longestMs));
  return (
    `lost ms/s ${perRun((s) => s.lostMsPerSecond.toFixed(1))}; ` +
    `stalls >= 1 ms ${perRun((s) => String(s.overOneMs))}; longest ${longest.toFixed(2)} ms`
  );
}
