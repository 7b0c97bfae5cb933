import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Pool, RowDataPacket } from 'mysql2/promise';

/**
 * CPU time of the servers a benchmark talks to, when they run on this machine: a throughput
 * ratio says how far from the ceiling a contender is, the CPU each process spent on the same work
 * says where the difference went (the client, MariaDB or Redis) and whether two cores could have
 * done more. Read from /proc/<pid>/stat (every thread of the process, in clock ticks of 10 ms:
 * good to ~1% over a phase of a second or more).
 */
const TICK_MS = 10;

function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the command name (which may hold spaces, hence the last ')'): utime is the
  // 14th field of the line, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function alive(pid: number, name: RegExp): boolean {
  try {
    return name.test(readFileSync(`/proc/${pid}/comm`, 'latin1'));
  } catch {
    return false;
  }
}

/** The pid in a Redis server's INFO, if a redis process has that pid on this machine. */
export function localRedisPid(info: string): number | undefined {
  const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
  return Number.isInteger(pid) && alive(pid, /^redis/) ? pid : undefined;
}

export type CpuSnapshot = Map<string, number>;

export class ServerCpu {
  private constructor(private readonly pids: Map<string, number>) {}

  /**
   * The local MariaDB/MySQL behind `pool` (its pid file) and, if given, the local Redis (its
   * INFO). A server on another machine, or in a container, is left out rather than misread.
   */
  static async find(pool: Pool, redis?: Redis): Promise<ServerCpu> {
    const pids = new Map<string, number>();
    const [rows] = await pool.query<RowDataPacket[]>('SELECT @@pid_file AS pidFile');
    try {
      const pid = Number(readFileSync(String(rows[0]!.pidFile), 'latin1').trim());
      if (alive(pid, /^(mariadbd|mysqld)/)) pids.set('MariaDB', pid);
    } catch {
      // Not on this machine.
    }
    if (redis) {
      const pid = localRedisPid(await redis.info('server'));
      if (pid !== undefined) pids.set('Redis', pid);
    }
    return new ServerCpu(pids);
  }

  /** The local Redis behind `redis` alone (no database in the benchmark); remote: none. */
  static async ofRedis(redis: Redis): Promise<ServerCpu> {
    const pid = localRedisPid(await redis.info('server'));
    return new ServerCpu(new Map(pid === undefined ? [] : [['Redis', pid]]));
  }

  snapshot(): CpuSnapshot {
    return new Map([...this.pids].map(([name, pid]) => [name, processCpuMs(pid)]));
  }

  /** CPU ms each server spent since `start`. */
  since(start: CpuSnapshot): CpuSnapshot {
    const now = this.snapshot();
    return new Map([...now].map(([name, ms]) => [name, ms - (start.get(name) ?? ms)]));
  }
}

/** "cpu: client 1316 ms, MariaDB 812 ms, Redis 95 ms": what each process spent on a timed part. */
export function cpuText(result: { cpuMs: number; serverCpu: CpuSnapshot }): string {
  const servers = [...result.serverCpu].map(([name, ms]) => `, ${name} ${ms.toFixed(0)} ms`).join('');
  return `cpu: client ${result.cpuMs.toFixed(0)} ms${servers}`;
}
