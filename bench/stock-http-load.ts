/**
 * The load generator of bench/stock-http.ts, run as its own process so it does not share an event
 * loop (or a CPU's time slices) with the server it measures. Reads one phase per stdin line as
 * JSON, runs it over keep-alive connections of its own (see Connection), prints one JSON result line:
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
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

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
const target = new URL(origin);

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;

/**
 * One keep-alive HTTP/1.1 connection with one request in flight at a time (no pipelining, as a
 * browser or a service's HTTP client uses it). Requests are written as one string and answers
 * are parsed only as far as status and Content-Length: a general client (undici took ~40-70 µs of
 * CPU per request here) would spend the cores the server under test needs.
 */
class Connection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((status: number) => void) | undefined;
  private failed: ((error: Error) => void) | undefined;

  constructor() {
    this.socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.failed?.(error));
    this.socket.on('close', () => this.failed?.(new Error('connection closed')));
  }

  send(request: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.socket.write(request);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = this.buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headerEnd);
    const declared = CONTENT_LENGTH.exec(head)?.[1];
    if (declared === undefined) {
      // Fastify sizes every answer it sends; a chunked one would be misread, so the request and
      // this connection fail instead (each later request on it too: counted as failures).
      this.failed?.(new Error(`an answer without Content-Length: ${head.split('\r\n')[0]}`));
      this.socket.destroy();
      return;
    }
    const length = Number(declared);
    const total = headerEnd + HEADER_END.length + length;
    if (this.buffered.length < total) return;
    this.buffered = this.buffered.subarray(total);
    const status = Number(head.slice(9, 12));
    const resolve = this.waiting;
    this.waiting = undefined;
    this.failed = undefined;
    resolve?.(status);
  }

  close(): void {
    this.socket.end();
  }
}

/** Connections in use one request at a time; a request finding none free waits its turn. */
const idle: Connection[] = Array.from({ length: Number(connections) }, () => new Connection());
const queued: ((connection: Connection) => void)[] = [];

async function withConnection<T>(use: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = idle.pop() ?? (await new Promise<Connection>((resolve) => queued.push(resolve)));
  try {
    return await use(connection);
  } finally {
    const next = queued.shift();
    if (next) next(connection);
    else idle.push(connection);
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

function requestText(phase: Phase, i: number): string {
  let head = `${phase.method} ${phase.path} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  if (phase.token) head += `authorization: Bearer ${phase.token}\r\n`;
  if (phase.body === undefined) return `${head}\r\n`;
  head += `content-type: application/json\r\nidempotency-key: ${phase.keyPrefix}-${i}\r\n`;
  return `${head}content-length: ${Buffer.byteLength(phase.body)}\r\n\r\n${phase.body}`;
}

function send(phase: Phase, i: number): Promise<number> {
  return withConnection((connection) => connection.send(requestText(phase, i)));
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
for (const connection of idle) connection.close();
