#!/usr/bin/env bash
# The README's first command: the main job on one machine. Starts the local services
# (installing them on a fresh Debian machine), builds tradectl, creates the sharded layout,
# starts the marketplace sandbox with faults on, maps its listings to SKUs and gives them stock,
# runs the worker daemon (sync, sink, API and ledger roles; through Kafka when the local broker
# is up) until every sandbox account has caught up (read from its /metrics), stops it with
# SIGTERM, and prints per account what was synced, what it cost and the stock deducted.
# It never stops the local services: they keep running for the commands it suggests.
#
#   scripts/demo.sh                 # defaults: 2,000 orders per account, 5,000 units per SKU, faults on
#   DEMO_ORDERS=20000 DEMO_STOCK=50000 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

orders="${DEMO_ORDERS:-2000}"
stock="${DEMO_STOCK:-5000}"
port="${DEMO_SANDBOX_PORT:-8700}"
say() { printf '\n== %s\n' "$*" >&2; }

say "local services (MariaDB, Redis, Kafka-protocol broker)"
bash scripts/services.sh up >/dev/null
eval "$(bash scripts/services.sh env)"
export TRADECTL_MYSQL_URL TRADECTL_REDIS_URL TRADECTL_KAFKA_BROKERS

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund >&2
fi
say "build"
npm run --silent build >&2

tradectl() { node dist/bin/tradectl.js "$@"; }
# config/sandbox.yaml plus what the demo's worker needs: its API on loopback, and a short sync
# interval so an account whose first run hit the injected faults is retried within seconds.
api_port="${DEMO_API_PORT:-8701}"
mkdir -p .data
{
  cat config/sandbox.yaml
  printf '\napi:\n  host: 127.0.0.1\n  port: %s\nsync:\n  intervalSeconds: 10\n  jitterSeconds: 2\n' "$api_port"
} >.data/demo.yaml
export TRADECTL_CONFIG=.data/demo.yaml
export SANDBOX_SHOPIFY_TOKEN=shpat_sandbox_a
export TRADECTL_LOG_LEVEL="${TRADECTL_LOG_LEVEL:-warn}"

say "shard layout (16 databases x 256 tables; a second run creates nothing)"
tradectl shards init

say "sandbox: 3 platforms x 2 accounts, ${orders} orders each, faults on (5% 5xx, 5% 429, 1% dropped, 0.5% malformed)"
node dist/bin/tradectl.js sandbox --port "$port" --orders "$orders" \
  --faults 5xx=0.05,429=0.05,drop=0.01,malformed=0.005 --rate-scale amazon=400,shopify=20,ebay=20 >.data/demo-sandbox.log 2>&1 &
sandbox_pid=$!
worker_pid=
trap 'kill "$sandbox_pid" ${worker_pid:+"$worker_pid"} 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:${port}/_sandbox/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:${port}/_sandbox/health" >/dev/null || { cat .data/demo-sandbox.log >&2; exit 1; }

say "listings and stock: each account's sandbox SKUs mapped to internal SKUs, ${stock} units each"
# Every run sets the stock again; orders stored by an earlier run do not deduct twice.
node scripts/demo-catalogue.mjs "http://127.0.0.1:${port}" "$stock" .data/demo-listings.csv

bus="Kafka ${TRADECTL_KAFKA_BROKERS}"
[ -n "${TRADECTL_KAFKA_BROKERS}" ] || bus="the in-process bus"
say "worker: sync + sink + api + ledger roles through ${bus}, until every account has caught up (log: .data/demo-worker.log)"
# With --json the worker prints its start and its summary (the "stopped" event) as JSON lines on
# stdout, read back below for the table; its JSON log goes to the log file.
TRADECTL_LOG_LEVEL=info node dist/bin/tradectl.js worker --roles sync,sink,api,ledger --json \
  >.data/demo-worker.json 2>.data/demo-worker.log &
worker_pid=$!
status=0
node scripts/wait-for-worker.mjs "http://127.0.0.1:${api_port}" 6 "${DEMO_TIMEOUT_SECONDS:-900}" || status=$?
curl -fsS "http://127.0.0.1:${api_port}/metrics" 2>/dev/null | grep -E '^tradectl_sync_lag_seconds' >&2 || true

say "stop the worker with SIGTERM (it drains and exits 0); what it did per account:"
kill -TERM "$worker_pid" 2>/dev/null || true
wait "$worker_pid" || status=$?
worker_pid=
node scripts/demo-summary.mjs .data/demo-worker.json || status=1

say "the newest orders across all 4096 shards (cross-shard query, k-way merge)"
tradectl orders list --limit 10 --desc || true

cat >&2 <<MSG

Next: 'TRADECTL_CONFIG=.data/demo.yaml node dist/bin/tradectl.js worker' keeps every account
synced (curl localhost:${api_port}/metrics); 'tradectl sync' syncs once what changed since each
checkpoint; 'tradectl stock get HDP-BT-ANC' shows what is left of a SKU; 'tradectl orders list
--help', 'tradectl stock --help'; every column of the summary: .data/demo-worker.json; logs: .data/*.log.
MSG
exit "$status"
