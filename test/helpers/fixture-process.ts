import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A TypeScript fixture run as its own Node process (through tsx), talking by lines on stdio. */
export interface FixtureProcess {
  process: ChildProcessWithoutNullStreams;
  /** The next stdout line; rejects with the child's stderr if it exits first. */
  nextLine(): Promise<string>;
  send(line: string): void;
  /** Resolves with the exit code and signal. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startFixture(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): FixtureProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
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
  const iterator = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    process: child,
    async nextLine() {
      const { value, done } = await iterator.next();
      if (done) throw new Error(`fixture ${file} exited early: ${stderr}`);
      return value as string;
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    exited: () => exit,
  };
}
