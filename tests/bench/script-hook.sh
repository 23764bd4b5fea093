#!/usr/bin/env bash
# Benchmark (not a test): IOPS of the null target with and without a JavaScript policy hook, in one
# VM boot, fio 4k randread QD32, scripts interpreted and with the Graal JIT (one gateway process per
# mode, through bin/ublk-gateway). Devices: nul0 (no hook), hook0 (a trivial onRequest), prot0
# (examples/policies/protect-range.js). Prints "MODE DEVICE MEAN-IOPS (each job)".
#
#   tests/bench/script-hook.sh [--runtime S] [--ramp S] [--warmup S] [--rounds N] [--modes "interp jit"]
#                                [--smp N] [--out DIR] [--java-opts "OPTS"]
# --rounds: how many times the A-B-C-C-B-A sequence of jobs runs per mode (default 1).
# --warmup: the warm-up job per device (default twice --runtime); with the JIT on one emulated vCPU the
# Graal compiler needs minutes before the hooks run compiled.
#
# One vCPU by default: fio and the gateway then share it, so what a hook costs in CPU shows in IOPS
# one for one; and under TCG, JVMs on two vCPUs died here of the JIT's code patching (BENCHMARKS.md).
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
source scripts/lib/jdk.sh
runtime=10 ramp=3 warmup="" rounds=1 modes="interp jit" smp=1 out="" opts=""
while (($#)); do
    case $1 in
        --runtime) runtime=${2:?}; shift 2 ;;
        --ramp) ramp=${2:?}; shift 2 ;;
        --warmup) warmup=${2:?}; shift 2 ;;
        --modes) modes=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --smp) smp=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --java-opts) opts=${2:?}; shift 2 ;;
        *) echo "bench: unknown option $1" >&2; exit 2 ;;
    esac
done
JDK=$(find_java_home)
warmup=${warmup:-$((runtime * 2))}
bin/ublk-gateway --version > /dev/null
out=${out:-$ROOT/.vm-out/script-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" && out=$(realpath "$out")
cp examples/policies/protect-range.js "$out/"
cat > "$out/trivial.js" << 'JS'
export function onRequest(req) {}
JS
cat > "$out/bench.yaml" << Y
devices:
  - {name: nul0, size: 4GiB, queues: 1, depth: 128, target: {type: null}}
  - {name: hook0, size: 4GiB, queues: 1, depth: 128, script: {path: trivial.js, timeout-ms: 1000}, target: {type: null}}
  - {name: prot0, size: 4GiB, queues: 1, depth: 128, script: {path: protect-range.js, timeout-ms: 1000}, target: {type: null}}
Y
# In the guest: the project's launcher, once with scripts interpreted and once with the Graal JIT
# (UBLKGW_SCRIPT_JIT), each gateway serving all three devices; a warm-up job per device, then jobs
# alternating A-B-C-C-B-A so drift cancels out.
cat > "$out/guest.sh" << G
set -u
cd "$out"
export UBLKGW_RUN_DIR=/run/ublk-gateway ${opts:+UBLKGW_JAVA_OPTS="$opts"}
: > results.txt
dev() { sed -n "s|^\$1: \\(/dev/ublkb[0-9]*\\)\$|\\1|p" gateway-\$mode.log; }
job() {
    fio --name=b --filename=\$(dev \$1) --ioengine=io_uring --direct=1 --rw=randread --bs=4k \
        --iodepth=32 --numjobs=1 --time_based --runtime=\$2 --ramp_time=$ramp --group_reporting \
        --output-format=terse 2>> fio.err | awk -F';' '{print \$8}'
}
for mode in $modes; do
    UBLKGW_SCRIPT_JIT=\$([[ \$mode == jit ]] && echo 1 || echo 0) "$ROOT/bin/ublk-gateway" up bench.yaml --foreground > gateway-\$mode.log 2>&1 &
    gw=\$!
    for i in \$(seq 1200); do grep -q '^prot0: ' gateway-\$mode.log && break; sleep 0.5; done
    for d in nul0 hook0 prot0; do job \$d $warmup > /dev/null; done
    for round in \$(seq $rounds); do
        for d in nul0 hook0 prot0 prot0 hook0 nul0; do
            echo "\$mode \$d \$(job \$d $runtime)" | tee -a results.txt
        done
    done
    kill -TERM \$gw; wait \$gw
done
G
tests/vm/run.sh --smp "$smp" --out "$out" --timeout 3000 -- bash "$out/guest.sh" > "$out/console.log" 2>&1 || true
awk '{k = $1 " " $2; s[k] += $3; n[k]++; v[k] = v[k] (v[k] == "" ? "" : ", ") $3}
    END {for (k in s) printf "%s %.0f (%s)\n", k, s[k] / n[k], v[k]}' "$out/results.txt" | sort
# the hooks' IOPS as a share of the same gateway's device without one
awk '{k = $1 " " $2; s[k] += $3; n[k]++; m[$1] = 1}
    END {for (x in m) if (n[x " nul0"]) for (d in s) { split(d, p, " "); if (p[1] == x && p[2] != "nul0")
        printf "%s %s / nul0 = %.2f\n", x, p[2], (s[d] / n[d]) / (s[x " nul0"] / n[x " nul0"]) }}' "$out/results.txt" | sort
