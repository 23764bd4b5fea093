#!/usr/bin/env bash
# Benchmark (not a test): JMH per-request cost of the stats stage (StatsStageBench in gateway-core's
# tests): a pass-through stage, the stats stage, and the stats stage while another thread snapshots it
# every millisecond, side by side, with JMH's allocation profiler (gc.alloc.rate.norm: bytes per request).
#
#   tests/bench/stats-stage-jmh.sh [JMH OPTIONS...]     (default: -wi 3 -w 1 -i 5 -r 1 -f 1)
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
source scripts/lib/jdk.sh
JDK=$(find_java_home) || { echo "bench: needs a JDK >= 25 (apt install temurin-25-jdk, or set JAVA_HOME)" >&2; exit 1; }
export JAVA_HOME=$JDK
bin/ublk-gateway --version > /dev/null # builds the project when needed
(cd gateway-core && mvn -B -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/test-cp.txt \
    -Dmdep.includeScope=test > /dev/null)
opts=("$@")
((${#opts[@]})) || opts=(-wi 3 -w 1 -i 5 -r 1 -f 1)
cd gateway-core
cp=target/test-classes:target/classes:$(cat target/test-cp.txt)
"$JDK/bin/java" --enable-native-access=ALL-UNNAMED -Djmh.ignoreLock=true -cp "$cp" \
    org.openjdk.jmh.Main StatsStageBench -prof gc "${opts[@]}" | sed -n '/^Benchmark/,$p'
