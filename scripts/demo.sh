#!/usr/bin/env bash
# The README's first command: the main job on one machine. Starts the local services
# (installing them on a fresh Debian machine), builds tradectl, creates the sharded layout,
# starts the marketplace sandbox with faults on, syncs every sandbox account into the shards
# (through Kafka when the local broker is up), and prints what was synced.
#
#   scripts/demo.sh                 # defaults: 2,000 orders per account, faults on
#   DEMO_ORDERS=20000 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

orders="${DEMO_ORDERS:-2000}"
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
export TRADECTL_CONFIG=config/sandbox.yaml
export SANDBOX_SHOPIFY_TOKEN=shpat_sandbox_a
export TRADECTL_LOG_LEVEL="${TRADECTL_LOG_LEVEL:-warn}"

say "shard layout (16 databases x 256 tables; a second run creates nothing)"
tradectl shards init

say "sandbox: 3 platforms x 2 accounts, ${orders} orders each, faults on (5% 5xx, 5% 429, 1% dropped, 0.5% malformed)"
node dist/bin/tradectl.js sandbox --port "$port" --orders "$orders" \
  --faults 5xx=0.05,429=0.05,drop=0.01,malformed=0.005 --rate-scale amazon=400,shopify=20,ebay=20 >.data/demo-sandbox.log 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:${port}/_sandbox/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:${port}/_sandbox/health" >/dev/null || { cat .data/demo-sandbox.log >&2; exit 1; }

say "sync every account (Kafka: ${TRADECTL_KAFKA_BROKERS}; the sink runs in this process)"
status=0
tradectl sync || status=$?

say "the newest orders across all 4096 shards (cross-shard query, k-way merge)"
tradectl orders list --limit 10 --desc || true

cat >&2 <<MSG

Next: 'tradectl sync' again syncs only what changed since each account's checkpoint;
'tradectl orders list --help', 'tradectl stock --help'; logs: .data/*.log; config: config/sandbox.yaml.
MSG
exit "$status"
