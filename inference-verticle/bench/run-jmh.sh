#!/usr/bin/env bash
# Builds the inference-verticle test classes and runs its JMH benchmarks in
# src/test/java/dev/genmesh/inference/bench. Arguments go to JMH unchanged, e.g.
#   inference-verticle/bench/run-jmh.sh -f 1 -wi 2 -i 5 -w 2s -r 3s
#   inference-verticle/bench/run-jmh.sh DenoiseStep -p batch=1 -rf json -rff out.json
#   inference-verticle/bench/run-jmh.sh -l      # list benchmarks
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
module="$root/inference-verticle"
cd "$root"

# One reactor run, so sibling modules (protocol, config) resolve to their fresh target/classes
# rather than to whatever was last installed in ~/.m2. The relative outputFile lands in each
# module's own target/.
./mvnw -q -pl inference-verticle -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/jmh-classpath.txt
classpath_file="$module/target/jmh-classpath.txt"

if [[ ! -f "$module/target/test-classes/META-INF/BenchmarkList" ]]; then
  echo "no META-INF/BenchmarkList in target/test-classes: the JMH annotation processor did not run" >&2
  exit 1
fi

# TF's C++ logging is noisy; slf4j-simple (test scope) would print every model load.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$module/target/test-classes:$module/target/classes:$(cat "$classpath_file")" \
  org.openjdk.jmh.Main "$@"
