import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { localRedisPid } from './process-cpu.js';

/**
 * CPU affinity for a benchmark that wants the process under test on a core of its own, as a
 * production deployment gives it (a dedicated CPU, Redis and the callers elsewhere), while the
 * load generator and a local Redis share the other cores. On a small machine the scheduler
 * otherwise parks the server's event loop behind Redis or the generator for milliseconds at a
 * time, and those waits, not the server's work, decide the tail latency.
 *
 * Uses `taskset` (util-linux) on every thread of a process (`-a`); threads started later
 * inherit the mask of the thread that starts them.
 */
export interface CpuPlan {
  /** The CPU list of the process under test, e.g. "0". */
  server: string;
  /** The CPU list of everything else, e.g. "1" or "1-3". */
  others: string;
}

export function cpuPlan(): CpuPlan {
  const cpus = availableParallelism();
  if (cpus < 2) throw new Error(`pinning needs at least 2 CPUs; this machine has ${cpus}`);
  return { server: '0', others: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

/** The process's current CPU list, to restore it afterwards. */
export function cpuList(pid: number): string {
  const answer = execFileSync('taskset', ['-c', '-p', String(pid)], { encoding: 'utf8' });
  const list = /:\s*([\d,-]+)\s*$/.exec(answer)?.[1];
  if (!list) throw new Error(`cannot read the CPU list of pid ${pid} from taskset: ${answer.trim()}`);
  return list;
}

export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-c', '-p', cpus, String(pid)], { stdio: 'ignore' });
}

/** The command and arguments that start `command args` already pinned to `cpus`. */
export function pinnedCommand(cpus: string, command: string, args: string[]): [string, string[]] {
  return ['taskset', ['-c', cpus, command, ...args]];
}

/**
 * The pid of a Redis server on this machine, from its own INFO, checked against /proc so a
 * remote Redis (or one in another PID namespace) is refused rather than a stranger pinned.
 */
export function pinnableRedisPid(info: string, url: string): number {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new Error(
      `pinning moves Redis to the other cores, so it needs Redis on this machine; ${url} is not`,
    );
  }
  const pid = localRedisPid(info);
  if (pid === undefined) {
    const reported = /^process_id:(\d+)/m.exec(info)?.[1] ?? 'none';
    throw new Error(`Redis reports process_id ${reported}, which is not a redis process on this machine`);
  }
  return pid;
}

/**
 * Linux scheduling policies for a load generator that stands in for callers on other machines.
 * SCHED_BATCH keeps the process's fair share of CPU but never preempts a running task when it
 * wakes (an answer arriving for it), so the server under test is not interrupted mid-batch by
 * the load it is measured against; SCHED_OTHER is the default policy, every process's.
 */
export type LoadPolicy = 'batch' | 'other';

/** The command and arguments that start `command args` under `policy` (chrt, util-linux). */
export function withPolicy(policy: LoadPolicy, [command, args]: [string, string[]]): [string, string[]] {
  return policy === 'other' ? [command, args] : ['chrt', ['--batch', '0', command, ...args]];
}

/** Moves every thread of a running process to `policy`. */
export function setPolicy(pid: number, policy: LoadPolicy): void {
  const flag = policy === 'batch' ? '--batch' : '--other';
  execFileSync('chrt', ['--all-tasks', flag, '--pid', '0', String(pid)], { stdio: 'ignore' });
}
