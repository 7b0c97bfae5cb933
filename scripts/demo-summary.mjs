// The demo's final table, from the `stopped` event of `tradectl worker --json` (the JSON lines
// it printed on stdout): per platform and account the orders (fetched, stored new or updated,
// sent to the dead letter queue as unreadable), the requests it took, how often the platform
// throttled, the retries, the breaker trips and the stock deducted (order lines, units), then a
// total.
// The worker's own table (`tradectl worker` without --json) has every column; this one keeps
// what a first look needs, narrow enough for a terminal.
//
//   node scripts/demo-summary.mjs <worker-stdout-file>
import { readFile } from 'node:fs/promises';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/demo-summary.mjs <worker-stdout-file>');
  process.exit(2);
}
const { processIo, writeTable } = await import('../dist/src/cli/output.js');

const events = (await readFile(file, 'utf8'))
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line));
const stopped = events.find((event) => event.event === 'stopped');
if (!stopped) {
  console.error(`${file} has no "stopped" event: the worker did not stop cleanly (see its log)`);
  process.exit(1);
}

const columns = [
  ['platform', (row) => row.platform],
  ['account', (row) => row.account],
  ['orders', (row) => row.fetched],
  ['new', (row) => row.new],
  ['updated', (row) => row.updated],
  ['to dlq', (row) => row.rejected],
  ['requests', (row) => row.requests],
  ['throttled', (row) => row.throttled],
  ['retries', (row) => row.retries],
  ['breaker trips', (row) => row.breakerTrips],
  ['stock lines', (row) => (row.stock ? row.stock.deducted + row.stock.oversold : null)],
  ['stock units', (row) => row.stock?.unitsDeducted ?? null],
];
const rows = stopped.accounts.map((row) => columns.map(([, cell]) => cell(row)));
const total = columns.map((_, index) =>
  index === 0 ? 'total' : index === 1 ? '' : rows.reduce((sum, row) => sum + (row[index] ?? 0), 0),
);
writeTable(
  processIo(),
  columns.map(([name]) => name),
  [...rows, total].map((row) => row.map((cell) => cell ?? '-')),
);
