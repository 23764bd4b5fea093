#!/usr/bin/env bash
# What a chain of pass-through stages costs: 4k random-read IOPS (fio, io_uring, direct, QD32) of the
# memory target alone and behind four pass-through stages (read-only with enabled: false, which looks
# at every request and passes it on), alternating in one VM run. Prints a table and the ratio.
#   scripts/bench/stages.sh [ROUNDS] [SECONDS]
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
rounds=${1:-3} secs=${2:-10}

if [[ ${UBLKGW_IN_VM:-} != 1 ]]; then
    bin/ublk-gateway --version > /dev/null # build on the host: the VM sees the tree read-only
    exec scripts/vm/run.sh --timeout 1800 -- env UBLKGW_IN_VM=1 "$ROOT/scripts/bench/stages.sh" "$rounds" "$secs"
fi

w=$(mktemp -d)
plain() { printf 'devices:\n  - name: %s\n    size: 1GiB\n    depth: 128\n    target:\n      type: memory\n' "$1"; }
staged() {
    printf 'devices:\n  - name: %s\n    size: 1GiB\n    depth: 128\n    stages:\n' "$1"
    for _ in 1 2 3 4; do printf '      - type: read-only\n        enabled: false\n'; done
    printf '    target:\n      type: memory\n'
}
iops() { # NAME YAML-FUNCTION -> IOPS of one fio run
    "$2" "$1" > "$w/$1.yaml"
    local dev
    dev=$(bin/ublk-gateway up "$w/$1.yaml" | sed -n "s|^$1: \(/dev/ublkb[0-9]*\)\$|\1|p")
    echo none > "/sys/block/${dev#/dev/}/queue/scheduler"
    dd if=/dev/zero of="$dev" bs=1M count=1024 oflag=direct status=none # reads hit stored pages
    fio --name=r --filename="$dev" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
        --time_based --runtime="$secs" --ramp_time=2 --output-format=terse --terse-version=3 | cut -d';' -f8
    bin/ublk-gateway down "$1" > /dev/null
}
printf '%-6s %12s %12s %8s\n' round "0 stages" "4 stages" ratio
sum0=0 sum4=0
for r in $(seq "$rounds"); do
    a=$(iops plain$r plain)
    b=$(iops staged$r staged)
    sum0=$((sum0 + a)) sum4=$((sum4 + b))
    printf '%-6s %12s %12s %8s\n' "$r" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", b/a}')"
done
printf '%-6s %12s %12s %8s\n' mean $((sum0 / rounds)) $((sum4 / rounds)) "$(awk -v a="$sum0" -v b="$sum4" 'BEGIN{printf "%.3f", b/a}')"
