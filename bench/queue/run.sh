#!/usr/bin/env bash
# Queue benchmark (issue 3): submit -> claim -> complete through the region node, side by side
# with BullMQ doing add -> process -> complete on the same Redis, and with the floors of the bare
# store calls the node makes per request (the node's own Lua scripts, read from region-node's
# classes; its SQL with cached prepared statements). Starts one Redis and PostgreSQL (plus a second,
# non-durable PostgreSQL for the labelled fsync-off runs), runs every side in sequence, prints one
# Markdown table, and stops what it started. See docs/benchmarks.md.
#
#   bench/queue/run.sh                 # N=5000 after 500 warm-up, C=16 submitters, W=16 workers
#                                         # Disk: every request stores its 290 KB PNG and nothing is deleted
#                                         # until the run ends: (WARMUP + N) x 0.3 MB per step in the object
#                                         # store, plus the PNG-in-Redis row in Redis's AOF. WARMUP=20000 with
#                                         # all steps filled 60 GB once; use STEPS= for long warm-ups, and a
#                                         # STEP_TIMEOUT that fits them (about 4 min per 25,000 requests quiet).
#   N=2000 C=8 W=8 bench/queue/run.sh  # smaller
#   EXTERNAL_SAFETY=0 bench/queue/run.sh  # skip the genmesh step with the safety service in its own JVM
#   REDIS_EVERYSEC=0 bench/queue/run.sh   # skip the genmesh and BullMQ steps on a Redis with appendfsync everysec
#   STEP_TIMEOUT=1200 bench/queue/run.sh  # each step, and each round of requests, may take 20 min (default 300 s)
#   JFR=1 bench/queue/run.sh           # a JFR recording (settings=profile) of each genmesh step's JVM, in the results
#   LIGHT_N=0 bench/queue/run.sh       # no light rounds (default: 1000 requests from LIGHT_C=2 submitters after each
#                                         # genmesh and BullMQ step: the submit path's latency on an unsaturated machine)
#   NODE_JAVA_OPTS="-XX:+PrintCompilation" bench/queue/run.sh  # more JVM options for the genmesh steps' JVMs (diagnostics)
#   UPLOADER=0 bench/queue/run.sh      # the virtual workers upload from the node's JVM (before 2026-12-07), not from
#                                         # an Uploader JVM of their own (their S3 client's JIT counted in the node's CPU)
#   COMMIT_LINGER_US=0 bench/queue/run.sh  # the group commit's linger (queue.commit_linger_us) of the genmesh steps
#   STEPS=genmesh,extsafety bench/queue/run.sh  # only these steps (default all): genmesh extsafety bullmq
#                                         # everysec floors nofsync
#   MAVEN_ARGS=-Dmaven.repo.local=/tmp/m2 bench/queue/run.sh  # Maven 3.9 reads MAVEN_ARGS: another local
#                                         # repository (an empty one checks a fresh clone), -o offline
#
# BullMQ runs twice on the same work: once returning a reference {key, size, sha256} to the PNG it
# uploaded to the same object store genmesh's workers upload to (the row genmesh is compared with,
# issue 12), once returning the PNG itself (base64, stored in Redis: the row of the earlier runs).
# Both sides hand in the same PNG bytes: BenchStores writes BenchSpec.png() to the work folder.
#
# genmesh runs as `genmesh up` runs a region node: the reference safety service (SafetyVerticle,
# which decodes every PNG) in the node's JVM, so the "app" CPU includes it. A second genmesh step
# (on by default) starts the same service alone in another JVM (`SafetyService`, like
# `genmesh safety`) and points the node at it with safety.url: its "app" CPU is the node's (and
# the load generator's), and the service's own CPU is reported next to it. The load generator
# (HTTP submitters, the workers' uploads) runs on its own Vert.x instance in the same JVM, the
# virtual workers on a thread of their own; the report gives the region node's CPU as the JVM less
# the generator's and the workers' threads, and the heap the node allocates per request.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${N:-5000}
WARMUP=${WARMUP:-500}
C=${C:-16}
W=${W:-16}
LIGHT_N=${LIGHT_N:-1000} # the light round after each genmesh and BullMQ step: requests (0: none)
LIGHT_C=${LIGHT_C:-2}    # and its closed-loop submitters (docs/benchmarks.md, "What runs")
STEP_TIMEOUT=${STEP_TIMEOUT:-300}
BUILD="$HERE/target/build"
RESULTS_DIR="$HERE/target/results-$(date +%Y%m%d-%H%M%S)"
RESULTS="$RESULTS_DIR/results.jsonl"
JAVA_OPTS=(-Xms512m -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn)

# STEPS: a comma-separated subset of the steps below (all by default), for before/after runs of one side.
STEPS=${STEPS:-all}
want() { [[ "$STEPS" == all || ",$STEPS," == *",$1,"* ]]; }
log() { printf '\n== %s (load %s)\n' "$*" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2; }

for tool in java javac node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh needs $tool on the PATH" >&2; exit 1; }
done
mkdir -p "$BUILD" "$RESULTS_DIR"

# --- node side ---------------------------------------------------------------------------
if [[ ! -d "$HERE/bullmq/node_modules/bullmq" || "$HERE/bullmq/package-lock.json" -nt "$HERE/bullmq/node_modules" ]]; then
  log "npm ci (bench/queue/bullmq)"
  (cd "$HERE/bullmq" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- Java side ---------------------------------------------------------------------------
cd "$ROOT"
# One reactor build: region-node and the modules it needs, compiled, with its test classpath written
# out (siblings appear as their target/classes). Works on a fresh clone with an empty Maven repository.
log "building region-node and its modules (Maven wrapper)"
./mvnw -q -B -pl region-node -am -DskipTests test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$BUILD/deps.txt"
# A snapshot of the compiled modules: other builds may rewrite target/ while this runs.
rm -rf "$BUILD/snapshot" "$BUILD/classes"
mkdir -p "$BUILD/snapshot" "$BUILD/classes"
CP=""
snapshot() { # copies a directory of this repository's classes, adds the copy to CP
  local copy="$BUILD/snapshot/${1#"$ROOT"/}"
  mkdir -p "$(dirname "$copy")"
  cp -r "$1" "$copy"
  CP="$CP:$copy"
}
snapshot "$ROOT/region-node/target/classes"
snapshot "$ROOT/region-node/target/test-classes"
IFS=: read -ra ENTRIES < "$BUILD/deps.txt" || true # the file ends without a newline
for entry in "${ENTRIES[@]}"; do
  if [[ "$entry" == "$ROOT"/* && -d "$entry" ]]; then snapshot "$entry"; else CP="$CP:$entry"; fi
done
CP="$BUILD/classes$CP"
javac -nowarn -Xlint:none -d "$BUILD/classes" -cp "$CP" "$HERE"/java/dev/genmesh/bench/queue/*.java 2>&1 \
  | grep -v 'GenIgnore\|JsonGen\|^[0-9]* warnings\?$' >&2 || true
[[ -f "$BUILD/classes/dev/genmesh/bench/queue/QueueLoad.class" ]] || { echo "bench sources did not compile" >&2; exit 1; }
run_java() { timeout "$STEP_TIMEOUT" java "${JAVA_OPTS[@]}" -cp "$CP" "$@"; }
# JFR=1: the genmesh steps record JFR (a few % of their CPU) into the results folder, NAME.jfr.
jfr() {
  if [[ "${JFR:-0}" == 1 ]]; then echo "-XX:StartFlightRecording=settings=profile,filename=$RESULTS_DIR/$1.jfr"; fi
  echo "${NODE_JAVA_OPTS:-}"
}

# --- stores ------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/genmesh-queue-bench.XXXXXX)
STORES_PID=""
SAFETY_PID=""
UPLOADER_PID=""
cleanup() {
  if [[ -n "$UPLOADER_PID" ]] && kill -0 "$UPLOADER_PID" 2>/dev/null; then
    touch "$WORK/uploader.stop"
    for _ in $(seq 50); do kill -0 "$UPLOADER_PID" 2>/dev/null || break; sleep 0.2; done
    kill "$UPLOADER_PID" 2>/dev/null || true
    wait "$UPLOADER_PID" 2>/dev/null || true
  fi
  if [[ -n "$SAFETY_PID" ]] && kill -0 "$SAFETY_PID" 2>/dev/null; then
    kill "$SAFETY_PID" 2>/dev/null || true
    wait "$SAFETY_PID" 2>/dev/null || true
  fi
  if [[ -n "$STORES_PID" ]] && kill -0 "$STORES_PID" 2>/dev/null; then
    touch "$WORK/stop"
    for _ in $(seq 150); do kill -0 "$STORES_PID" 2>/dev/null || break; sleep 0.2; done
    kill "$STORES_PID" 2>/dev/null || true
    wait "$STORES_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting Redis, PostgreSQL and the object store"
java "${JAVA_OPTS[@]}" -cp "$CP" dev.genmesh.bench.queue.BenchStores work_dir="$WORK" >"$RESULTS_DIR/stores.log" 2>&1 &
STORES_PID=$!
for _ in $(seq 240); do
  [[ -f "$WORK/stores.env" ]] && break
  kill -0 "$STORES_PID" 2>/dev/null || { cat "$RESULTS_DIR/stores.log" >&2; exit 1; }
  sleep 0.5
done
[[ -f "$WORK/stores.env" ]] || { echo "stores did not start in 120 s" >&2; exit 1; }
# shellcheck disable=SC1091
source "$WORK/stores.env"
cat "$RESULTS_DIR/stores.log" >&2

EXTRA=()
if [[ -n "${COMMIT_LINGER_US:-}" ]]; then EXTRA=(commit_linger_us="$COMMIT_LINGER_US"); fi
# The virtual workers' uploads in a JVM of their own (Uploader), as a real worker's are (UPLOADER=0: in the node's JVM).
if [[ "${UPLOADER:-1}" == 1 ]] && { want genmesh || want extsafety || want everysec || want nofsync; }; then
  log "starting the workers' uploader"
  java "${JAVA_OPTS[@]}" -cp "$CP" dev.genmesh.bench.queue.Uploader work_dir="$WORK" s3_endpoint="$S3_ENDPOINT" \
    s3_credentials="$S3_CREDENTIALS" >"$RESULTS_DIR/uploader.log" 2>&1 &
  UPLOADER_PID=$!
  for _ in $(seq 120); do [[ -f "$WORK/uploader.port" ]] && break; sleep 0.5; done
  [[ -f "$WORK/uploader.port" ]] || { cat "$RESULTS_DIR/uploader.log" >&2; exit 1; }
  EXTRA+=(uploader_port="$(cat "$WORK/uploader.port")" uploader_pid="$UPLOADER_PID")
fi
COMMON=(n="$N" warmup="$WARMUP" c="$C" light_n="$LIGHT_N" light_c="$LIGHT_C" work_dir="$WORK" out="$RESULTS" redis_port="$REDIS_PORT" redis_pid="$REDIS_PID"
  s3_endpoint="$S3_ENDPOINT" s3_credentials="$S3_CREDENTIALS" s3_pid="$STORES_PID" round_timeout_s="$STEP_TIMEOUT" "${EXTRA[@]}")
DURABLE=(pg_port="$PG_PORT" pg_pid="$PG_PID" fsync=on)
LOOSE=(pg_port="$PG_NOFSYNC_PORT" pg_pid="$PG_NOFSYNC_PID" fsync=off)

if want genmesh; then
  log "genmesh (PG fsync on)"
  run_java $(jfr genmesh) dev.genmesh.bench.queue.QueueLoad "${COMMON[@]}" "${DURABLE[@]}" w="$W" label="genmesh" >"$RESULTS_DIR/genmesh.log" 2>&1 \
    || { cat "$RESULTS_DIR/genmesh.log" >&2; exit 1; }
fi
if [[ "${EXTERNAL_SAFETY:-1}" == 1 ]] && want extsafety; then
  log "genmesh (PG fsync on), reference safety service in its own JVM"
  java "${JAVA_OPTS[@]}" -cp "$CP" dev.genmesh.bench.queue.SafetyService work_dir="$WORK" >"$RESULTS_DIR/safety.log" 2>&1 &
  SAFETY_PID=$!
  for _ in $(seq 120); do [[ -f "$WORK/safety.port" ]] && break; sleep 0.5; done
  [[ -f "$WORK/safety.port" ]] || { cat "$RESULTS_DIR/safety.log" >&2; exit 1; }
  run_java $(jfr genmesh-extsafety) dev.genmesh.bench.queue.QueueLoad "${COMMON[@]}" "${DURABLE[@]}" w="$W" \
    label="genmesh, external safety" \
    safety_url="http://127.0.0.1:$(cat "$WORK/safety.port")" safety_pid="$SAFETY_PID" >"$RESULTS_DIR/genmesh-extsafety.log" 2>&1 \
    || { cat "$RESULTS_DIR/genmesh-extsafety.log" >&2; exit 1; }
  touch "$WORK/safety.stop"
  wait "$SAFETY_PID" || true
fi
bullmq() { # result=s3|redis [redis_fsync=always|everysec]
  local fsync=${2:-always} port=$REDIS_PORT pid=$REDIS_PID
  if [[ "$fsync" == everysec ]]; then port=$REDIS_EVERYSEC_PORT; pid=$REDIS_EVERYSEC_PID; fi
  log "BullMQ, $1, Redis appendfsync $fsync"
  (cd "$HERE/bullmq" && timeout "$STEP_TIMEOUT" node bench.mjs n="$N" warmup="$WARMUP" c="$C" w="$W" light_n="$LIGHT_N" light_c="$LIGHT_C" \
    redis_port="$port" redis_pid="$pid" s3_pid="$STORES_PID" out="$RESULTS" png="$PNG_FILE" result="$1" redis_fsync="$fsync" \
    s3_endpoint="$S3_ENDPOINT" s3_credentials="$S3_CREDENTIALS" s3_bucket="$S3_BUCKET") >"$RESULTS_DIR/bullmq-$1-$fsync.log" 2>&1 \
    || { cat "$RESULTS_DIR/bullmq-$1-$fsync.log" >&2; exit 1; }
}
if want bullmq; then
  bullmq s3
  bullmq redis
fi
if [[ "${REDIS_EVERYSEC:-1}" == 1 ]] && want everysec; then
  # What the design's appendfsync always costs: the same steps on a Redis that fsyncs its AOF once a second.
  log "genmesh (PG fsync on), Redis appendfsync everysec"
  EVERYSEC=(n="$N" warmup="$WARMUP" c="$C" light_n="$LIGHT_N" light_c="$LIGHT_C" work_dir="$WORK" out="$RESULTS" redis_port="$REDIS_EVERYSEC_PORT"
    redis_pid="$REDIS_EVERYSEC_PID" redis_fsync=everysec s3_endpoint="$S3_ENDPOINT" s3_credentials="$S3_CREDENTIALS"
    s3_pid="$STORES_PID" round_timeout_s="$STEP_TIMEOUT" "${EXTRA[@]}")
  run_java dev.genmesh.bench.queue.QueueLoad "${EVERYSEC[@]}" "${DURABLE[@]}" w="$W" label="genmesh, Redis everysec" \
    >"$RESULTS_DIR/genmesh-redis-everysec.log" 2>&1 || { cat "$RESULTS_DIR/genmesh-redis-everysec.log" >&2; exit 1; }
  bullmq s3 everysec
fi
if want floors; then
  log "floors (PG fsync on): Redis, PostgreSQL, both stores, image writes"
  run_java dev.genmesh.bench.queue.QueueFloor "${COMMON[@]}" "${DURABLE[@]}" modes=redis,pg,stores,images \
    >"$RESULTS_DIR/floor.log" 2>&1 || { cat "$RESULTS_DIR/floor.log" >&2; exit 1; }
fi
if want nofsync; then
  log "genmesh (PG fsync off)"
  run_java dev.genmesh.bench.queue.QueueLoad "${COMMON[@]}" "${LOOSE[@]}" w="$W" label="genmesh, PG fsync off" \
    >"$RESULTS_DIR/genmesh-nofsync.log" 2>&1 || { cat "$RESULTS_DIR/genmesh-nofsync.log" >&2; exit 1; }
fi
if want floors; then
  log "floors (PG fsync off): PostgreSQL, both stores"
  run_java dev.genmesh.bench.queue.QueueFloor "${COMMON[@]}" "${LOOSE[@]}" modes=pg,stores \
    >"$RESULTS_DIR/floor-nofsync.log" 2>&1 || { cat "$RESULTS_DIR/floor-nofsync.log" >&2; exit 1; }
  log "diagnostic: PostgreSQL floors without the client's prepared-statement cache (fsync on)"
  run_java dev.genmesh.bench.queue.QueueFloor "${COMMON[@]}" "${DURABLE[@]}" modes=pg,stores pg_cache=off \
    >"$RESULTS_DIR/floor-nocache.log" 2>&1 || { cat "$RESULTS_DIR/floor-nocache.log" >&2; exit 1; }
fi

log "done"
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$ROOT" status --porcelain -- region-node protocol config 2>/dev/null)" ]]; then
  GIT_REV="$GIT_REV + uncommitted changes in region-node/protocol/config"
fi
run_java dev.genmesh.bench.queue.QueueReport results="$RESULTS" git="$GIT_REV" out="$RESULTS_DIR/table.md"
echo >&2
echo "raw results and logs: $RESULTS_DIR" >&2
