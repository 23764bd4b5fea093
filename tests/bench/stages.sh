#!/usr/bin/env bash
# What a chain of pass-through stages costs: 4k random-read IOPS (fio, io_uring, direct, QD32) of the
# memory target alone and behind four pass-through stages (read-only with enabled: false, which looks
# at every request and passes it on), two devices of one gateway, alternating in one VM run. Prints a
# table and the ratio.
#   tests/bench/stages.sh [ROUNDS] [SECONDS]
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
rounds=${1:-3} secs=${2:-10}

if [[ ${UBLKGW_IN_VM:-} != 1 ]]; then
    bin/ublk-gateway --version > /dev/null # build on the host: the VM sees the tree read-only
    exec tests/vm/run.sh --timeout 1800 ${UBLKGW_SCRIPT_JIT:+--env UBLKGW_SCRIPT_JIT} -- env UBLKGW_IN_VM=1 "$ROOT/tests/bench/stages.sh" "$rounds" "$secs"
fi

w=$(mktemp -d)
# Both devices in one gateway (one JVM): a fresh JVM per device would measure JIT warm-up under
# emulation, not the chain. Each gets a warm-up run before the measured rounds, which alternate.
{
    printf 'devices:\n  - name: plain0\n    size: 768MiB\n    depth: 128\n    target:\n      type: memory\n'
    printf '  - name: staged0\n    size: 768MiB\n    depth: 128\n    stages:\n'
    for _ in 1 2 3 4; do printf '      - type: read-only\n        enabled: false\n'; done
    printf '    target:\n      type: memory\n'
} > "$w/bench.yaml"
out=$(bin/ublk-gateway up "$w/bench.yaml")
declare -A dev
for n in plain0 staged0; do
    dev[$n]=$(sed -n "s|^$n: \(/dev/ublkb[0-9]*\)\$|\1|p" <<< "$out")
    [[ -b ${dev[$n]} ]] || { echo "stages: $n did not come up: $out" >&2; exit 1; }
    echo none > "/sys/block/${dev[$n]#/dev/}/queue/scheduler"
    dd if=/dev/zero of="${dev[$n]}" bs=1M count=768 oflag=direct status=none # reads hit stored pages
done
trap 'bin/ublk-gateway down plain0 > /dev/null 2>&1 || true' EXIT
iops() { # DEVICE SECONDS -> IOPS of one fio run
    fio --name=r --filename="$1" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
        --time_based --runtime="$2" --ramp_time=2 --output-format=terse --terse-version=3 | cut -d';' -f8
}
for n in plain0 staged0; do iops "${dev[$n]}" "$secs" > /dev/null; done # warm-up (JIT)
printf '%-6s %12s %12s %8s\n' round "0 stages" "4 stages" ratio
sum0=0 sum4=0
for r in $(seq "$rounds"); do
    # alternate which goes first, so drifts of the host's load fall on both alike
    if ((r % 2)); then a=$(iops "${dev[plain0]}" "$secs"); b=$(iops "${dev[staged0]}" "$secs")
    else b=$(iops "${dev[staged0]}" "$secs"); a=$(iops "${dev[plain0]}" "$secs"); fi
    sum0=$((sum0 + a)) sum4=$((sum4 + b))
    printf '%-6s %12s %12s %8s\n' "$r" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", b/a}')"
done
printf '%-6s %12s %12s %8s\n' mean $((sum0 / rounds)) $((sum4 / rounds)) "$(awk -v a="$sum0" -v b="$sum4" 'BEGIN{printf "%.3f", b/a}')"
