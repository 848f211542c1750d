#!/usr/bin/env bash
# Runs every test of ImpactGrains on a fresh machine: installs what the tests need, builds, tests, and prints
# the summary line "N passed, N failed". Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet was not found on PATH)" >&2
  exit 2
fi

# The PostgreSQL tests start a throwaway server from the machine's own binaries (initdb, pg_ctl).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "test.sh: installing PostgreSQL for the database tests"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi

# The browser tests drive Debian's Chromium (Playwright downloads no browser here); the viewer's build (which the server
# references) bundles it with Node.js and npm; the feed tests start Debian's nats-server (with JetStream) on loopback.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]} for the viewer build, the browser tests and the feed tests"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The OpenAPI lint (Server.Tests, openapi-lint/) runs Redocly CLI 2.77.0, which needs Node.js 20.19 or later.
node_version=$(node --version 2>/dev/null | sed 's/^v//')
if [ "$(printf '%s\n' "20.19.0" "$node_version" | sort -V | head -n 1)" != "20.19.0" ]; then
  echo "test.sh: Node.js $node_version is too old for Redocly CLI (the OpenAPI lint needs 20.19 or later)" >&2
  exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet build ImpactGrains.sln -c Release --nologo -v quiet

status=0
dotnet test ImpactGrains.sln -c Release --no-build --nologo \
  --logger "trx;LogFilePrefix=run" --results-directory "$results" || status=$?

# Count the outcomes of every test from the TRX files, so the summary covers all test projects.
passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done

echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi

# The performance suite in smoke mode (seconds): every part runs and every peer is measured; no timing is asserted.
echo "test.sh: performance suite, smoke mode"
BENCH_RESULTS="$results/bench" ./bench/run.sh --smoke --no-build > "$results/bench.log" 2>&1 || {
  tail -n 60 "$results/bench.log"
  echo "test.sh: the performance suite's smoke run failed" >&2
  exit 1
}
tail -n 3 "$results/bench.log"
