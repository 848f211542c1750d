#!/usr/bin/env bash
# Scale-out (issue #16): N silo processes of the PostgreSQL profile against one PostgreSQL, the same uniform ingestion
# and /impact reads spread over them (8 clients, or 2 per silo where that is more): events/s, ÷ 1 silo, CPU µs per
# event, remote messages per event for each N; then one of 4 silos killed under load (nothing lost or doubled, time
# back to 0.7 of the rate). Each silo is held to the same CPU quota (cgroup v1 cpu controller, writable as root;
# --silo-cores, 0.1 of a core by default), so N silos have N times the capacity of one on one machine; where the
# controller is not writable the script says so and runs without quotas. On a many-core machine pass
# BENCH_ARGS="--silo-cores=0" to run without quotas.
#
#   ./bench/scale-out.sh [N ...]               build here, run with N = 1 2 4 8 (default)
#   ./bench/scale-out.sh --bundle DIR          publish a self-contained bundle (no .NET needed where it runs) to DIR
#   DIR/scale-out.sh 1 2 4 8 16                run the bundle on another machine (needs PostgreSQL's initdb/pg_ctl and
#                                              a `postgres` OS user, as the tests do; run as root for runuser)
# BENCH_ARGS adds load-generator options, for example BENCH_ARGS="--seconds=20 --entities=100000";
# BENCH_KEEP_LOGS=1 keeps every silo's log (the path is printed), not only those of failed runs and the failover.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ "${1:-}" = "--bundle" ]; then
  out="$(realpath -m "${2:?--bundle DIR}")"
  cd "$here/.."
  rid="${RID:-linux-x64}"
  # tests/ImpactGrains.Testing finds the server at src/ImpactGrains.Server/bin/Release/net10.0 under the folder that
  # holds ImpactGrains.sln, and starts it as `dotnet ImpactGrains.Server.dll`; the bundle keeps that layout, and a
  # `dotnet` shim on PATH runs each assembly's own self-contained executable instead.
  dotnet publish src/ImpactGrains.Server -c Release -r "$rid" --self-contained -o "$out/src/ImpactGrains.Server/bin/Release/net10.0" --nologo -v quiet
  dotnet publish bench/ImpactGrains.Bench.Load -c Release -r "$rid" --self-contained -o "$out/bench/ImpactGrains.Bench.Load/bin/Release/net10.0" --nologo -v quiet
  : > "$out/ImpactGrains.sln"
  mkdir -p "$out/shim"
  cat > "$out/shim/dotnet" <<'SHIM'
#!/bin/sh
# `dotnet X.dll args…` → the self-contained executable X beside it.
dll="$1"; shift
exec "${dll%.dll}" "$@"
SHIM
  chmod +x "$out/shim/dotnet"
  cp "$here/scale-out.sh" "$out/scale-out.sh"
  echo "bundle in $out: copy it over and run $out/scale-out.sh 1 2 4 8 16"
  exit 0
fi

silos="$(IFS=,; echo "${*:-1,2,4,8}" | tr ' ' ',')"
if [ -x "$here/shim/dotnet" ]; then
  # Inside a bundle.
  export PATH="$here/shim:$PATH"
  exec "$here/bench/ImpactGrains.Bench.Load/bin/Release/net10.0/ImpactGrains.Bench.Load" --only=scale-out --silos="$silos" ${BENCH_ARGS:-}
fi

cd "$here/.."
for project in src/ImpactGrains.Server bench/ImpactGrains.Bench.Load; do
  dotnet build "$project" -c Release --nologo -v quiet
done
exec dotnet bench/ImpactGrains.Bench.Load/bin/Release/net10.0/ImpactGrains.Bench.Load.dll --only=scale-out --silos="$silos" ${BENCH_ARGS:-}
