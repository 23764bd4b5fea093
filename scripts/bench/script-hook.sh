#!/usr/bin/env bash
# Benchmark (not a test): IOPS of the null target with and without a JavaScript policy hook, in one
# VM boot and one gateway process, fio 4k randread QD32. Devices: nul0 (no hook), hook0 (a trivial
# onRequest), prot0 (scripts/protect-range.js). Jobs alternate A-B-C-C-B-A so drift cancels out.
#
#   scripts/bench/script-hook.sh [--runtime S] [--ramp S] [--out DIR] [--java-opts "OPTS"]
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
source scripts/lib/jdk.sh
runtime=10 ramp=3 out="" opts=""
while (($#)); do
    case $1 in
        --runtime) runtime=${2:?}; shift 2 ;;
        --ramp) ramp=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --java-opts) opts=${2:?}; shift 2 ;;
        *) echo "bench: unknown option $1" >&2; exit 2 ;;
    esac
done
JDK=$(find_java_home)
bin/ublk-gateway --version > /dev/null
out=${out:-$ROOT/.vm-out/script-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" && out=$(realpath "$out")
rm -rf "$out/app" && mkdir -p "$out/app"
jar=$(ls -t gateway-core/target/gateway-core-*.jar | grep -v -e '-tests.jar' -e '-sources.jar' | head -1)
cp "$jar" gateway-core/target/lib/*.jar "$out/app/"
cp scripts/protect-range.js "$out/"
cat > "$out/trivial.js" << 'JS'
export function onRequest(req) {}
JS
cat > "$out/bench.yaml" << Y
devices:
  - {name: nul0, size: 4GiB, queues: 1, depth: 128, target: {type: null}}
  - {name: hook0, size: 4GiB, queues: 1, depth: 128, script: {path: trivial.js, timeout-ms: 1000}, target: {type: null}}
  - {name: prot0, size: 4GiB, queues: 1, depth: 128, script: {path: protect-range.js, timeout-ms: 1000}, target: {type: null}}
Y
cat > "$out/guest.sh" << G
set -u
cd "$out"
export UBLKGW_RUN_DIR=/run/ublk-gateway
"$JDK/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow $opts -cp "$out/app/*" dev.ublkgateway.core.cli.Main \
    up bench.yaml --foreground > gateway.log 2>&1 &
for i in \$(seq 1200); do grep -q '^prot0: ' gateway.log && break; sleep 0.5; done
dev() { sed -n "s|^\$1: \\(/dev/ublkb[0-9]*\\)\$|\\1|p" gateway.log; }
: > results.txt
for d in nul0 hook0 prot0 prot0 hook0 nul0; do
    iops=\$(fio --name=b --filename=\$(dev \$d) --ioengine=io_uring --direct=1 --rw=randread --bs=4k \
        --iodepth=32 --numjobs=1 --time_based --runtime=$runtime --ramp_time=$ramp --group_reporting \
        --output-format=terse 2>> fio.err | awk -F';' '{print \$8}')
    echo "\$d \$iops" | tee -a results.txt
done
kill -TERM %1; wait
G
scripts/vm/run.sh --out "$out" --timeout 1500 -- bash "$out/guest.sh" > "$out/console.log" 2>&1 || true
awk '{s[$1]+=$2; n[$1]++} END {for (d in s) printf "%s %.0f\n", d, s[d]/n[d]}' "$out/results.txt" | sort
