# Helpers for the end-to-end cases. guest.sh sources this file, then one case file, in a fresh bash
# per case. A case passes when its script exits 0; `fail REASON` (or any unexpected command failure)
# ends it with that reason.
#
# Set by guest.sh: E2E_GW (the launcher), E2E_CASE (case name), E2E_WORK (scratch dir on tmpfs),
# E2E_FS (an ext4 filesystem on a loop device, for backing files), E2E_OUT (shared out dir).
set -eEuo pipefail

GW=${E2E_GW:?}
CASE=${E2E_CASE:?}
W=${E2E_WORK:?}
FS=${E2E_FS:?}
RUN_DIR=${UBLKGW_RUN_DIR:-/run/ublk-gateway}
SHM_DIR=${UBLKGW_SHM_DIR:-/dev/shm/ublk-gateway}
REASON_FILE=$W/.reason
MiB=$((1 << 20))

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }

# Ends the case as failed; the first reason given is the one reported.
fail() {
    [[ -s $REASON_FILE ]] || printf '%s\n' "$*" | head -c 400 | tr '\n' ' ' > "$REASON_FILE"
    log "FAIL: $*"
    exit 1
}
_arm_err_trap() {
    trap 'fail "unexpected failure (exit $?) at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"' ERR
}
_arm_err_trap

# Commands to run when the case's shell exits, however it exits (e.g. restoring sysctls).
_AT_EXIT=()
at_exit() { _AT_EXIT+=("$1"); }
_run_at_exit() {
    local c
    for c in "${_AT_EXIT[@]}"; do eval "$c" || true; done
}
trap _run_at_exit EXIT

# ---------------------------------------------------------------- several cases in one file

# A case file may hold several cases that share a set-up (e.g. one gateway serving a device for
# each of them): it calls `subcase NAME FUNCTION` for each. guest.sh then reports the subcases
# instead of the file, and runs the file when the filter matches any of its subcase names.

E2E_RESULTS=${E2E_RESULTS:-$W/.results}

# say LINE: a result line, to the results file and to the console (fd 3, when guest.sh opened it).
say() {
    printf '%s\n' "$*" >> "$E2E_RESULTS"
    { printf '%s\n' "$*" >&3; } 2> /dev/null || true
    log "$*"
}

# selected NAME: the case filter (E2E_FILTER, an extended regex) lets NAME run.
selected() { [[ -z ${E2E_FILTER:-} || $1 =~ $E2E_FILTER ]]; }

# passed NAME: subcase NAME has passed in this file.
passed() { [[ -f $E2E_WORK/.passed-$1 ]]; }

# subcase [--always] NAME FUNCTION: runs FUNCTION in a subshell as case NAME, in its own scratch
# dir $W/NAME, unless the filter rules it out (--always: runs whenever another case of the file
# ran, e.g. the teardown). `fail` in it ends only that case. Reports PASS/FAIL; never fails itself.
subcase() {
    local always=""
    [[ $1 == --always ]] && { always=1; shift; }
    local name=$1 fn=$2 t0=$SECONDS rc=0 reason
    if [[ -n $always ]]; then
        [[ -f $W/.subcases ]] || selected "$name" || return 0
    else
        selected "$name" || return 0
    fi
    : > "$W/.subcases"
    echo "RUN $name" >> "$E2E_RESULTS"
    log "==== $name"
    trap - ERR
    set +e
    (
        set -eE
        REASON_FILE=$W/.reason-$name
        W=$W/$name
        mkdir -p "$W"
        cd "$W"
        _AT_EXIT=()
        trap _run_at_exit EXIT
        _arm_err_trap
        "$fn"
    )
    rc=$?
    set -e
    _arm_err_trap
    if ((rc == 0)); then
        touch "$E2E_WORK/.passed-$name"
        say "PASS $name ($((SECONDS - t0))s)"
    else
        reason=$(cat "$W/.reason-$name" 2> /dev/null || true)
        say "FAIL $name: ${reason:-exit code $rc} ($((SECONDS - t0))s)"
    fi
    return 0
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.2 s; fails the case after SECONDS.
wait_until() {
    local limit=$1 what=$2 end=$((SECONDS + $1))
    shift 2
    until "$@"; do
        ((SECONDS < end)) || fail "timed out after ${limit} s waiting for $what"
        sleep 0.2
    done
}

# ---------------------------------------------------------------- the CLI

# gw ARGS...: runs the CLI and never fails by itself. Sets GW_RC, GW_OUT, GW_ERR (stderr without the
# JVM's own notices). Any Java stack trace or JVM crash report fails the case.
gw() {
    local t0=$SECONDS
    GW_RC=0
    "$GW" "$@" > "$W/gw.out" 2> "$W/gw.err" < /dev/null || GW_RC=$?
    log "ublk-gateway $* -> exit $GW_RC ($((SECONDS - t0)) s)"
    sed 's/^/    stdout: /' "$W/gw.out"
    sed 's/^/    stderr: /' "$W/gw.err"
    GW_OUT=$(cat "$W/gw.out")
    GW_ERR=$(grep -vE '^(OpenJDK 64-Bit Server VM warning:|Picked up JAVA_TOOL_OPTIONS|NOTE: Picked up)' "$W/gw.err" || true)
    no_stack_trace "$W/gw.err" "ublk-gateway $1"
}

# gw_ok ARGS...: like gw, and fails the case unless the command succeeded.
gw_ok() {
    gw "$@"
    [[ $GW_RC == 0 ]] || fail "ublk-gateway $*: exit $GW_RC: ${GW_ERR:-no message}"
}

no_stack_trace() {
    local file=$1 what=$2 hit
    hit=$(grep -m1 -E 'Exception in thread|^[[:space:]]+at [a-z][a-zA-Z0-9_$]*\.[a-zA-Z0-9_.$]+\(|A fatal error has been detected|^Caused by: ' "$file" || true)
    [[ -z $hit ]] || fail "$what: Java stack trace or crash in its output: $hit"
}

# expect_one_error_line WHAT PATTERN: the last gw call failed (exit != 0) with exactly one stderr line
# "ublk-gateway: ..." that matches the extended regex PATTERN.
expect_one_error_line() {
    local what=$1 pattern=$2 n
    [[ $GW_RC != 0 ]] || fail "$what: exit code 0, expected a failure"
    n=$(printf '%s' "$GW_ERR" | grep -c . || true)
    [[ $n == 1 ]] || fail "$what: expected one line on stderr, got $n: $(printf '%s' "$GW_ERR" | head -3 | tr '\n' '|')"
    [[ $GW_ERR == "ublk-gateway: "* ]] || fail "$what: stderr does not start with 'ublk-gateway: ': $GW_ERR"
    grep -qE -- "$pattern" <<< "$GW_ERR" || fail "$what: message does not match /$pattern/: $GW_ERR"
}

# ---------------------------------------------------------------- state files and devices

state_file() { printf '%s/%s.json' "$RUN_DIR" "$1"; }

# state_field NAME FIELD: one field of a state file (empty if the file or field is missing).
state_field() {
    local f
    f=$(state_file "$1")
    [[ -f $f ]] || return 0
    sed -n 's/.*"'"$2"'":"\{0,1\}\([^",}]*\).*/\1/p' "$f"
}

state_pid_is() { [[ $(state_field "$1" pid) == "$2" ]]; }

alive() { [[ -n $1 ]] && kill -0 "$1" 2> /dev/null && [[ $(ps -o stat= -p "$1" 2> /dev/null) != Z* ]]; }

# yaml_device NAME SIZE TYPE [KEY=VALUE]...: one device entry of a YAML file; keys path/direct/
# sync/create go to the target, others (queues, depth, recovery, block-size, max-io-size) to the device.
yaml_device() {
    local name=$1 size=$2 type=$3 dev="" tgt="" kv
    shift 3
    for kv in "$@"; do
        case ${kv%%=*} in
            path | direct | sync | create) tgt+="      ${kv%%=*}: ${kv#*=}"$'\n' ;;
            *) dev+="    ${kv%%=*}: ${kv#*=}"$'\n' ;;
        esac
    done
    printf '  - name: %s\n    size: %s\n%s    target:\n      type: %s\n%s' "$name" "$size" "$dev" "$type" "$tgt"
}

# mk_yaml FILE NAME SIZE TYPE [KEY=VALUE]...: a YAML file with one device (see yaml_device).
mk_yaml() {
    local f=$1
    shift
    { echo "devices:"; yaml_device "$@"; } > "$f"
    sed 's/^/    yaml: /' "$f"
}

# up_fg NAME YAML: `up YAML --foreground` started in the background (one JVM instead of two).
# Sets GW_PID, DEV, DEV_ID once the state file names this process and the device node exists.
up_fg() {
    up_fg_devices "$2" "$1"
    DEV=${DEV_OF[$1]} DEV_ID=${ID_OF[$1]}
}

# up_fg_devices YAML NAME...: like up_fg for a file with several devices, all served by one
# gateway (output in $W/FIRST-NAME.fg.log). Sets GW_PID and DEV_OF[NAME], ID_OF[NAME].
declare -A DEV_OF=() ID_OF=()
up_fg_devices() {
    local yaml=$1 t0=$SECONDS name dev id
    shift
    local fglog=$W/$1.fg.log
    "$GW" up "$yaml" --foreground > "$fglog" 2>&1 < /dev/null &
    GW_PID=$!
    echo "$GW_PID" >> "$W/.fg-pids"
    local end=$((SECONDS + 180))
    for name in "$@"; do
        until state_pid_is "$name" "$GW_PID"; do
            if ! alive "$GW_PID"; then
                no_stack_trace "$fglog" "up --foreground"
                fail "up $* --foreground exited before serving: $(grep . "$fglog" | tail -1)"
            fi
            ((SECONDS < end)) || fail "up $* --foreground: $name not served after 180 s"
            sleep 0.2
        done
    done
    for name in "$@"; do
        dev=$(state_field "$name" blockDevice)
        id=$(state_field "$name" devId)
        [[ $dev == /dev/ublkb"$id" ]] || fail "state file of $name: blockDevice $dev does not match devId $id"
        wait_until 10 "$dev to appear" test -b "$dev"
        wait_until 10 "up --foreground to print '$name: $dev'" grep -qx "$name: $dev" "$fglog"
        DEV_OF[$name]=$dev ID_OF[$name]=$id
        log "$name: $dev served by foreground gateway pid $GW_PID"
    done
    log "gateway pid $GW_PID up after $((SECONDS - t0)) s"
}

# up_bg NAME YAML: `up YAML` (background gateway); sets GW_PID, DEV, DEV_ID from its output.
up_bg() {
    local name=$1 yaml=$2
    gw_ok up "$yaml"
    DEV=$(sed -n "s|^$name: \(/dev/ublkb[0-9]*\)\$|\1|p" <<< "$GW_OUT")
    [[ -n $DEV ]] || fail "up $name: no '$name: /dev/ublkbN' line in its output"
    GW_PID=$(state_field "$name" pid)
    DEV_ID=$(state_field "$name" devId)
    [[ $DEV == /dev/ublkb"$DEV_ID" ]] || fail "up printed $DEV, state file says devId $DEV_ID"
    grep -q "gateway pid $GW_PID" <<< "$GW_OUT" || fail "up $name: output does not name gateway pid $GW_PID"
    alive "$GW_PID" || fail "up $name: gateway pid $GW_PID is not running"
    [[ -b $DEV ]] || fail "up $name: $DEV is not a block device"
}

# check_geometry DEV SIZE_BYTES [LOGICAL_BLOCK_SIZE]
check_geometry() {
    local size ss
    size=$(blockdev --getsize64 "$1")
    ss=$(blockdev --getss "$1")
    [[ $size == "$2" ]] || fail "$1 has $size bytes, expected $2"
    [[ $ss == "${3:-4096}" ]] || fail "$1 has logical block size $ss, expected ${3:-4096}"
}

# assert_gone NAME ID: device nodes and state file disappear within 15 s.
assert_gone() {
    local name=$1 id=$2 end=$((SECONDS + 15))
    while [[ -e /dev/ublkb$id || -e /dev/ublkc$id || -e $(state_file "$name") ]]; do
        if ((SECONDS >= end)); then
            fail "$name: still present 15 s after stopping:$([[ -e /dev/ublkb$id ]] && echo " /dev/ublkb$id")$([[ -e /dev/ublkc$id ]] && echo " /dev/ublkc$id")$([[ -e $(state_file "$name") ]] && echo " state file")"
        fi
        sleep 0.2
    done
}

# stop_gw NAME PID ID [BOUND]: SIGTERM to the gateway; it must exit within BOUND s (default 60)
# and take its device with it.
stop_gw() {
    local name=$1 pid=$2 id=$3 bound=${4:-60}
    stop_pid "$pid" "$bound" "$name"
    assert_gone "$name" "$id"
    gateway_log_clean "$name"
}

# stop_devices PID BOUND NAME...: stop_gw for a gateway serving several devices (ids in ID_OF).
stop_devices() {
    local pid=$1 bound=$2 name
    shift 2
    stop_pid "$pid" "$bound" "$*"
    for name in "$@"; do assert_gone "$name" "${ID_OF[$name]}"; done
    gateway_log_clean "$1"
}

# stop_pid PID BOUND WHAT: SIGTERM, and the process must exit within BOUND s. Sets STOP_SECONDS.
stop_pid() {
    local pid=$1 bound=$2 name=$3 t0=$SECONDS
    kill -TERM "$pid"
    local end=$((SECONDS + bound))
    while alive "$pid"; do
        ((SECONDS < end)) || fail "gateway pid $pid ($name) still running ${bound} s after SIGTERM"
        sleep 0.1
    done
    wait "$pid" 2> /dev/null || true
    STOP_SECONDS=$((SECONDS - t0))
    log "gateway pid $pid ($name) exited $STOP_SECONDS s after SIGTERM"
}

# gateway_log_clean NAME: its logs (foreground output, run-dir log) hold no Java stack trace, no JVM
# crash and no ERROR entry.
gateway_log_clean() {
    local f
    for f in "$W/$1.fg.log" "$RUN_DIR/$1.log"; do
        [[ -f $f ]] || continue
        no_stack_trace "$f" "gateway log $f"
        ! grep -q ' ERROR ' "$f" || fail "gateway log $f: $(grep -m1 ' ERROR ' "$f")"
    done
}

# ---------------------------------------------------------------- data

# mk_random FILE MIB: random data.
mk_random() { head -c $(($2 * MiB)) /dev/urandom > "$1"; }

# write_direct SRC DEV OFFSET_MIB [dd flags...]: writes SRC at OFFSET_MIB with O_DIRECT and fsync.
write_direct() {
    local src=$1 dev=$2 off=$3
    dd if="$src" of="$dev" bs=1M seek="$off" oflag=direct conv=fsync,notrunc status=none \
        || fail "writing $src to $dev at ${off} MiB failed"
}

# same_as DEV OFFSET_MIB FILE: the device (O_DIRECT reads) holds FILE at OFFSET_MIB.
same_as() {
    local dev=$1 off=$2 file=$3 len
    len=$(stat -c %s "$file")
    cmp -s <(dd if="$dev" bs=1M skip="$off" count=$((len / MiB)) iflag=direct status=none) "$file"
}

# zeros_at DEV OFFSET_MIB LEN_MIB
zeros_at() {
    cmp -s <(dd if="$1" bs=1M skip="$2" count="$3" iflag=direct status=none) <(head -c $(($3 * MiB)) /dev/zero)
}

# run_fio LABEL ARGS...: fio with terse output; fails the case unless it exits 0 with error 0.
# Sets FIO_READ_KB and FIO_WRITE_KB (whole group).
run_fio() {
    local label=$1 t0=$SECONDS rc=0 line
    shift
    fio --name="$label" --group_reporting --output-format=terse --terse-version=3 "$@" > "$W/fio-$label.out" 2> "$W/fio-$label.err" || rc=$?
    line=$(grep '^3;' "$W/fio-$label.out" | tail -1 || true)
    FIO_ERR=$(cut -d';' -f5 <<< "$line")
    FIO_READ_KB=$(cut -d';' -f6 <<< "$line")
    FIO_WRITE_KB=$(cut -d';' -f47 <<< "$line")
    log "fio $label: exit $rc, error ${FIO_ERR:-?}, read ${FIO_READ_KB:-?} KiB, written ${FIO_WRITE_KB:-?} KiB ($((SECONDS - t0)) s)"
    if [[ $rc != 0 || $FIO_ERR != 0 ]]; then
        sed 's/^/    fio: /' "$W/fio-$label.err" | head -20
        fail "fio $label: exit $rc, error ${FIO_ERR:-none}: $(grep -m1 -iE 'verify|err|fail' "$W/fio-$label.err" || head -1 "$W/fio-$label.err")"
    fi
}

# Common fio options for device tests.
FIO_DEV=(--ioengine=io_uring --direct=1 --verify_fatal=1 --exitall_on_error=1)

# fio_verify_jobs DEV LABEL_PREFIX: the two verification jobs of the data cases: 4k random writes
# then reads (32 MiB at 0) and 128k sequential writes then reads (64 MiB at 128 MiB).
fio_verify_jobs() {
    local dev=$1 p=$2
    run_fio "$p-rand4k" --filename="$dev" "${FIO_DEV[@]}" --rw=randwrite --bs=4k --iodepth=16 \
        --size=32M --offset=0 --verify=crc32c --do_verify=1
    ((FIO_WRITE_KB == 32768 && FIO_READ_KB == 32768)) || fail "fio $p-rand4k moved $FIO_WRITE_KB/$FIO_READ_KB KiB, expected 32768 written and verified"
    run_fio "$p-seq128k" --filename="$dev" "${FIO_DEV[@]}" --rw=write --bs=128k --iodepth=8 \
        --size=64M --offset=128M --verify=crc32c --do_verify=1
    ((FIO_WRITE_KB == 65536 && FIO_READ_KB == 65536)) || fail "fio $p-seq128k moved $FIO_WRITE_KB/$FIO_READ_KB KiB, expected 65536 written and verified"
}

# fio_verify_only FILE LABEL_PREFIX: re-reads what fio_verify_jobs wrote, from another file (e.g. the
# backing file after the device is gone), and checks every block.
fio_verify_only() {
    local file=$1 p=$2
    run_fio "$p-rand4k" --filename="$file" "${FIO_DEV[@]}" --rw=randwrite --bs=4k --iodepth=16 \
        --size=32M --offset=0 --verify=crc32c --do_verify=1 --verify_only
    run_fio "$p-seq128k" --filename="$file" "${FIO_DEV[@]}" --rw=write --bs=128k --iodepth=8 \
        --size=64M --offset=128M --verify=crc32c --do_verify=1 --verify_only
}

# allocated_kib FILE: space actually allocated to a (sparse) file.
allocated_kib() { echo $(($(stat -c '%b * %B' "$1") / 1024)); }

# drop_caches: write back and drop clean page cache, dentries and inodes.
drop_caches() {
    sync
    echo 3 > /proc/sys/vm/drop_caches
}
