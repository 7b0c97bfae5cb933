// The demo's stock step, before the worker starts: maps every sandbox account's listings to
// internal SKUs and gives each SKU its stock, so the orders the worker stores deduct real stock.
//
//   node scripts/demo-catalogue.mjs <sandbox-url> <units> <csv-file>
//
// Reads the SKUs each account sells from the running sandbox (GET /_sandbox/accounts, then
// GET /_sandbox/inventory per account), writes <csv-file> (one row per account and SKU: the seller
// SKU on the channel maps to the internal SKU of the same name), then runs
// `tradectl listings import <csv-file>` and `tradectl stock set <sku> <units>` for every SKU.
// They run through the built command tree (dist/) in this one Node process: the same commands
// as the binary, without a process start (about a second) per SKU. Config and servers come
// from the environment, as for the binary (TRADECTL_CONFIG, TRADECTL_MYSQL_URL, ...).
import { writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';

const [url, unitsArg, csvFile] = process.argv.slice(2);
if (!url || !unitsArg || !csvFile) {
  console.error('usage: node scripts/demo-catalogue.mjs <sandbox-url> <units> <csv-file>');
  process.exit(2);
}
const { runCli } = await import('../dist/src/cli/main.js');

async function get(path) {
  const response = await fetch(`${url}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

const { accounts } = await get('/_sandbox/accounts');
const rows = [];
const skus = new Set();
for (const { platform, account } of accounts) {
  const query = new URLSearchParams({ platform, account });
  const { inventory } = await get(`/_sandbox/inventory?${query}`);
  for (const sku of Object.keys(inventory).sort()) {
    rows.push([platform, account, sku, '', sku, 'default']);
    skus.add(sku);
  }
}
// Sandbox SKUs and account ids are plain tokens: no cell needs CSV quoting.
const csv = ['platform,account,channel_sku,listing_id,sku,tenant', ...rows.map((row) => row.join(','))];
await writeFile(csvFile, `${csv.join('\n')}\n`);

/** Runs one `tradectl` command in-process; its output is kept and shown only if it fails. */
async function tradectl(...argv) {
  let text = '';
  const sink = () =>
    new Writable({
      write(chunk, _encoding, callback) {
        text += chunk.toString();
        callback();
      },
    });
  const code = await runCli(argv, { stdout: sink(), stderr: sink(), env: process.env });
  if (code !== 0) {
    console.error(`tradectl ${argv.join(' ')} exited ${code}:\n${text}`);
    process.exit(1);
  }
  return text;
}

const imported = (await tradectl('listings', 'import', csvFile)).trim();
for (const sku of skus) await tradectl('stock', 'set', sku, unitsArg);
console.error(
  `tradectl listings import ${csvFile}: ${rows.length} listings of ${accounts.length} accounts (${imported})\n` +
    `tradectl stock set <sku> ${unitsArg}: ${skus.size} SKUs, ${unitsArg} units each`,
);
