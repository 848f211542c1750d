#!/usr/bin/env bash
# The performance suite (issue #7): builds in Release, runs the BenchmarkDotNet micro-benchmarks and the load
# generator (our server on both profiles, the peers, scale-out), and prints the table of docs/performance.md.
#   ./bench/run.sh            the full suite (about 30 minutes on 2 cores; 10,000,000 events to one entity are a third of it)
#   ./bench/run.sh --smoke    seconds, not minutes: checks that every part runs and every peer is measured;
#                             asserts no timing (./test.sh runs it)
# Any other arguments go to the load generator (bench/ImpactGrains.Bench.Load/BenchOptions.cs), for example
# --silos=1,2,4,8,16 --only=postgres on a larger machine. --no-build skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

smoke=(); build=1; rest=()
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=(--smoke) ;;
    --no-build) build=0 ;;
    *) rest+=("$arg") ;;
  esac
done

if [ "$build" -eq 1 ]; then
  # The load generator starts the server from src/ImpactGrains.Server/bin/Release (tests/ImpactGrains.Testing).
  for project in src/ImpactGrains.Server bench/ImpactGrains.Bench.Micro bench/ImpactGrains.Bench.Load; do
    dotnet build "$project" -c Release --nologo -v quiet
  done
fi

results="${BENCH_RESULTS:-$(mktemp -d)}"
mkdir -p "$results"
echo "bench: results in $results"
# BenchmarkDotNet writes its artifacts to the working directory.
(cd "$results" && dotnet "$OLDPWD/bench/ImpactGrains.Bench.Micro/bin/Release/net10.0/ImpactGrains.Bench.Micro.dll" \
  "${smoke[@]}" --out="$results/micro.tsv" > "$results/micro.log" 2>&1) || { cat "$results/micro.log"; exit 1; }
grep -A 12 -E '^\| Method' "$results/micro.log" || true

dotnet bench/ImpactGrains.Bench.Load/bin/Release/net10.0/ImpactGrains.Bench.Load.dll "${smoke[@]}" \
  --micro="$results/micro.tsv" --out="$results/table.md" "${rest[@]}"
echo "bench: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ)"
