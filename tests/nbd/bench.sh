#!/usr/bin/env bash
# nbdcopy throughput to and from the gateway's memory target and nbdkit's memory plugin, in one run:
# the same 1 GiB random image (in /dev/shm, so the source is not the limit), the same client command,
# the two servers alternating, ROUNDS rounds; prints every round and the median of each.
#   tests/nbd/bench.sh [ROUNDS]
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
ROUNDS=${1:-5}
WORK=$(mktemp -d /dev/shm/nbd-bench.XXXXXX)
export UBLKGW_RUN_DIR=$WORK/run UBLKGW_SHM_DIR=$WORK/shm
cleanup() {
    bin/ublk-gateway down bench0 >/dev/null 2>&1 || true
    [[ -n ${kit:-} ]] && kill "$kit" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
cat > "$WORK/bench.yaml" <<YAML
devices:
  - name: bench0
    size: 1GiB
    depth: 64
    frontend: nbd
    nbd-listen: unix:$WORK/gw.sock
    target:
      type: memory
YAML
bin/ublk-gateway up "$WORK/bench.yaml" >/dev/null
nbdkit --foreground -U "$WORK/kit.sock" memory size=1G &
kit=$!
while [[ ! -S $WORK/kit.sock ]]; do sleep 0.1; done
head -c 1G /dev/urandom > "$WORK/img"
GW="nbd+unix:///bench0?socket=$WORK/gw.sock"
KIT="nbd+unix:///?socket=$WORK/kit.sock"
# warm-up: pages allocated on both, JIT compiled on ours
for u in "$GW" "$KIT"; do nbdcopy "$WORK/img" "$u"; nbdcopy "$u" null:; done
mibs() { echo "scale=0; 1024 * 1000000000 / $1" | bc; }
declare -A res
for ((i = 1; i <= ROUNDS; i++)); do
    for name in gateway nbdkit; do
        u=$GW; [[ $name == nbdkit ]] && u=$KIT
        s=$(date +%s%N); nbdcopy "$WORK/img" "$u"; m=$(date +%s%N); nbdcopy "$u" null:; e=$(date +%s%N)
        w=$(mibs $((m - s))); r=$(mibs $((e - m)))
        res[$name-write]+="$w "; res[$name-read]+="$r "
        printf 'round %d %-8s write %5d MiB/s  read %5d MiB/s\n' "$i" "$name" "$w" "$r"
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for op in write read; do
    g=$(echo ${res[gateway-$op]} | median); k=$(echo ${res[nbdkit-$op]} | median)
    printf 'median %-5s gateway %5d MiB/s  nbdkit %5d MiB/s  ratio %s\n' "$op" "$g" "$k" "$(echo "scale=2; $g / $k" | bc)"
done
