#!/usr/bin/env bash
# Memory per loaded model on the CPU runtime (resident set before and after loading each bundled
# model and after one 512x512 generation): dev.genmesh.inference.bench.ModelMemory.
#   inference-verticle/bench/run-memory.sh                  # genmesh-tiny and genmesh-small
#   inference-verticle/bench/run-memory.sh genmesh-small    # one model
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
module="$root/inference-verticle"
cd "$root"
./mvnw -q -pl inference-verticle -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/jmh-classpath.txt
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$module/target/test-classes:$module/target/classes:$(cat "$module/target/jmh-classpath.txt")" \
  dev.genmesh.inference.bench.ModelMemory "$@"
