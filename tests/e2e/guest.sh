#!/usr/bin/env bash
# Runs the end-to-end cases inside the VM (as root, with ublk_drv): every file under cases/, in name
# order, each in its own bash (with lib.sh) and a time limit. A file is one case named after it
# (cases/NN-name.sh), or holds several that call `subcase NAME FUNCTION` (see lib.sh). Prints
# "PASS name (Ns)" / "FAIL name: reason (Ns)" per case and a summary; appends the same to
# OUT/results.txt as it goes, and keeps each file's log in OUT/logs/NAME.log. Exit status 1 if
# any case failed.
#
#   tests/e2e/guest.sh --gw LAUNCHER --out DIR [--skip REGEX] [FILTER]
#
# FILTER is an extended regex matched against case names (e.g. 'fio|discard'); --skip leaves out
# the files whose name (NN-name) matches its regex.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib/hs-err.sh
source "$HERE/../../scripts/lib/hs-err.sh"
GW="" OUT="" FILTER="" SKIP=""
while (($#)); do
    case $1 in
        --gw) GW=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --skip) SKIP=$2; shift 2 ;;
        -*) echo "guest.sh: unknown option $1" >&2; exit 2 ;;
        *) FILTER=$1; shift ;;
    esac
done
[[ -x $GW && -d $OUT ]] || { echo "usage: guest.sh --gw LAUNCHER --out DIR [FILTER]" >&2; exit 2; }

CASE_TIMEOUT=${E2E_CASE_TIMEOUT:-480}
RESULTS=$OUT/results.txt
LOGS=$OUT/logs
ROOTW=/tmp/e2e
FS=$ROOTW/fs
RUN_DIR=${UBLKGW_RUN_DIR:-/run/ublk-gateway}
mkdir -p "$LOGS" "$ROOTW"
: > "$RESULTS"

say() { printf '%s\n' "$*" | tee -a "$RESULTS"; }

die_setup() {
    say "SETUP-FAILED $*"
    exit 1
}

# ---- the test bed: ublk, and an ext4 filesystem on a loop device for backing files (so that the
# file target sits on a real block stack: O_DIRECT, page cache, writeback, hole punching).
[[ $(id -u) == 0 ]] || die_setup "not root"
[[ -e /dev/ublk-control ]] || modprobe ublk_drv 2> /dev/null || true
[[ -e /dev/ublk-control ]] || die_setup "no /dev/ublk-control (ublk_drv not loaded)"
truncate -s 1536M "$ROOTW/fs.img"
mkfs.ext4 -q -F -E nodiscard "$ROOTW/fs.img" || die_setup "mkfs.ext4 of the backing filesystem failed"
mkdir -p "$FS"
mount -o loop "$ROOTW/fs.img" "$FS" || die_setup "cannot loop-mount the backing filesystem"
dmesg -c > /dev/null
# JVM options for every JVM the cases start (see run.sh: AOT cache, C1 only), gateways included
[[ -n ${E2E_JAVA_TOOL_OPTIONS:-} ]] && export JAVA_TOOL_OPTIONS=$E2E_JAVA_TOOL_OPTIONS

# ---- cleanup between cases: anything a case left running or existing is removed here, and
# reported, so that one failure does not cascade.
LEFT=()
cleanup_case() {
    local w=$1 p name id f m
    LEFT=()
    # processes: background fio/dd of the case, then gateways (TERM, then KILL)
    for p in $(pgrep -x fio; pgrep -x dd); do
        LEFT+=("process $(ps -o comm= -p "$p" 2> /dev/null) $p")
        kill -KILL "$p" 2> /dev/null
    done
    for p in $(pgrep -f 'dev\.ublkgateway\.core\.cli\.Main'); do
        LEFT+=("gateway pid $p")
        kill -TERM "$p" 2> /dev/null
    done
    for _ in $(seq 150); do
        pgrep -f 'dev\.ublkgateway\.core\.cli\.Main' > /dev/null || break
        sleep 0.2
    done
    for p in $(pgrep -f 'dev\.ublkgateway\.core\.cli\.Main'); do kill -KILL "$p" 2> /dev/null; done
    sleep 0.5
    # mounts under the case's scratch dir
    while read -r m; do
        LEFT+=("mount $m")
        umount -l "$m" 2> /dev/null
    done < <(awk -v w="$w/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r)
    # devices: state files first (by name), then any ublk device the kernel still has
    for f in "$RUN_DIR"/*.json; do
        [[ -f $f ]] || continue
        name=$(basename "$f" .json)
        LEFT+=("state file $name")
        "$GW" down "$name" > /dev/null 2>&1 || rm -f "$f"
    done
    for f in /dev/ublkc*; do
        [[ -e $f ]] || continue
        id=${f#/dev/ublkc}
        LEFT+=("ublk device $id")
        "$GW" down "$id" > /dev/null 2>&1 || true
    done
    rm -rf "$w" "${FS:?}"/* /dev/shm/ublk-gateway "$RUN_DIR"/*.log 2> /dev/null
}

# kernel messages since the last call
new_dmesg() { dmesg -c; }

mapfile -t CASE_FILES < <(ls "$HERE"/cases/*.sh | sort)
T_ALL=$SECONDS
say "e2e: $(uname -r), $(nproc) CPUs, case time limit ${CASE_TIMEOUT} s${FILTER:+, filter /$FILTER/}${JAVA_TOOL_OPTIONS:+, JVM options: $JAVA_TOOL_OPTIONS}"

for file in "${CASE_FILES[@]}"; do
    name=$(basename "$file" .sh)
    [[ -n $SKIP && $name =~ $SKIP ]] && continue
    name=${name#[0-9][0-9]-}
    mapfile -t subs < <(sed -n 's/^[[:space:]]*subcase \(--always \)\{0,1\}\([a-z0-9._-]*\) .*/\2/p' "$file")
    if [[ -n $FILTER && ! $name =~ $FILTER ]]; then
        match=""
        for s in "${subs[@]}"; do [[ $s =~ $FILTER ]] && match=1; done
        [[ -n $match ]] || continue
    fi
    # "# e2e-when-named: WHY" in a file: it runs only when the filter names it (see tests/e2e/README.md)
    why=$(sed -n 's/^# e2e-when-named: *//p' "$file" | head -1)
    if [[ -n $why && -z $FILTER ]]; then
        echo "e2e: $name not run (only when named: $why)"
        continue
    fi
    w=$ROOTW/$name
    rm -rf "$w" && mkdir -p "$w"
    echo "RUN $name" >> "$RESULTS"
    log=$LOGS/$name.log
    # time limit: "# e2e-timeout: SECONDS" in the file, else the per-case limit times its cases
    limit=$(sed -n 's/^# e2e-timeout: *\([0-9][0-9]*\).*/\1/p' "$file" | head -1)
    [[ -n $limit ]] || limit=$((CASE_TIMEOUT * (${#subs[@]} > 1 ? ${#subs[@]} : 1)))
    t0=$SECONDS
    rc=0
    # fd 3: the console, for the PASS/FAIL lines of subcases
    E2E_TESTS=$HERE E2E_GW=$GW E2E_CASE=$name E2E_WORK=$w E2E_FS=$FS E2E_OUT=$OUT E2E_RESULTS=$RESULTS \
        E2E_FILTER=$FILTER timeout -k 15 "$limit" \
        bash -c 'source "$1"; cd "$E2E_WORK"; source "$2"' _ "$HERE/lib.sh" "$file" \
        3>&1 > "$log" 2>&1 < /dev/null || rc=$?
    secs=$((SECONDS - t0))
    reason=$(cat "$w/.reason" 2> /dev/null || true)
    grouped="" sub_failed=""
    [[ -f $w/.subcases ]] && grouped=1
    sed -n "/^RUN $name\$/,\$p" "$RESULTS" | grep -q '^FAIL ' && sub_failed=1
    # keep what the gateways wrote
    for f in "$RUN_DIR"/*.log "$w"/*.fg.log "$w"/hs_err*.log; do
        [[ -f $f ]] && { echo "---- $f"; cat "$f"; } >> "$log"
    done
    # a JVM that crashed (a CLI call's report is in the case's dir, a gateway's in the run dir):
    # its signal and frame go into the reason (the console shows only the end of the log)
    crash=""
    for f in "$w"/hs_err*.log "$RUN_DIR"/*hs_err*.log; do
        [[ -f $f ]] && crash+=" $(hs_err_summary "$f");"
    done
    crash=${crash:0:300}
    [[ -n $crash ]] && reason="${reason:+$reason; }JVM crash:$crash"
    kmsg=$(new_dmesg)
    [[ -n $kmsg ]] && { echo "---- kernel messages"; printf '%s\n' "$kmsg"; } >> "$log"
    cleanup_case "$w"
    kmsg2=$(new_dmesg)
    [[ -n $kmsg2 ]] && { echo "---- kernel messages during cleanup"; printf '%s\n' "$kmsg2"; } >> "$log"
    if ((rc == 124 || rc == 137)); then
        reason="timed out after ${limit} s${reason:+ ($reason)}"
        rc=1
    elif ((rc != 0)) && [[ -z $reason ]]; then
        reason="exit code $rc"
    fi
    if [[ -n $grouped ]]; then
        # the subcases reported themselves; one cut short by the time limit is reported here
        running=$(awk '/^RUN /{r=$2} /^(PASS|FAIL) /{sub(":", "", $2); if ($2 == r) r=""} END{print r}' "$RESULTS")
        if [[ -n $running && $running != "$name" ]]; then
            say "FAIL $running: ${reason:-did not finish} ($((SECONDS - t0))s)"
            reason="" rc=0
        fi
    fi
    bad=$(printf '%s\n%s\n' "$kmsg" "$kmsg2" | grep -m1 -E 'BUG:|WARNING:|Oops|blocked for more than|hung_task' || true)
    if ((rc == 0)) && [[ -n $bad ]]; then
        rc=1 reason="kernel: $bad"
    fi
    if ((rc == 0)) && ((${#LEFT[@]})) && [[ -z $sub_failed ]]; then
        rc=1 reason="left behind: ${LEFT[*]}"
    elif ((${#LEFT[@]})); then
        echo "---- cleanup removed: ${LEFT[*]}" >> "$log"
    fi
    if [[ -n $grouped ]] && ((rc == 0)); then
        : # all reported by the subcases
    elif ((rc == 0)); then
        say "PASS $name (${secs}s)"
    else
        say "FAIL $name: $reason (${secs}s)"
    fi
    if sed -n "/^RUN $name\$/,\$p" "$RESULTS" | grep -q '^FAIL '; then
        echo "     last lines of $log:"
        grep -v '^    yaml:' "$log" | grep -v '^---- kernel' | tail -25 | sed 's/^/     | /'
    fi
done

passed=$(grep -c '^PASS ' "$RESULTS" || true)
failed=$(grep '^FAIL ' "$RESULTS" | cut -d' ' -f2 | tr -d ':' | tr '\n' ' ' | sed 's/ $//')
total=$((passed + $(grep -c '^FAIL ' "$RESULTS" || true)))
say "SUMMARY $passed/$total passed in $((SECONDS - T_ALL))s${failed:+; failed: $failed}"
umount "$FS" 2> /dev/null
((total > 0)) || { echo "no case matches /$FILTER/" >&2; exit 1; }
[[ -z $failed ]]
