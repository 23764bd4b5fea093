#!/usr/bin/env bash
# Benchmark (not a test): where a gateway's CPU goes, thread by thread, in the VM test bed. One gateway
# serves a null device (1 queue of 128); after a 15 s fio warm-up it is left idle for 15 s, then runs
# 4k randread QD32 for 10 s. For each phase it prints the clock ticks (10 ms each) every thread of the
# gateway used, from /proc/PID/task/*/stat, and fio's IOPS. Threads that should sleep show up here.
#
#   tests/bench/thread-cpu.sh [--kernel K] [--runs N] [--out DIR]
#
#   --kernel K   guest kernel, as tests/vm/run.sh takes it (default 7)
#   --runs N     gateways started one after the other in the same boot (default 2)
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")

if [[ ${1:-} == --in-guest ]]; then
    OUT=$2 APP=$3 JDK=$4 MAIN=$5 RUNS=$6
    export UBLKGW_RUN_DIR=/run/ublk-gateway
    printf 'devices:\n  - {name: nl0, size: 512MiB, queues: 1, depth: 128, target: {type: null}}\n' > /tmp/null.yaml
    ticks() { # tid name ticks, per thread of $1
        for t in /proc/"$1"/task/*; do
            echo "$(basename "$t") $(tr ' ' _ < "$t/comm") $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)"
        done | sort
    }
    used() { join "$1" "$2" | awk '$5 - $3 > 0 { printf "    %-20s %4d\n", $2, $5 - $3 }'; }
    for run in $(seq "$RUNS"); do
        echo "== gateway $run of $RUNS"
        (exec "$JDK/bin/java" -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED -cp "$APP/*" "$MAIN" \
            up /tmp/null.yaml --foreground) > "$OUT/gateway-$run.log" 2>&1 &
        gw=$! dev=""
        for _ in $(seq 1200); do
            dev=$(sed -n 's|^nl0: \(/dev/ublkb[0-9]*\)$|\1|p' "$OUT/gateway-$run.log")
            [[ -n $dev ]] || ! kill -0 $gw 2> /dev/null && break
            sleep 0.25
        done
        [[ -b $dev ]] || { echo "the gateway did not come up: $(tail -2 "$OUT/gateway-$run.log")"; exit 1; }
        fio --name=warm --filename="$dev" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
            --runtime=15 --time_based > /dev/null
        sleep 5
        ticks $gw > /tmp/a; sleep 15; ticks $gw > /tmp/b
        echo "  idle, 15 s: ticks per thread"; used /tmp/a /tmp/b
        ticks $gw > /tmp/a
        iops=$(fio --name=load --filename="$dev" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
            --runtime=10 --time_based | sed -n 's/.*IOPS=\([^,]*\),.*/\1/p')
        ticks $gw > /tmp/b
        echo "  4k randread QD32, 10 s ($iops IOPS): ticks per thread"; used /tmp/a /tmp/b
        kill -TERM $gw; wait $gw || true
    done
    exit 0
fi

cd "$ROOT"
source scripts/lib/jdk.sh
source tests/bench/app-snapshot.sh
kernel=7 runs=2 out=""
while (($#)); do
    case $1 in
        --kernel) kernel=${2:?}; shift 2 ;;
        --runs) runs=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        *) echo "thread-cpu: unknown option $1; usage: tests/bench/thread-cpu.sh [--kernel K] [--runs N] [--out DIR]" >&2; exit 2 ;;
    esac
done
JDK=$(find_java_home) || { echo "thread-cpu: needs a JDK >= 25" >&2; exit 1; }
bash tests/vm/install-deps.sh > /dev/null
bin/ublk-gateway --version > /dev/null # builds the launcher's jars when missing
out=${out:-$ROOT/.vm-out/thread-cpu-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(realpath "$out")
snapshot_jars "$ROOT" "$out/app" > /dev/null || exit 1
main_class=$(launcher_main_class "$ROOT") || exit 1
echo "thread-cpu: gateway $(git rev-parse --short HEAD), kernel $kernel, $runs runs; logs in $out"
tests/vm/run.sh --kernel "$kernel" --out "$out" --timeout 1500 -- \
    bash "$ROOT/tests/bench/thread-cpu.sh" --in-guest "$out" "$out/app" "$JDK" "$main_class" "$runs" \
    > "$out/console.log" 2>&1 || { echo "thread-cpu: the VM reported a failure (see $out/console.log)" >&2; exit 1; }
sed -n '/^== gateway/,/^UBLKGW-VM-EXIT/p' "$out/console.log" | grep -v -e '^UBLKGW-VM-EXIT' -e '^\[ *[0-9.]*\]'
