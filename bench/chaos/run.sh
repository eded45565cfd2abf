#!/usr/bin/env bash
# The full chaos matrix (docs/chaos.md): starts `genmesh up --autoscale --chaos` on one region with
# random ports in a fresh data directory, runs every experiment RUNS times (default 5) with
# `genmesh chaos all`, writes the JSON report, prints the table, stops the mesh.
#   bench/chaos/run.sh [OUT.json]        RUNS=5 DURATION=30 RATE=0.5 by default
# EXPERIMENTS=a,b: only those experiments (default all).
# REGION_PROCESSES=1: `genmesh up --region-processes` with all three regions and bench/chaos/regions.yaml
# instead, and only the experiment that needs it, region-outage (docs/chaos.md).
# Exit code: genmesh chaos's (1 when a validation failed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/bench/chaos/chaos-report.json}"
data="$(mktemp -d -t genmesh-chaos-XXXXXX)"
log="$data/up.log"

"$root/genmesh" --version >/dev/null   # builds the launcher when stale
if [ -n "${REGION_PROCESSES:-}" ]; then
  mode=(--region-processes --config "$here/regions.yaml"); experiments=region-outage; warm=0
else
  mode=(--autoscale --chaos --regions us-west --config "$here/chaos.yaml"); experiments=${EXPERIMENTS:-all}; warm=20
fi
GENMESH_JAVA_OPTS="${GENMESH_JAVA_OPTS:--Xmx1g}" "$root/genmesh" up "${mode[@]}" --random-ports \
  --data-dir "$data" >"$log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null; wait $up 2>/dev/null || true' EXIT

for _ in $(seq 1 300); do
  grep -q "ready in" "$log" && break
  kill -0 $up 2>/dev/null || { tail -40 "$log"; exit 2; }
  sleep 1
done
grep -q "ready in" "$log" || { echo "the mesh did not start; see $log"; exit 2; }
sleep "$warm"   # the warm pool's two worker processes load their models

"$root/genmesh" chaos "$experiments" --data-dir "$data" --runs "${RUNS:-5}" --duration "${DURATION:-30}" \
  --rate "${RATE:-0.5}" --json "$out"
