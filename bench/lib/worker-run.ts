import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { World } from '../../test/helpers/worker-fixture.js';
import { type CliProcess, startCli } from '../../test/helpers/worker-process.js';

/**
 * `tradectl worker` processes for the worker benchmarks, run from the compiled dist/ with the
 * container's Node options, as the image runs it (so their memory is the product's, not tsx's),
 * plus a resident-memory sampler reading /proc.
 */
const BUILT = fileURLToPath(new URL('../../dist/bin/tradectl.js', import.meta.url));

export interface RunningWorker {
  name: string;
  process: CliProcess;
  api: string;
  pid: number;
}

/**
 * The `kafka` config keys of a fresh orders topic with 12 partitions (and its DLQ topic). The
 * mock broker cannot create topics over the protocol and would auto-create them with 4
 * partitions; the services script creates them as configured.
 */
export function freshTopics(): {
  ordersTopic: string;
  dlqTopic: string;
  partitionsConsumedConcurrently: number;
} {
  const run = randomBytes(4).toString('hex');
  const ordersTopic = `tradectl.bench.${run}.orders`;
  const dlqTopic = `tradectl.bench.${run}.dlq`;
  const services = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
  execFileSync('bash', [services, 'topic', `${ordersTopic}:12`, `${dlqTopic}:3`], { stdio: 'ignore' });
  return { ordersTopic, dlqTopic, partitionsConsumedConcurrently: 16 };
}

/**
 * The Node options the container runs the worker with (the Dockerfile's NODE_OPTIONS, read from
 * it so the benchmarks cannot drift from the image), e.g. its V8 heap cap.
 */
export function containerNodeOptions(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  const value = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1];
  if (value === undefined) throw new Error('the Dockerfile sets no NODE_OPTIONS="..."');
  return value.split(/\s+/).filter(Boolean);
}

export function requireBuild(): void {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run "npm run build" first`);
}

export async function startBuiltWorker(
  world: World,
  name: string,
  options: { roles?: string; nodeOptions?: readonly string[] } = {},
): Promise<RunningWorker> {
  const roles = options.roles ?? 'sync,sink,api';
  const process = startCli(['worker', '--config', world.file, '--roles', roles, '--json'], world.env, {
    built: true,
    nodeOptions: [...containerNodeOptions(), ...(options.nodeOptions ?? [])],
  });
  const started = await process.nextJson();
  if (started.event !== 'started') throw new Error(`worker ${name} printed ${JSON.stringify(started)}`);
  return { name, process, api: String(started.api), pid: process.child.pid! };
}

/** SIGTERM and the worker's `stopped` event (its exit code and sink totals). */
export async function stopWorker(worker: RunningWorker): Promise<Record<string, unknown>> {
  worker.process.signal('SIGTERM');
  const exit = await worker.process.exited();
  const stopped = await worker.process.nextJson().catch(() => ({}));
  return { exit, ...stopped };
}

/** Resident memory of processes, sampled every `everyMs`: the peak per name and over time. */
export class RssSampler {
  readonly #pids = new Map<string, number>();
  readonly peakByName = new Map<string, number>();
  readonly samples: { at: number; name: string; mb: number }[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #began = performance.now();

  constructor(everyMs = 250) {
    this.#timer = setInterval(() => void this.#sample(), everyMs);
  }

  watch(name: string, pid: number): void {
    this.#pids.set(name, pid);
  }

  forget(name: string): void {
    this.#pids.delete(name);
  }

  peakMb(): number {
    return Math.max(0, ...this.peakByName.values());
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #sample(): Promise<void> {
    for (const [name, pid] of this.#pids) {
      const mb = await rssMb(pid);
      if (mb === null) continue;
      this.samples.push({ at: performance.now() - this.#began, name, mb });
      this.peakByName.set(name, Math.max(this.peakByName.get(name) ?? 0, mb));
    }
  }
}

export async function rssMb(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null; // exited
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
