#!/usr/bin/env bash
# The test command of the README and of CI: starts the local services (installing them on a
# fresh Debian machine), installs the npm dependencies, then lint, typecheck, build and every
# unit and integration test. Ends with one "tests: N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh up >&2
eval "$(bash scripts/services.sh env)"
export TRADECTL_MYSQL_URL TRADECTL_REDIS_URL TRADECTL_KAFKA_BROKERS

# npm ci on a clean checkout (and whenever the lock file changed); a warm tree is reused.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

npm run --silent lint
npm run --silent typecheck
npm run --silent build

mkdir -p .data
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.data/vitest-report.json "$@" || status=$?
node scripts/test-summary.mjs .data/vitest-report.json
exit "$status"
