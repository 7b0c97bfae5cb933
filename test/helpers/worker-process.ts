import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `tradectl <args>` as its own Node process, the way a container runs it: through tsx, or with
 * `built` the compiled dist/ (what the image runs; needs `npm run build`), whose memory is then
 * the product's own and not tsx's.
 */
export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** The next stdout line parsed as JSON (the worker's `--json` events); rejects if it exits first. */
  nextJson(): Promise<Record<string, unknown>>;
  /** Everything written to stderr so far (pino JSON lines and messages). */
  stderr(): string;
  /** stderr JSON lines whose `msg` matches. */
  logs(msg: RegExp): Record<string, unknown>[];
  signal(name: NodeJS.Signals): void;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { built?: boolean; nodeOptions?: readonly string[] } = {},
): CliProcess {
  const entry = options.built ? ['dist/bin/tradectl.js'] : ['--import', 'tsx', 'bin/tradectl.ts'];
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), ...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    async nextJson() {
      const { value, done } = await lines.next();
      if (done)
        throw new Error(`tradectl ${args.join(' ')} ended before printing a line:\n${stderr.slice(-4000)}`);
      return JSON.parse(value as string) as Record<string, unknown>;
    },
    stderr: () => stderr,
    logs: (msg) =>
      stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => msg.test(String(line.msg))),
    signal: (name) => {
      child.kill(name);
    },
    exited: () => exit,
  };
}

/** Prometheus text -> samples by metric name: `{ labels, value }`. */
export function parseMetrics(text: string): Map<string, { labels: Record<string, string>; value: number }[]> {
  const samples = new Map<string, { labels: Record<string, string>; value: number }[]>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    const list = samples.get(match[1]!) ?? [];
    list.push({ labels, value: Number(match[3]) });
    samples.set(match[1]!, list);
  }
  return samples;
}
