#!/usr/bin/env bash
# The full chaos matrix (docs/chaos.md): starts `genmesh up --autoscale --chaos` on one region with
# random ports in a fresh data directory, runs every experiment RUNS times (default 5) with
# `genmesh chaos all`, writes the JSON report, prints the table, stops the mesh.
#   bench/chaos/run.sh [OUT.json]        RUNS=5 DURATION=30 RATE=0.5 by default
# Exit code: genmesh chaos's (1 when a validation failed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/bench/chaos/chaos-report.json}"
data="$(mktemp -d -t genmesh-chaos-XXXXXX)"
log="$data/up.log"

"$root/genmesh" --version >/dev/null   # builds the launcher when stale
GENMESH_JAVA_OPTS="${GENMESH_JAVA_OPTS:--Xmx1g}" "$root/genmesh" up --autoscale --chaos --random-ports \
  --regions us-west --data-dir "$data" --config "$here/chaos.yaml" >"$log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null; wait $up 2>/dev/null || true' EXIT

for _ in $(seq 1 300); do
  grep -q "ready in" "$log" && break
  kill -0 $up 2>/dev/null || { tail -40 "$log"; exit 2; }
  sleep 1
done
grep -q "ready in" "$log" || { echo "the mesh did not start; see $log"; exit 2; }
sleep 20   # the warm pool's two worker processes load their models

"$root/genmesh" chaos all --data-dir "$data" --runs "${RUNS:-5}" --duration "${DURATION:-30}" \
  --rate "${RATE:-0.5}" --json "$out"
