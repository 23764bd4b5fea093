#!/usr/bin/env bash
# The in-VM half of tests/bench/file-zc.sh (runs as root in the VM test bed):
#   file-zc-guest.sh RESDIR APPDIR JAVA_HOME MAIN_CLASS UBLKSRV_DIR ROUNDS RUNTIME [EXTRAS]
# EXTRAS, comma-separated: "null" adds the null pair (ublksrv's null target, the gateway's null device),
# "profile" samples the copying file device and ublksrv's loop target with perf after the rounds,
# "batch" adds the gateway's devices again with batch-io: true (BATCH_IO), where the kernel has it.
# Writes RESDIR/results.tsv (round device rw qd iops), env.txt, the servers' logs and RESDIR/profile/.
set -uo pipefail
RES=${1:?} APP=${2:?} JDK=${3:?} MAIN=${4:?} UB=${5:?} ROUNDS=${6:-3} RUNTIME=${7:-5} EXTRAS=,${8:-},
has() { [[ $EXTRAS == *,$1,* ]]; }
export UBLKGW_RUN_DIR=/run/ublk-gateway
SIZE_MIB=512
log() { printf '[file-zc %s] %s\n' "$(date +%T)" "$*" >&2; }
: > "$RES/results.tsv"
sched_none() { echo none > "/sys/block/$(basename "$1")/queue/scheduler" 2>/dev/null; }

# The backing store: a RAM-backed null_blk (one submit queue, 128 tags, 4k blocks).
modprobe null_blk nr_devices=0 || { log "no null_blk"; exit 1; }
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
d=/sys/kernel/config/nullb/zcb
mkdir "$d"
echo 2 > "$d/queue_mode"; echo 0 > "$d/irqmode"; echo $SIZE_MIB > "$d/size"; echo 4096 > "$d/blocksize"
echo 1 > "$d/submit_queues"; echo 128 > "$d/hw_queue_depth"; echo 1024 > "$d/max_sectors"
echo 1 > "$d/memory_backed"; echo 1 > "$d/power"
NB=/dev/zcb
for i in $(seq 50); do [[ -b $NB ]] && break; [[ -b /dev/nullb$(cat "$d/index") ]] && { NB=/dev/nullb$(cat "$d/index"); break; }; sleep 0.1; done
[[ -b $NB ]] || { log "null_blk: no block device"; exit 1; }
sched_none "$NB"
fio --name=fill --filename="$NB" --ioengine=io_uring --direct=1 --rw=write --bs=1M --iodepth=8 --size=${SIZE_MIB}M > /dev/null 2>&1
declare -A DEV=()

# Kernel loop with direct I/O on it.
DEV[kloop]=$(losetup --direct-io=on --sector-size 4096 -f --show "$NB")
[[ $(cat /sys/block/$(basename "${DEV[kloop]}")/loop/dio) == 1 ]] || log "warning: loop is not using direct I/O"
sched_none "${DEV[kloop]}"

# ublksrv's loop target (direct I/O to the backing device, its default), one queue of 128.
# ublk.loop called directly serves the device in the foreground: it runs in the background here.
"$UB/ublk.loop" add -t loop -n 90 -q 1 -d 128 -f "$NB" > "$RES/ublksrv.log" 2>&1 &
UBPID=$!
for i in $(seq 200); do [[ -b /dev/ublkb90 ]] && break; sleep 0.1; done
[[ -b /dev/ublkb90 ]] && DEV[ublksrv]=/dev/ublkb90 || log "ublksrv did not come up: $(tail -3 "$RES/ublksrv.log")"
[[ -n ${DEV[ublksrv]:-} ]] && sched_none /dev/ublkb90

# ublksrv's null target (no backing store, completes every request at once), one queue of 128.
if has null; then
    "$UB/ublk.null" add -t null -n 91 -q 1 -d 128 > "$RES/ublksrv-null.log" 2>&1 &
    UBNPID=$!
    for i in $(seq 200); do [[ -b /dev/ublkb91 ]] && break; sleep 0.1; done
    [[ -b /dev/ublkb91 ]] && { DEV[unull]=/dev/ublkb91; sched_none /dev/ublkb91; } || log "ublksrv null did not come up: $(tail -3 "$RES/ublksrv-null.log")"
fi

# The gateway: the same file target twice, zero copy where the kernel has it, and copying; with "null"
# a null device; with "batch" each of them again, taking requests and answering in batches (batch-io).
# gw_device NAME TARGET [KEY: VALUE]...: one device of the gateway's YAML, 1 queue of 128.
gw_device() {
    local name=$1 target=$2 kv
    shift 2
    printf '  - name: %s\n    size: %sMiB\n    queues: 1\n    depth: 128\n    max-io-size: 512KiB\n' "$name" "$SIZE_MIB"
    for kv in "$@"; do printf '    %s\n' "$kv"; done
    printf '    target: %s\n' "$target"
}
FILE_TARGET="{ type: file, path: $NB, direct: true }"
{
    echo "devices:"
    gw_device zc0 "$FILE_TARGET"
    gw_device cp0 "$FILE_TARGET" "zero-copy: false"
    if has null; then gw_device nl0 "{ type: null }"; fi
    if has batch; then
        gw_device bz0 "$FILE_TARGET" "batch-io: true"
        gw_device bc0 "$FILE_TARGET" "zero-copy: false" "batch-io: true"
        if has null; then gw_device bn0 "{ type: null }" "batch-io: true"; fi
    fi
} > /tmp/zc.yaml
gwdevs="zc0:zc cp0:copy"
has null && gwdevs="$gwdevs nl0:null"
has batch && gwdevs="$gwdevs bz0:bzc bc0:bcp"
has null && has batch && gwdevs="$gwdevs bn0:bnull"
# With "profile", the JIT writes its code's symbols to /tmp/perf-PID.map (also asked for by jcmd later).
JOPTS=()
has profile && JOPTS=(-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit)
(exec "$JDK/bin/java" "${JOPTS[@]}" --enable-native-access=ALL-UNNAMED -cp "$APP/*" "$MAIN" up /tmp/zc.yaml --foreground) > "$RES/gateway.log" 2>&1 &
GW=$!
for n in $gwdevs; do
    for i in $(seq 1200); do
        dv=$(sed -n "s|^${n%%:*}: \(/dev/ublkb[0-9]*\)$|\1|p" "$RES/gateway.log")
        [[ -n $dv ]] && break
        kill -0 $GW 2>/dev/null || break
        sleep 0.25
    done
    [[ -b $dv ]] && { DEV[${n#*:}]=$dv; sched_none "$dv"; } || log "gateway: ${n%%:*} did not come up: $(tail -2 "$RES/gateway.log")"
done
# Without AUTO_BUF_REG (Linux < 6.16) zc0 copies too: a second copying device measures nothing new.
grep -q 'device zc0: data path: zero-copy' "$RES/gateway.log" || { log "zc0 has no zero copy here: left out"; unset 'DEV[zc]' 'DEV[bzc]'; }
# Without BATCH_IO the batch devices are the others again: left out.
if has batch && ! grep -q 'device bc0: .*(BATCH_IO)' "$RES/gateway.log"; then
    log "no BATCH_IO here: the batch devices are left out"; unset 'DEV[bzc]' 'DEV[bcp]' 'DEV[bnull]'
fi
{
    echo "date: $(date -u '+%F %H:%M UTC')"; echo "kernel: $(uname -r), $(nproc) vCPUs"
    echo "java: $("$JDK/bin/java" -version 2>&1 | head -1)"; echo "fio: $(fio --version)"
    echo "data paths: $(grep -o 'device [a-z0-9]*: data path: .*' "$RES/gateway.log" | sed 's/^device //; s/data path: //' | tr '\n' ';')"
} > "$RES/env.txt"
cat "$RES/env.txt" >&2

fio_job() { # DEV RW QD [RUNTIME] -> iops
    local f w
    f=$(fio --name=b --filename="$1" --ioengine=io_uring --direct=1 --rw="$2" --bs=4k --iodepth="$3" --size=${SIZE_MIB}M \
        --time_based --runtime="${4:-$RUNTIME}" --ramp_time=1 --norandommap --randrepeat=0 --output-format=terse 2> "$RES/fio.err" | grep '^3;' | tail -1)
    [[ -n $f ]] || { echo NA; return; }
    [[ $2 == *write* ]] && w=49 || w=8
    printf '%s\n' "$f" | awk -F';' -v c=$w '{ printf "%d\n", $c + 0.5 }'
}
# JIT warm-up of the gateway's paths (C2 needs many seconds of load under emulation); the C and kernel devices briefly.
for k in zc copy null bzc bcp bnull; do [[ -n ${DEV[$k]:-} ]] && fio_job "${DEV[$k]}" randrw 32 20 > /dev/null; done
for k in kloop ublksrv unull; do [[ -n ${DEV[$k]:-} ]] && fio_job "${DEV[$k]}" randrw 32 3 > /dev/null; done

order=()
for k in kloop ublksrv copy zc unull null bcp bzc bnull; do [[ -n ${DEV[$k]:-} ]] && order+=("$k"); done
for r in $(seq "$ROUNDS"); do
    # rotate the order each round
    rot=("${order[@]:$(((r - 1) % ${#order[@]}))}" "${order[@]:0:$(((r - 1) % ${#order[@]}))}")
    for job in randread:32 randwrite:32 randread:1 randwrite:1; do
        for k in "${rot[@]}"; do
            [[ -n ${DEV[$k]:-} ]] || continue
            iops=$(fio_job "${DEV[$k]}" "${job%%:*}" "${job#*:}")
            printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$k" "${job%%:*}" "${job#*:}" "$iops" >> "$RES/results.tsv"
            log "round $r $k ${job%%:*} QD${job#*:}: $iops IOPS"
        done
    done
done

has profile && { source "$(dirname "$0")/file-zc-profile.sh"; profile_servers; }

kill -TERM $GW; wait $GW
has profile && cp /tmp/perf-$GW.map "$RES/profile/" 2>/dev/null
"$UB/ublk.loop" del -n 90 > /dev/null 2>&1 || "$UB/ublk" del -n 90 > /dev/null 2>&1
kill $UBPID 2>/dev/null; wait $UBPID 2>/dev/null
if has null; then
    "$UB/ublk.null" del -n 91 > /dev/null 2>&1 || "$UB/ublk" del -n 91 > /dev/null 2>&1
    kill $UBNPID 2>/dev/null; wait $UBNPID 2>/dev/null
fi
losetup -d "${DEV[kloop]}"
echo 0 > "$d/power"; rmdir "$d"
log done
