// Waits until a running `tradectl worker` has caught up, reading only its /metrics:
//   every account finished at least one successful sync run (its checkpoint reached
//   "now minus the safety lag"), and the sink stored everything published (consumer lag 0; on
//   Kafka, in a lag sample taken after the last account caught up).
//
//   node scripts/wait-for-worker.mjs <api-url> <accounts> [timeout-seconds]
//
// Prints a progress line on stderr every few seconds; exit 0 when caught up, 1 on timeout.
const [url, accountsArg, timeoutArg = '600'] = process.argv.slice(2);
if (!url || !accountsArg) {
  console.error('usage: node scripts/wait-for-worker.mjs <api-url> <accounts> [timeout-seconds]');
  process.exit(2);
}
const accounts = Number(accountsArg);
const deadline = Date.now() + Number(timeoutArg) * 1000;

function samples(text, name) {
  const found = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    found.push({ labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return found;
}

let caughtUpAt = null;
let lastReport = 0;
for (;;) {
  let text = '';
  try {
    const response = await fetch(`${url}/metrics`);
    text = await response.text();
  } catch {
    // The worker is still starting: try again.
  }
  const ok = new Set(
    samples(text, 'tradectl_sync_runs_total')
      .filter((sample) => sample.labels.outcome === 'ok' && sample.value > 0)
      .map((sample) => `${sample.labels.platform}:${sample.labels.account}`),
  );
  if (ok.size >= accounts && caughtUpAt === null) caughtUpAt = Date.now();
  const lag = samples(text, 'tradectl_consumer_lag_messages').reduce((sum, sample) => sum + sample.value, 0);
  const sampled = samples(text, 'tradectl_consumer_lag_sampled_timestamp_seconds')[0];
  // Kafka lag is sampled periodically: only a sample newer than the last account's catch-up counts.
  const fresh = sampled === undefined || (caughtUpAt !== null && sampled.value * 1000 > caughtUpAt);
  if (caughtUpAt !== null && lag === 0 && fresh && text !== '') {
    console.error(`caught up: ${ok.size}/${accounts} accounts synced, nothing left for the sink`);
    process.exit(0);
  }
  if (Date.now() > deadline) {
    console.error(
      `not caught up after ${timeoutArg} s: ${ok.size}/${accounts} accounts synced, sink lag ${lag}`,
    );
    process.exit(1);
  }
  if (Date.now() - lastReport >= 5000) {
    lastReport = Date.now();
    console.error(`  ${ok.size}/${accounts} accounts synced, sink lag ${lag}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
