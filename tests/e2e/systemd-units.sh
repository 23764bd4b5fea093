#!/usr/bin/env bash
# The systemd units of systemd/ under a real systemd: run by tests/e2e/run.sh in a VM booted with
# `tests/vm/run.sh --systemd` (systemd is PID 1 and runs this script as a service). Installs the
# units as the README says, then:
#   1. `systemctl start ublk-gateway@sd` returns once the device serves (Type=notify): the block device
#      is there at once, reads back what was written, and `systemctl status` shows the STATUS= text;
#   1b. on Linux >= 6.16 (QUIESCE), `systemctl reload` under fio verify jobs hands the device to a new
#      gateway in the unit, which becomes its main process: no fio error, the data reads back, the old
#      gateway exits, the unit never restarts; a reload that changes the target is refused and changes
#      nothing, and when the new gateway dies after the hand-over the old one takes the device back (no
#      fio error either). Older kernels: the reload is refused in one line and nothing changes;
#   2. kill -9 of the (new) gateway: the service's one restart is refused (the device was left for
#      recovery) and not retried; `systemctl start ublk-gateway-recover@DEVICE` re-attaches the
#      device and the data written before the crash reads back;
#   3. `systemctl stop` of the recover unit flushes and deletes the device: no node, no state file,
#      a clean result, the data in the backing file;
#   4. `ublk-gateway-nbd@nbd.socket` listens and the first nbdinfo starts the NBD service; stopping the
#      service leaves the socket listening.
# Appends "PASS systemd-units (Ns)" or "FAIL systemd-units: reason (Ns)" to OUT/results.txt and keeps
# its log (and the units' journal) in OUT/logs/systemd-units.log. Exit status 1 on a failure.
#
#   tests/e2e/systemd-units.sh --gw LAUNCHER --out DIR
set -eEuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
GW="" OUT=""
while (($#)); do
    case $1 in
        --gw) GW=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        *) echo "usage: systemd-units.sh --gw LAUNCHER --out DIR" >&2; exit 2 ;;
    esac
done
[[ -x $GW && -d $OUT ]] || { echo "usage: systemd-units.sh --gw LAUNCHER --out DIR" >&2; exit 2; }

NAME=systemd-units
RESULTS=$OUT/results.txt
mkdir -p "$OUT/logs"
LOG=$OUT/logs/$NAME.log
W=/tmp/e2e-systemd
mkdir -p "$W"
T0=$SECONDS
exec 3>&1 > "$LOG" 2>&1

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
journal() {
    echo "---- journal of the ublk-gateway units"
    journalctl --no-pager -o short-monotonic -u 'ublk-gateway*' 2>&1 || true
}
fail() {
    log "FAIL: $*"
    journal
    printf 'FAIL %s: %s (%ss)\n' "$NAME" "$(printf '%s' "$*" | head -c 400 | tr '\n' ' ')" "$((SECONDS - T0))" \
        | tee -a "$RESULTS" >&3
    exit 1
}
trap 'fail "unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

[[ $(cat /proc/1/comm) == systemd ]] || fail "PID 1 is $(cat /proc/1/comm), not systemd (boot with tests/vm/run.sh --systemd)"
echo "RUN $NAME" >> "$RESULTS"
log "systemd $(systemctl --version | head -1), $(uname -r)"

# wait_for SECONDS WHAT CMD...: polls CMD every 0.5 s.
wait_for() {
    local limit=$1 what=$2 end=$(($1 + SECONDS))
    shift 2
    until "$@"; do
        ((SECONDS < end)) || fail "timed out after ${limit} s waiting for $what"
        sleep 0.5
    done
}
prop() { systemctl show -P "$2" "$1"; }
# step TEXT: logs a step with the seconds since the last one
T_STEP=$SECONDS
step() {
    log "---- $* (previous step $((SECONDS - T_STEP)) s)"
    echo "$NAME: $* (+$((SECONDS - T_STEP)) s)" >&3
    T_STEP=$SECONDS
}
# the unit ended well: inactive (not failed), result success
ended_clean() {
    local u=$1
    [[ $(prop "$u" ActiveState) == inactive ]] || fail "$u is $(prop "$u" ActiveState) after stop, expected inactive"
    [[ $(prop "$u" Result) == success ]] || fail "$u stopped with result $(prop "$u" Result) (main status $(prop "$u" ExecMainStatus))"
}

# ---- install, as the README says
step "install the units"
install -m 644 "$ROOT"/systemd/*.service "$ROOT"/systemd/*.socket /etc/systemd/system/
ln -sfn "$GW" /usr/local/bin/ublk-gateway
mkdir -p /etc/ublk-gateway
# the test bed's JVM options (C1 only, an AOT cache) for every JVM the units start
[[ -z ${E2E_JAVA_TOOL_OPTIONS:-} ]] || systemctl set-environment JAVA_TOOL_OPTIONS="$E2E_JAVA_TOOL_OPTIONS"
DEVNAME=sddisk
IMG=$W/sddisk.img
cat > /etc/ublk-gateway/sd.yaml << EOF
devices:
  - name: $DEVNAME
    size: 64MiB
    recovery: true
    target:
      type: file
      path: $IMG
      create: true
EOF
cat > /etc/ublk-gateway/nbd.yaml << EOF
devices:
  - name: nbddisk
    size: 32MiB
    target:
      type: memory
EOF
systemctl daemon-reload
head -c 8M /dev/urandom > "$W/pat"

# ---- 1. start: returns once the device serves
step "systemctl start ublk-gateway@sd"
systemctl start ublk-gateway@sd || fail "systemctl start ublk-gateway@sd failed"
DEV=/dev/ublkb0
[[ -b $DEV ]] || fail "systemctl start returned but $DEV is missing"
[[ $(prop ublk-gateway@sd ActiveState) == active ]] || fail "ublk-gateway@sd is $(prop ublk-gateway@sd ActiveState) after start"
status=$(prop ublk-gateway@sd StatusText)
[[ $status == "1 device(s) serving from sd.yaml" ]] || fail "ublk-gateway@sd status text is '$status'"
systemctl status --no-pager ublk-gateway@sd | tee "$W/status" || true
grep -q "Status: \"1 device(s) serving from sd.yaml\"" "$W/status" || fail "systemctl status does not show the status text"
dd if="$W/pat" of="$DEV" bs=1M oflag=direct conv=fsync status=none || fail "writing to $DEV failed"
dd if="$DEV" bs=1M count=8 iflag=direct status=none | cmp - "$W/pat" || fail "$DEV does not read back what was written"

# ---- 1b. systemctl reload: a live upgrade inside the unit, under fio verify (QUIESCE, Linux >= 6.16)
state_pid() { sed -n 's/.*"pid" *: *\([0-9]*\).*/\1/p' "/run/ublk-gateway/$DEVNAME.json"; }
old=$(prop ublk-gateway@sd MainPID)
kver=$(uname -r | awk -F. '{print $1 * 100 + $2}')
if ((kver >= 616)); then
    step "systemctl reload ublk-gateway@sd under fio verify"
    # fio jobs one after the other (8 MiB each, verified) until the reload is over, on 32-56 MiB
    (
        i=0
        while [[ ! -e $W/fio.stop ]] || ((i < 3)); do
            rc=0
            fio --name="rl$i" --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randwrite --bs=4k --iodepth=16 \
                --offset=$((32 + (i % 3) * 8))M --size=8M --verify=crc32c --do_verify=1 --rate_iops=800 \
                > "$W/fio.$i.out" 2>&1 || rc=$?
            echo "$i $rc" >> "$W/fio.results"
            i=$((i + 1))
        done
    ) &
    fio_pid=$!
    sleep 3
    systemctl reload ublk-gateway@sd || fail "systemctl reload ublk-gateway@sd failed"
    new=$(prop ublk-gateway@sd MainPID)
    [[ $new != "$old" && $new -gt 0 ]] || fail "the unit's main pid is still $old after the reload"
    [[ $(state_pid) == "$new" ]] || fail "the unit's main pid $new does not serve $DEVNAME (state file pid $(state_pid))"
    [[ $(prop ublk-gateway@sd ActiveState) == active ]] || fail "ublk-gateway@sd is $(prop ublk-gateway@sd ActiveState) after the reload"
    old_gone() { [[ ! -d /proc/$old ]]; }
    wait_for 30 "the old gateway pid $old to exit" old_gone
    # the successor says READY=1 and its status as the main process; systemd took each message
    status_is() { [[ $(prop ublk-gateway@sd StatusText) == "1 device(s) serving from sd.yaml" ]]; }
    wait_for 30 "the new gateway's status text" status_is
    ! journalctl --no-pager -u ublk-gateway@sd | grep -q "reception only permitted for main PID" ||
        fail "systemd refused a notification during the reload"
    [[ $(prop ublk-gateway@sd NRestarts) == 0 ]] || fail "the reload restarted the unit"
    step "a reload whose new gateway dies after the hand-over: the old one takes the device back"
    systemctl reload --no-block ublk-gateway@sd
    handed() { [[ $(state_pid) == 0 ]]; }
    wait_for 240 "the hand-over of $DEVNAME" handed
    # the new gateway of this reload (the unit's main process is the one of the last reload: --from $old)
    pkill -KILL -f "take-over --from $new " || fail "no new gateway to stop after the hand-over"
    reloaded() { [[ $(prop ublk-gateway@sd ActiveState) == active ]]; }
    wait_for 240 "the failed reload to end" reloaded
    [[ $(prop ublk-gateway@sd MainPID) == "$new" && $(state_pid) == "$new" ]] ||
        fail "after the failed reload the unit's main pid is $(prop ublk-gateway@sd MainPID), the device's $(state_pid), not $new"
    journalctl --no-pager -u ublk-gateway@sd | grep -q "the new gateway exited with status 137 .*; gateway pid $new serves $DEVNAME again (nothing changed)" ||
        fail "the failed reload did not say that the old gateway took the device back"
    [[ $(prop ublk-gateway@sd NRestarts) == 0 ]] || fail "the failed reload restarted the unit"
    touch "$W/fio.stop"
    wait "$fio_pid" || true
    log "fio jobs (index, exit): $(tr '\n' ',' < "$W/fio.results")"
    while read -r i rc; do
        [[ $rc == 0 ]] || fail "fio job $i failed across the reload: $(grep -m1 -iE 'error|verify' "$W/fio.$i.out" || tail -1 "$W/fio.$i.out")"
    done < "$W/fio.results"
    dd if="$DEV" bs=1M count=8 iflag=direct status=none | cmp - "$W/pat" || fail "$DEV does not read back after the reload"
    # a changed target is refused in one line, and nothing changes
    cp /etc/ublk-gateway/sd.yaml "$W/sd.yaml"
    sed -i "s|path: $IMG|path: $W/other.img|" /etc/ublk-gateway/sd.yaml
    ! systemctl reload ublk-gateway@sd || fail "a reload that changes the target succeeded"
    cp "$W/sd.yaml" /etc/ublk-gateway/sd.yaml
    journalctl --no-pager -u ublk-gateway@sd | grep -q "the target of $DEVNAME would change" ||
        fail "the refused reload did not say why"
    [[ $(prop ublk-gateway@sd MainPID) == "$new" && $(prop ublk-gateway@sd ActiveState) == active ]] ||
        fail "a refused reload changed the unit"
else
    step "systemctl reload ublk-gateway@sd is refused without QUIESCE"
    ! systemctl reload ublk-gateway@sd || fail "a reload without QUIESCE succeeded"
    journalctl --no-pager -u ublk-gateway@sd | grep -q "cannot be handed over live: it lacks UBLK_F_QUIESCE" ||
        fail "the refused reload did not say why"
    [[ $(prop ublk-gateway@sd MainPID) == "$old" && $(prop ublk-gateway@sd ActiveState) == active ]] ||
        fail "a refused reload changed the unit"
fi
dd if="$DEV" bs=1M count=8 iflag=direct status=none | cmp - "$W/pat" || fail "$DEV does not read back after the reload"

# ---- 2. kill -9, then the recover unit
step "kill -9 of the gateway"
pid=$(prop ublk-gateway@sd MainPID)
((pid > 0)) || fail "ublk-gateway@sd has no main pid"
kill -KILL "$pid"
# Restart=on-failure starts `up` once more; it refuses the device left for recovery (exit 1), which
# the unit does not retry
settled() {
    [[ $(prop ublk-gateway@sd NRestarts) -ge 1 && $(prop ublk-gateway@sd ActiveState) == failed ]]
}
wait_for 240 "ublk-gateway@sd to restart once and fail" settled
[[ $(prop ublk-gateway@sd Result) == exit-code && $(prop ublk-gateway@sd ExecMainStatus) == 1 ]] ||
    fail "the restarted ublk-gateway@sd ended with result $(prop ublk-gateway@sd Result), status $(prop ublk-gateway@sd ExecMainStatus)"
journalctl --no-pager -u ublk-gateway@sd | grep -q "was left by a gateway that died" ||
    fail "the restarted ublk-gateway@sd did not say why it refused"
sleep 6
[[ $(prop ublk-gateway@sd NRestarts) == 1 ]] || fail "ublk-gateway@sd restarted $(prop ublk-gateway@sd NRestarts) times"
[[ -b $DEV ]] || fail "$DEV vanished after the crash"
step "systemctl start ublk-gateway-recover@$DEVNAME"
systemctl start "ublk-gateway-recover@$DEVNAME" || fail "systemctl start ublk-gateway-recover@$DEVNAME failed"
[[ $(prop "ublk-gateway-recover@$DEVNAME" ActiveState) == active ]] || fail "the recover unit is not active"
dd if="$DEV" bs=1M count=8 iflag=direct status=none | cmp - "$W/pat" || fail "data written before the crash does not read back after recover"
dd if="$W/pat" of="$DEV" bs=1M seek=16 oflag=direct conv=fsync status=none || fail "writing after recover failed"

# ---- 3. stop: flush and delete
step "systemctl stop ublk-gateway-recover@$DEVNAME"
systemctl stop "ublk-gateway-recover@$DEVNAME" || fail "systemctl stop ublk-gateway-recover@$DEVNAME failed"
ended_clean "ublk-gateway-recover@$DEVNAME"
[[ ! -e $DEV && ! -e /dev/ublkc0 ]] || fail "the device nodes are still there after the stop"
[[ ! -e /run/ublk-gateway/$DEVNAME.json ]] || fail "the state file of $DEVNAME is still there after the stop"
cmp -n 8388608 "$IMG" "$W/pat" || fail "the backing file lacks the data written before the crash"
cmp -i 16777216:0 -n 8388608 "$IMG" "$W/pat" || fail "the backing file lacks the data written after recover"
systemctl reset-failed ublk-gateway@sd

# ---- 4. socket activation of the NBD exports
step "systemctl start ublk-gateway-nbd@nbd.socket"
systemctl start ublk-gateway-nbd@nbd.socket || fail "systemctl start ublk-gateway-nbd@nbd.socket failed"
SOCK=/run/ublk-gateway/nbd.nbd.sock
[[ -S $SOCK ]] || fail "the socket unit does not listen on $SOCK"
[[ $(prop ublk-gateway-nbd@nbd.service ActiveState) == inactive ]] || fail "the NBD service runs before any client came"
step "the first nbdinfo"
size=$(timeout 240 nbdinfo --size "nbd+unix:///nbddisk?socket=$SOCK") || fail "nbdinfo through the socket failed"
[[ $size == 33554432 ]] || fail "nbdinfo says the export has $size bytes, expected 33554432"
# the exports serve before the gateway tells systemd READY=1
nbd_active() { [[ $(prop ublk-gateway-nbd@nbd.service ActiveState) == active ]]; }
wait_for 60 "the NBD service to become active after the first client" nbd_active
status=$(prop ublk-gateway-nbd@nbd.service StatusText)
[[ $status == *"serving from nbd.yaml"* ]] || fail "ublk-gateway-nbd@nbd status text is '$status'"
systemctl stop ublk-gateway-nbd@nbd.service || fail "systemctl stop ublk-gateway-nbd@nbd.service failed"
ended_clean ublk-gateway-nbd@nbd.service
[[ $(prop ublk-gateway-nbd@nbd.socket ActiveState) == active ]] || fail "the socket stopped with the service"
systemctl stop ublk-gateway-nbd@nbd.socket
step "done"

journal
trap - ERR
printf 'PASS %s (%ss)\n' "$NAME" "$((SECONDS - T0))" | tee -a "$RESULTS" >&3
