#!/usr/bin/env bash
# Benchmark (not a test): JMH per-request cost of the stats stage (StatsStageBench in gateway-core's
# tests): a pass-through stage, the stats stage, and the stats stage while another thread snapshots it
# every millisecond, side by side, with JMH's allocation profiler (gc.alloc.rate.norm: bytes per request).
#
#   tests/bench/stats-stage-jmh.sh [JMH OPTIONS...]     (default: -wi 3 -w 1 -i 5 -r 1 -f 1)
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
opts=("$@")
((${#opts[@]})) || opts=(-wi 3 -w 1 -i 5 -r 1 -f 1)
source scripts/lib/jmh.sh # JDK, the build, cd gateway-core, cp
"$JDK/bin/java" --enable-native-access=ALL-UNNAMED -Djmh.ignoreLock=true -cp "$cp" \
    org.openjdk.jmh.Main StatsStageBench -prof gc "${opts[@]}" | sed -n '/^Benchmark/,$p'
