#!/usr/bin/env bash
# Runs one of the small measurement tools of src/test/java/dev/genmesh/inference/bench (not JMH):
#   inference-verticle/bench/run-tool.sh ModelMemory [model...]     # memory per loaded model
#   inference-verticle/bench/run-tool.sh BatchGain [requests] [rounds] # batched vs one by one
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
module="$root/inference-verticle"
tool="${1:?usage: run-tool.sh ModelMemory|BatchGain [args...]}"
shift
cd "$root"
./mvnw -q -pl inference-verticle -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/jmh-classpath.txt
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$module/target/test-classes:$module/target/classes:$(cat "$module/target/jmh-classpath.txt")" \
  "dev.genmesh.inference.bench.$tool" "$@"
