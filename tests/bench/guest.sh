#!/usr/bin/env bash
# The in-VM half of tests/bench/run.sh: runs as root inside the VM test bed (tests/vm/run.sh)
# and writes its measurements to RESDIR:
#   results.tsv   one line per fio job: section test variant device rw bs qd jobs iops bw_kib clat_us p99_us
#   profile/      CPU accounting, a JFR recording and perf reports of null-target 4k randread QD32 runs
#   *.log         gateway logs, fio errors
#
#   guest.sh RESDIR APPDIR JAVA_HOME MAIN_CLASS [RUNTIME RAMP [PHASES [GOAL_ROUNDS [BASE_APPDIR]]]]
#
# PHASES: any of "goal null memory file profile" (default: all, in that order).
# BASE_APPDIR: a second build's jars (run.sh --baseline-rev); the null and file phases then serve the
# same devices from it too (named base<NAME>) and run each of ours' jobs on them right after, as
# variant "before".
#
# APPDIR holds a snapshot of the gateway's jars taken on the host before the VM started, so that
# sources edited meanwhile never trigger a rebuild inside the VM and one run measures one build.
set -uo pipefail

RES=${1:?resdir}
APP=${2:?appdir}
JDK=${3:?java home}
MAIN=${4:?main class}
RUNTIME=${5:-5}
RAMP=${6:-1}
PHASES=${7:-goal null memory file profile}
GOAL_ROUNDS=${8:-5}
BASE_APP=${9:-}

export UBLKGW_RUN_DIR=/run/ublk-gateway
CFG=/tmp/bench-cfg
WORK=/tmp/bench
mkdir -p "$RES" "$CFG" "$WORK" "$RES/profile"
RESULTS=$RES/results.tsv
: > "$RESULTS"

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# One gateway per phase, serving every device of one YAML in the foreground (one JVM; the CLI's
# background mode would start a second one, which costs ~30 s under TCG), stopped with SIGTERM as
# `ublk-gateway down` does. The jars come from the snapshot (bin/ublk-gateway minus its rebuild check).
declare -A DEV=()
GW_PID="" BASE_PID=""
yaml_begin() { echo "devices:" > "$CFG/$1.yaml"; }
# yaml_dev FILE NAME SIZE QUEUES TARGET-LINES...
yaml_dev() {
    local f=$1 name=$2 size=$3 queues=$4 l; shift 4
    {
        echo "  - name: $name"
        echo "    size: $size"
        echo "    queues: $queues"
        echo "    depth: 128"
        echo "    max-io-size: 512KiB"
        echo "    target:"
        for l in "$@"; do echo "      $l"; done
    } >> "$CFG/$f.yaml"
}
# serve FILE NAMES...: starts the gateway and waits for its devices; sets DEV[name]=/dev/ublkbN.
serve() {
    local f=$1 n d i; shift
    (exec "$JDK/bin/java" --enable-native-access=ALL-UNNAMED ${GW_OPTS:-} -cp "${SERVE_APP:-$APP}/*" "$MAIN" \
        up "$CFG/$f.yaml" --foreground) > "$RES/gateway-$f.log" 2>&1 &
    GW_PID=$!
    for n in "$@"; do
        d=""
        for i in $(seq 1200); do
            d=$(sed -n "s|^$n: \(/dev/ublkb[0-9]*\)$|\1|p" "$RES/gateway-$f.log")
            [[ -n $d ]] && break
            kill -0 "$GW_PID" 2>/dev/null || break
            sleep 0.25
        done
        if [[ -b $d ]]; then
            sched_none "$d"
            DEV[$n]=$d
        else
            log "gateway $f: $n did not come up: $(tail -2 "$RES/gateway-$f.log" | tr '\n' ' ')"
            DEV[$n]=""
        fi
    done
    log "gateway $f (pid $GW_PID) serves: $(for n in "$@"; do printf '%s=%s ' "$n" "${DEV[$n]}"; done)"
}
stop_gw() {
    [[ -z $BASE_PID ]] || stop_pid "$BASE_PID" "baseline gateway"
    BASE_PID=""
    [[ -n $GW_PID ]] || return 0
    stop_pid "$GW_PID" "gateway"
    GW_PID=""
}
# serve_base FILE NAMES...: the baseline build serves FILE's devices again, as base<NAME> (DEV[base<NAME>]).
serve_base() {
    [[ -n $BASE_APP ]] || return 0
    local f=$1 n names=(); shift
    sed 's/^  - name: /  - name: base/' "$CFG/$f.yaml" > "$CFG/$f-base.yaml"
    for n in "$@"; do names+=("base$n"); done
    SERVE_APP=$BASE_APP serve "$f-base" "${names[@]}"
    BASE_PID=$GW_PID GW_PID=""
}
# fio_ours SECTION TEST DEV NAME ARGS...: ours' job on DEV, then (with a baseline) the same on base<NAME>.
fio_ours() {
    local section=$1 test=$2 dev=$3 name=$4; shift 4
    fio_run "$section" "$test" ours "$dev" "$@"
    [[ -z $BASE_APP ]] || fio_run "$section" "$test" before "${DEV[base$name]:-}" "$@"
}
# JIT warm-up of a ublk device's read and write paths (not recorded). Under emulation C2 needs many
# seconds of load before the queue loop runs compiled: with 3 s, the first QD32 jobs measured 5x less
# than the same device a minute later.
warm() {
    [[ -b $1 ]] || return 0
    fio --name=w --filename="$1" --ioengine=io_uring --direct=1 --rw=randrw --bs=4k --iodepth=32 \
        --time_based --runtime="${WARM_SECONDS:-20}" --norandommap --randrepeat=0 > /dev/null 2>&1
}

sched_none() {
    local s=/sys/block/$(basename "$1")/queue/scheduler
    echo none > "$s" 2>/dev/null
    grep -q '\[none\]' "$s" || log "warning: scheduler of $1 is not none: $(cat "$s")"
}

# null_blk devices through configfs, so each gets its own queue count and backing mode.
NULLB=/sys/kernel/config/nullb
nullb_setup() {
    modprobe null_blk nr_devices=0 || return 1
    mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
}
# nullb_add NAME SIZE_MIB SUBMIT_QUEUES MEMORY_BACKED -> prints /dev/nullbN
nullb_add() {
    local d=$NULLB/$1
    mkdir "$d" || return 1
    echo 2 > "$d/queue_mode"         # blk-mq
    echo 0 > "$d/irqmode"            # complete in the submission path
    echo "$2" > "$d/size"            # MiB
    echo 4096 > "$d/blocksize"
    echo "$3" > "$d/submit_queues"
    echo 128 > "$d/hw_queue_depth"   # same tags per queue as the ublk devices (depth 128)
    echo 1024 > "$d/max_sectors"     # 512 KiB like ublk's max-io-size (default is 127 KiB)
    echo "$4" > "$d/memory_backed"
    echo 1 > "$d/power" || return 1
    # Recent kernels name a configfs-made disk after its directory; older ones nullb<index>.
    local dev=/dev/$1 i
    for i in $(seq 50); do
        [[ -b $dev ]] && break
        [[ -b /dev/nullb$(cat "$d/index") ]] && { dev=/dev/nullb$(cat "$d/index"); break; }
        sleep 0.1
    done
    [[ -b $dev ]] || { log "null_blk $1: no block device"; return 1; }
    sched_none "$dev"
    printf '%s\n' "$dev"
}
# nullb_q1_up: K1, the 1-queue null_blk shared by the goal, null and profile phases, made once.
nullb_q1_up() {
    [[ -b ${K1:-} ]] || K1=$(nullb_add nullb_q1 16384 1 0)
}
nullb_del() {
    [[ -d $NULLB/$1 ]] || return 0
    echo 0 > "$NULLB/$1/power"
    rmdir "$NULLB/$1"
}

# fio_run SECTION TEST VARIANT DEV RW BS QD JOBS: one fio job, one results line (NA on failure).
fio_run() {
    local section=$1 test=$2 variant=$3 dev=$4 rw=$5 bs=$6 qd=$7 jobs=$8 out f
    if [[ -z $dev || ! -b $dev ]]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\tNA\tNA\tNA\tNA\n' "$section" "$test" "$variant" "${dev:-none}" \
            "$rw" "$bs" "$qd" "$jobs" >> "$RESULTS"
        return
    fi
    out=$(fio --name=b --filename="$dev" --ioengine=io_uring --direct=1 --rw="$rw" --bs="$bs" \
        --iodepth="$qd" --numjobs="$jobs" --group_reporting --time_based --runtime="$RUNTIME" \
        --ramp_time="$RAMP" --norandommap --randrepeat=0 --output-format=terse 2>"$WORK/fio.err")
    f=$(printf '%s\n' "$out" | grep '^3;' | tail -1)
    if [[ -z $f ]]; then
        log "fio $section/$test/$variant failed: $(tr '\n' ' ' < "$WORK/fio.err")"
        cat "$WORK/fio.err" >> "$RES/fio-errors.log"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\tNA\tNA\tNA\tNA\n' "$section" "$test" "$variant" "$dev" \
            "$rw" "$bs" "$qd" "$jobs" >> "$RESULTS"
        return
    fi
    # terse v3: read bw 7, iops 8, clat mean 16, p99 30; write bw 48, iops 49, clat mean 57, p99 71
    printf '%s\n' "$f" | awk -F';' -v s="$section" -v t="$test" -v v="$variant" -v d="$dev" -v rw="$rw" \
        -v bs="$bs" -v qd="$qd" -v j="$jobs" 'BEGIN { OFS = "\t" } {
            w = (rw ~ /write/)
            iops = w ? $49 : $8; bw = w ? $48 : $7; clat = w ? $57 : $16; p = w ? $71 : $30
            sub(/.*=/, "", p)
            print s, t, v, d, rw, bs, qd, j, int(iops + 0.5), bw, sprintf("%.1f", clat), p }' >> "$RESULTS"
    log "$(tail -1 "$RESULTS" | cut -f1-3,5-10 | tr '\t' ' ')"
}

# The 4k matrix and the sequential reads, ours and the kernel's (and the C reference server's, when
# given) interleaved test by test so that background noise hits all sides alike.
# matrix SECTION OURS1 OURS2 KERNEL1 KERNEL2 [REF1 REF2]; with a baseline, OURS_NAMES holds ours' two names.
matrix() {
    local section=$1 o1=$2 o2=$3 k1=$4 k2=$5 r1=${6:-} r2=${7:-} rw qd q o k r n
    local names=(${OURS_NAMES:-x x})
    for q in 1 2; do
        o=$o1 k=$k1 r=$r1 n=${names[0]}
        [[ $q == 2 ]] && o=$o2 k=$k2 r=$r2 n=${names[1]}
        for rw in randread randwrite; do
            for qd in 1 32 128; do
                fio_ours "$section" "4k $rw QD$qd ${q}q" "$o" "$n" "$rw" 4k "$qd" "$q"
                [[ -z $r ]] || fio_run "$section" "4k $rw QD$qd ${q}q" ref "$r" "$rw" 4k "$qd" "$q"
                fio_run "$section" "4k $rw QD$qd ${q}q" kernel "$k" "$rw" 4k "$qd" "$q"
            done
        done
    done
    for bs in 128k 1m; do
        fio_ours "$section" "$bs read QD16 1q" "$o1" "${names[0]}" read "$bs" 16 1
        [[ -z $r1 ]] || fio_run "$section" "$bs read QD16 1q" ref "$r1" read "$bs" 16 1
        fio_run "$section" "$bs read QD16 1q" kernel "$k1" read "$bs" 16 1
    done
}

# The C reference server (tests/bench/ublk-null-ref.c, built on the host), when there is one.
REF=$APP/ublk-null-ref
declare -A REF_DEV=() REF_PID=()
ref_start() {  # NAME QUEUES [OPTIONS...]
    local n=$1 q=$2 d="" i; shift 2
    REF_DEV[$n]="" REF_PID[$n]=""
    [[ -x $REF ]] || return 0
    "$REF" "$q" 128 16384 "$@" > "$RES/ref-$n.log" 2>&1 &
    REF_PID[$n]=$!
    for i in $(seq 300); do
        d=$(grep -m1 '^/dev/ublkb' "$RES/ref-$n.log")
        [[ -n $d ]] && break
        kill -0 "${REF_PID[$n]}" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -b $d ]]; then sched_none "$d"; REF_DEV[$n]=$d; else log "reference server $n did not start: $(cat "$RES/ref-$n.log")"; fi
}
ref_stop() {
    [[ -n ${REF_PID[$1]:-} ]] || return 0
    stop_pid "${REF_PID[$1]}" "reference server $1"
    REF_PID[$1]=""
}
# stop_pid PID WHAT: SIGTERM, then SIGKILL after 60 s.
stop_pid() {
    local i
    kill -TERM "$1" 2>/dev/null
    for i in $(seq 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$1" 2>/dev/null; then
        log "$2 (pid $1) did not stop within 60 s of SIGTERM; killing it"
        kill -KILL "$1" 2>/dev/null
    fi
    wait "$1" 2>/dev/null
}

prefill() { dd if=/dev/zero of="$1" bs=1M oflag=direct status=none 2>/dev/null || true; }

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "kernel: $(uname -r)"
    echo "cpus: $(nproc)"
    echo "cpu model: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "memory: $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
    echo "fio: $(fio --version)"
    echo "java: $("$JDK/bin/java" -version 2>&1 | head -1)"
    echo "runtime: ${RUNTIME}s ramp: ${RAMP}s"
} > "$RES/env.txt"
cat "$RES/env.txt"

nullb_setup || log "null_blk unavailable"

# ---------------------------------------------------------------- null target vs null_blk
phase_null() {
    log "null target vs null_blk (memory_backed=0, irqmode=0)"
    yaml_begin null
    yaml_dev null nq1 16GiB 1 "type: null"
    yaml_dev null nq2 16GiB 2 "type: null"
    serve_base null nq1 nq2
    serve null nq1 nq2
    warm "${DEV[nq1]}"; warm "${DEV[nq2]}"
    [[ -z $BASE_APP ]] || { warm "${DEV[basenq1]}"; warm "${DEV[basenq2]}"; }
    nullb_q1_up
    K2=$(nullb_add nullb_q2 16384 2 0)
    ref_start ref1 1
    ref_start ref2 2
    OURS_NAMES="nq1 nq2" matrix null "${DEV[nq1]}" "${DEV[nq2]}" "$K1" "$K2" "${REF_DEV[ref1]}" "${REF_DEV[ref2]}"
    ref_stop ref1
    ref_stop ref2
    stop_gw
    nullb_del nullb_q2
    K2=""  # nullb_q1 stays for the profile's reference run
}

# ---------------------------------------------------------------- the QD32 goal, measured in rounds
# The null target's 4k randread QD32 goal against null_blk, measured the way this noisy machine allows:
# GOAL_ROUNDS rounds of kernel, ours, ours polling, ours polling, ours, kernel (each pair brackets the
# other two, so a drift within a round hits all alike); report.sh takes each round's ratio and the median.
# "poll" is the same device with `poll-us: 200`: its queue thread spins for the next request, so fio's
# submissions never have to wake it.
phase_goal() {
    local r v
    log "goal: null target vs null_blk, 4k randread QD32, $GOAL_ROUNDS rounds"
    yaml_begin goal
    yaml_dev goal gq 16GiB 1 "type: null"
    yaml_dev goal gp 16GiB 1 "type: null"
    echo "    poll-us: 200" >> "$CFG/goal.yaml"
    serve goal gq gp
    warm "${DEV[gq]}"; warm "${DEV[gp]}"
    nullb_q1_up
    declare -A goal_dev=([kernel]=$K1 [ours]=${DEV[gq]} [poll]=${DEV[gp]})
    for r in $(seq "$GOAL_ROUNDS"); do
        for v in kernel ours poll poll ours kernel; do
            fio_run goal "4k randread QD32 1q round $r" "$v" "${goal_dev[$v]}" randread 4k 32 1
        done
    done
    stop_gw
}

# ---------------------------------------------------------------- memory target vs null_blk memory_backed=1
phase_memory() {
    log "memory target vs null_blk memory_backed=1 (kernel RAM disk)"
    yaml_begin memory
    yaml_dev memory mq1 512MiB 1 "type: memory"
    yaml_dev memory mq2 512MiB 2 "type: memory"
    serve memory mq1 mq2
    M1=${DEV[mq1]} M2=${DEV[mq2]}
    KM1=$(nullb_add nullb_mem_q1 512 1 1) KM2=$(nullb_add nullb_mem_q2 512 2 1)
    for d in "$M1" "$M2" "$KM1" "$KM2"; do [[ -b $d ]] && prefill "$d"; done  # no reads of holes
    warm "$M1"; warm "$M2"
    matrix memory "$M1" "$M2" "$KM1" "$KM2"
    stop_gw
    nullb_del nullb_mem_q1
    nullb_del nullb_mem_q2
}

# ---------------------------------------------------------------- file target vs loop
# Backing file: 1 GiB, fully written, on ext4 on a RAM-backed null_blk; both sides use O_DIRECT.
phase_file() {
    log "file target vs loop (direct I/O, same backing file on ext4 on null_blk memory_backed=1)"
    FDEV=$(nullb_add nullb_fs 1400 1 1)
    MNT=/mnt/bench-fs
    IMG=$MNT/backing.img
    F1="" L1=""
    if [[ -b $FDEV ]] && mkfs.ext4 -q -F "$FDEV" && mkdir -p "$MNT" && mount "$FDEV" "$MNT"; then
        dd if=/dev/zero of="$IMG" bs=1M count=1024 oflag=direct status=none && sync
        yaml_begin file
        yaml_dev file fq1 1GiB 1 "type: file" "path: $IMG" "direct: true"
        serve_base file fq1
        serve file fq1
        F1=${DEV[fq1]}
        warm "$F1"
        [[ -z $BASE_APP ]] || warm "${DEV[basefq1]}"
        L1=$(losetup --direct-io=on --sector-size 4096 -f --show "$IMG")
        if [[ -b $L1 ]]; then
            sched_none "$L1"
            dio=$(cat "/sys/block/$(basename "$L1")/loop/dio" 2>/dev/null)
            echo "loop dio: $dio" >> "$RES/env.txt"
            [[ $dio == 1 ]] || log "warning: $L1 is not using direct I/O"
        fi
    else
        log "could not set up ext4 on $FDEV"
    fi
    for rw in randread randwrite; do
        fio_ours file "4k $rw QD32 1q" "$F1" fq1 "$rw" 4k 32 1
        fio_run file "4k $rw QD32 1q" kernel "$L1" "$rw" 4k 32 1
    done
    fio_ours file "128k read QD16 1q" "$F1" fq1 read 128k 16 1
    fio_run file "128k read QD16 1q" kernel "$L1" read 128k 16 1
    fio_ours file "128k write QD16 1q" "$F1" fq1 write 128k 16 1
    fio_run file "128k write QD16 1q" kernel "$L1" write 128k 16 1
    stop_gw
    [[ -n $L1 ]] && losetup -d "$L1"
    mountpoint -q "$MNT" && umount "$MNT"
    nullb_del nullb_fs
}

# ---------------------------------------------------------------- where the time goes
# A 1-queue null device, 4k randread QD32, one fio job, measured in separate fio runs:
#  1. CPU accounting from /proc (no profiler attached), for ours and null_blk, and for ours with fio
#     and the queue thread pinned to one vCPU or to two different ones;
#  2. a JFR recording (analysed on the host by run.sh: the JDK's tools start slowly under TCG);
#  3. perf, whole system, JIT code resolved through the JVM's perf map.

# Counters of one moment, read with shell builtins only (a fork+exec costs ~0.1 s under TCG):
#   t <µs>, io <requests done>, cpu <busy ticks> <all ticks>,
#   task <role> <tid> <utime ticks> <stime ticks> <ns on cpu> <ns runnable, waiting for a cpu> <times run> <name>
snap() {  # DEV ROLE:TASKDIR...
    local dev=$1 f role p l c; shift
    local -a a st
    printf 't %s\n' "${EPOCHREALTIME/./}"
    read -r -a a < "/sys/block/${dev##*/}/stat"
    printf 'io %s\n' $((a[0] + a[4]))
    read -r -a a < /proc/stat
    printf 'cpu %s %s\n' $((a[1] + a[2] + a[3] + a[6] + a[7] + a[8])) \
        $((a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7] + a[8]))
    for f in "$@"; do
        role=${f%%:*} p=${f#*:}
        read -r l < "$p/stat" 2>/dev/null || continue
        read -r -a st < "$p/schedstat" 2>/dev/null || continue
        read -r c < "$p/comm"
        l=${l##*) }
        read -r -a a <<< "$l"
        printf 'task %s %s %s %s %s %s %s %s\n' "$role" "${p##*/}" "${a[11]}" "${a[12]}" "${st[0]}" "${st[1]}" "${st[2]}" "${c// /_}"
    done
}

FIO_PID=""
# fio_bg DEV [FIO-OPTIONS...]: 4k randread QD32 in the background until fio_stop.
fio_bg() {
    local d=$1; shift
    fio --name=p --filename="$d" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
        --time_based --runtime=300 --norandommap --randrepeat=0 --output-format=terse "$@" \
        > "$WORK/fio-bg.out" 2>&1 &
    FIO_PID=$!
}
fio_stop() {
    kill -INT "$FIO_PID" 2>/dev/null
    wait "$FIO_PID" 2>/dev/null
}
# Waits until requests flow on DEV (fio starts slowly under TCG), then one more second.
await_io() {
    local d=$1 a b i
    read -r a _ < "/sys/block/${d##*/}/stat"
    for i in $(seq 150); do
        sleep 0.2
        read -r b _ < "/sys/block/${d##*/}/stat"
        ((b > a)) && break
    done
    sleep 1
}

# account LABEL DEV GWPID QTID [FIO-OPTIONS...]: one accounting line for a W-second window.
account() {
    local label=$1 d=$2 gpid=$3 qt=$4 t p before after; shift 4
    local -a tasks=()
    fio_bg "$d" "$@"
    await_io "$d"
    if [[ -n $gpid ]]; then
        for t in /proc/"$gpid"/task/*; do
            if [[ ${t##*/} == "$qt" ]]; then tasks+=("queue:$t"); else tasks+=("gw:$t"); fi
        done
    fi
    for p in $(pgrep -x fio); do for t in /proc/"$p"/task/*; do tasks+=("fio:$t"); done; done
    before=$(snap "$d" "${tasks[@]}")
    sleep "$W"
    after=$(snap "$d" "${tasks[@]}")
    fio_stop
    { echo "== $label"; echo "$before"; echo "--"; echo "$after"; } >> "$PROF/accounting.raw"
    # Per-task deltas, only for tasks seen in both snapshots.
    printf '%s\n--\n%s\n' "$before" "$after" | awk -v label="$label" -v hz="$HZ" '
        BEGIN { second = 0 }
        $1 == "--" { second = 1; next }
        $1 == "t" { if (second) t += $2; else t -= $2 }
        $1 == "io" { if (second) io += $2; else io -= $2 }
        $1 == "cpu" { if (second) { busy += $2; all += $3 } else { busy -= $2; all -= $3 } }
        $1 == "task" && !second { for (i = 4; i <= 8; i++) b[$3, i] = $i; seen[$3] = 1 }
        $1 == "task" && second && ($3 in seen) {
            r = $2; u[r] += $4 - b[$3, 4]; s[r] += $5 - b[$3, 5]; run[r] += $6 - b[$3, 6]
            wait[r] += $7 - b[$3, 7]; cs[r] += $8 - b[$3, 8]
        }
        END {
            n = io > 0 ? io : 1; secs = t / 1e6
            printf "%s\t%d\t%.1f\t%.1f", label, io / secs, 100 * busy / all, busy * 1e6 / hz / n
            for (i = 1; i <= 3; i++) {
                r = i == 1 ? "fio" : i == 2 ? "queue" : "gw"
                tk = u[r] + s[r]
                printf "\t%.1f\t%s\t%.1f\t%.2f\t%.1f", run[r] / 1e3 / n, tk ? sprintf("%.0f", 100 * u[r] / tk) : "-",
                    100 * run[r] / 1e9 / secs, cs[r] / n, wait[r] / 1e3 / n
            }
            printf "\n"
        }' >> "$PROF/accounting.tsv"
    # The gateway's other threads that used CPU in the window, by name.
    printf '%s\n--\n%s\n' "$before" "$after" | awk -v label="$label" '
        $1 == "--" { second = 1; next }
        $1 == "task" && $2 == "gw" { if (!second) b[$3] = $6; else if ($3 in b) ms[$9] += ($6 - b[$3]) / 1e6 }
        END { for (k in ms) if (ms[k] >= 1) printf "%s\t%s\t%.0f\n", label, k, ms[k] }' | sort -t$'\t' -k3,3nr \
        >> "$PROF/accounting-other-threads.tsv"
    log "account: $(tail -1 "$PROF/accounting.tsv" | cut -f1-4 | tr '\t' ' ')"
}

profile() {
    local pid dev qtid
    PROF=$RES/profile W=5 HZ=$(getconf CLK_TCK)
    yaml_begin prof
    yaml_dev prof prof 16GiB 1 "type: null"
    serve prof prof
    pid=$GW_PID dev=${DEV[prof]}
    [[ -b $dev ]] || { log "profile: gateway did not come up"; return 1; }
    nullb_q1_up
    qtid=$(grep -l '^ublk-prof-q0$' /proc/"$pid"/task/*/comm | head -1 | cut -d/ -f5)
    [[ -n $qtid ]] || { log "profile: no queue thread named ublk-prof-q0"; return 1; }
    log "profile: gateway pid $pid, queue thread $qtid, $dev"
    local d
    for d in "$dev" "$K1"; do echo 1 > "/sys/block/${d##*/}/queue/iostats"; done  # counted on both sides
    fio_bg "$dev"; await_io "$dev"; sleep 8; fio_stop  # JIT warm-up

    # 1. accounting
    printf 'run\tiops\tvm_busy_pct\tbusy_us_per_io' > "$PROF/accounting.tsv"
    for r in fio queue gw; do
        printf '\t%s_run_us\t%s_user_pct\t%s_busy_pct\t%s_switches_per_io\t%s_runq_wait_us' "$r" "$r" "$r" "$r" "$r" >> "$PROF/accounting.tsv"
    done
    echo >> "$PROF/accounting.tsv"
    account "ours" "$dev" "$pid" "$qtid"
    local variant rq
    for variant in "" user-copy defer-taskrun; do
        ref_start prof 1 $variant
        if [[ -b ${REF_DEV[prof]} ]]; then
            echo 1 > "/sys/block/${REF_DEV[prof]##*/}/queue/iostats"
            rq=$(grep -l '^ublkref-q0$' /proc/"${REF_PID[prof]}"/task/*/comm | head -1 | cut -d/ -f5)
            account "C reference server${variant:+, $variant}" "${REF_DEV[prof]}" "${REF_PID[prof]}" "$rq"
        fi
        ref_stop prof
    done
    [[ -b ${K1:-} ]] && account "null_blk" "$K1" "" ""
    taskset -pc 0 "$qtid" > /dev/null
    account "ours, fio and queue thread both on vCPU 0" "$dev" "$pid" "$qtid" --cpus_allowed=0
    taskset -pc 1 "$qtid" > /dev/null
    account "ours, fio on vCPU 0, queue thread on vCPU 1" "$dev" "$pid" "$qtid" --cpus_allowed=0
    taskset -pc 0-1 "$qtid" > /dev/null
    account "ours (again)" "$dev" "$pid" "$qtid"

    # 2. JFR: start (jcmd itself takes ~20 s to start here), one fio run, stop.
    "$JDK/bin/jcmd" "$pid" JFR.start name=bench settings=profile 'jdk.ExecutionSample#period=1ms' \
        'jdk.CPUTimeSample#enabled=true' 'jdk.CPUTimeSample#throttle=1ms' > "$WORK/jcmd.out" 2>&1 \
        || log "JFR.start failed: $(cat "$WORK/jcmd.out")"
    fio --name=p --filename="$dev" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
        --time_based --runtime="$W" --norandommap --randrepeat=0 --output-format=terse > "$PROF/fio-jfr.out" 2>&1
    "$JDK/bin/jcmd" "$pid" JFR.stop name=bench filename="$PROF/null-randread-qd32.jfr" > "$WORK/jcmd.out" 2>&1 \
        || log "JFR.stop failed: $(cat "$WORK/jcmd.out")"

    # 3. perf, whole system, with call graphs.
    if command -v perf > /dev/null; then
        fio_bg "$dev"
        await_io "$dev"
        perf record -a -g -F 999 -o "$WORK/perf.data" -- sleep "$W" > "$WORK/perf.log" 2>&1
        fio_stop
        cp "$WORK/fio-bg.out" "$PROF/fio-perf.out"
        "$JDK/bin/jcmd" "$pid" Compiler.perfmap > /dev/null 2>&1
        local rep=(perf report -i "$WORK/perf.data" --stdio --no-children)
        "${rep[@]}" -g none --sort comm,dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -30 > "$PROF/perf-comm-dso.txt"
        "${rep[@]}" -g none --comm ublk-prof-q0 --sort dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 > "$PROF/perf-queue-thread-symbols.txt"
        "${rep[@]}" -g none --comm fio --sort dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 > "$PROF/perf-fio-symbols.txt"
        "${rep[@]}" -g caller,2,callee,function,percent --percent-limit 2 --comm ublk-prof-q0 --sort sym 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -300 > "$PROF/perf-queue-thread-callers.txt"
        "${rep[@]}" -g caller,2,callee,function,percent --percent-limit 2 --comm fio --sort sym 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -300 > "$PROF/perf-fio-callers.txt"
    fi
    stop_gw
}

for phase in $PHASES; do
    case $phase in
        null) phase_null ;;
        goal) phase_goal ;;
        memory) phase_memory ;;
        file) phase_file ;;
        profile) log "profile: null target, 4k randread QD32, 1 queue"; profile || log "profile failed" ;;
        *) log "unknown phase $phase" ;;
    esac
done
nullb_del nullb_q1
nullb_del nullb_q2
log "done"
