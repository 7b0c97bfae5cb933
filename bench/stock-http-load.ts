/**
 * The load generator of bench/stock-http.ts, run as its own process so it does not share an event
 * loop (or a CPU's time slices) with the server it measures. Reads one phase per stdin line as
 * JSON, runs it through an undici Pool of keep-alive connections, prints one JSON result line:
 *
 *   { mode: 'open', rate, seconds, ... }    requests issued on a fixed schedule whatever the
 *                                           answers do (open loop): a slow server makes requests
 *                                           queue, and their wait counts in their latency;
 *   { mode: 'closed', inFlight, seconds }   `inFlight` loops sending back to back: capacity.
 *
 * Latency runs from the moment a request is handed to the pool to its last body byte. `lagP99`
 * says how late the generator itself issued requests against their schedule (its timers run at
 * 1 ms granularity): if it is large the generator, not the server, fell behind.
 */
import { createInterface } from 'node:readline';
import { Pool } from 'undici';

interface Phase {
  mode: 'open' | 'closed';
  path: string;
  method: 'GET' | 'POST';
  /** JSON body, the same for every request; each gets its own Idempotency-Key. */
  body?: string;
  token?: string;
  keyPrefix: string;
  seconds: number;
  rate?: number;
  inFlight?: number;
}

const [origin = 'http://127.0.0.1:8080', connections = '64'] = process.argv.slice(2);
const pool = new Pool(origin, { connections: Number(connections), pipelining: 1, keepAliveTimeout: 60_000 });

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

async function send(phase: Phase, i: number): Promise<number> {
  const headers: Record<string, string> = {};
  if (phase.token) headers.authorization = `Bearer ${phase.token}`;
  if (phase.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['idempotency-key'] = `${phase.keyPrefix}-${i}`;
  }
  const response = await pool.request({
    origin,
    path: phase.path,
    method: phase.method,
    headers,
    body: phase.body,
  });
  await response.body.dump();
  return response.statusCode;
}

async function run(phase: Phase) {
  const capacity = Math.ceil((phase.rate ?? 50_000) * phase.seconds * 1.2) + 1000;
  const latencies = new Float64Array(capacity);
  const lags = new Float64Array(capacity);
  const statuses: Record<string, number> = {};
  let done = 0;
  let failures = 0;
  const record = async (i: number, lag: number) => {
    const issued = performance.now();
    try {
      const status = await send(phase, i);
      statuses[status] = (statuses[status] ?? 0) + 1;
    } catch {
      failures++;
    }
    if (done < capacity) {
      latencies[done] = performance.now() - issued;
      lags[done] = lag;
    }
    done++;
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  if (phase.mode === 'open') {
    const rate = phase.rate ?? 1000;
    const total = Math.round(rate * phase.seconds);
    const pending: Promise<void>[] = [];
    let issued = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - start) * rate) / 1000));
        while (issued < due) {
          const scheduled = start + (issued * 1000) / rate;
          pending.push(record(issued, now - scheduled));
          issued++;
        }
        if (issued < total) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    await Promise.all(pending);
  } else {
    const end = start + phase.seconds * 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: phase.inFlight ?? 50 }, async () => {
        while (performance.now() < end) await record(next++, 0);
      }),
    );
  }
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const count = Math.min(done, capacity);
  const sorted = latencies.subarray(0, count).sort();
  const lagSorted = lags.subarray(0, count).sort();
  return {
    mode: phase.mode,
    requests: done,
    failures,
    statuses,
    rps: (done / elapsed) * 1000,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted[count - 1] ?? Number.NaN,
    lagP99: percentile(lagSorted, 0.99),
    clientCpuUs: (used.user + used.system) / Math.max(1, done),
  };
}

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  if (line === 'exit') break;
  process.stdout.write(`${JSON.stringify(await run(JSON.parse(line) as Phase))}\n`);
}
lines.close();
await pool.close();
