# e2e-timeout: 600
# Live upgrade: a file-target device (recovery: true) handed to a new gateway twice while fio
# randwrite with verify runs: no I/O error, everything verifies, on the device and in the backing
# file after `down`. A changed target is refused with nothing changed; on kernels with safe stop a
# `down` of an open device is refused and --force is not needed once it is closed.
source "$E2E_TESTS/recovery.sh"
img=$FS/upgrade.img
name=upg
mk_yaml up.yaml "$name" 256MiB file path="$img" direct=true create=true recovery=true depth=64
up_fg "$name" up.yaml
id=$DEV_ID pid=$GW_PID

# known data at 0..8 MiB
mk_random "$W/pat" 8
write_direct "$W/pat" "$DEV" 0

# verified random writes at 64..112 MiB, rate-limited so that they run across the upgrades
fio_job=(--name=upg --filename="$DEV" "${FIO_DEV[@]}" --rw=randwrite --bs=4k --iodepth=16 --offset=64M --size=48M
    --verify=crc32c --do_verify=1)
fio "${fio_job[@]}" --rate_iops=700 --output-format=terse --terse-version=3 > "$W/fio.out" 2> "$W/fio.err" &
fio_pid=$!
r0=$(awk '{print $5}' "/sys/block/${DEV#/dev/}/stat")
wait_until 60 "fio writes on $DEV" eval '(( $(awk "{print \$5}" /sys/block/${DEV#/dev/}/stat) > r0 + 500 ))'

# quiesced where the kernel can (UBLK_F_QUIESCE, 6.16), else released with the I/O re-issued; safe
# stop (UBLK_F_SAFE_STOP_DEV) came after 6.18
kver=$(uname -r | awk -F. '{print $1 * 100 + $2}')
if ((kver >= 616)); then how="quiesced"; else how="released"; fi

upgrade_once() {
    local old=$1 new
    alive "$fio_pid" || log "note: fio already finished before this upgrade"
    gw_ok upgrade "$name"
    grep -q "^$name: handed over ($how" <<< "$GW_OUT" || fail "upgrade did not report '$name: handed over ($how': $GW_OUT"
    grep -q "^$name: $DEV\$" <<< "$GW_OUT" || fail "upgrade did not report $name: $DEV: $GW_OUT"
    new=$(state_field "$name" pid)
    [[ $new != "$old" ]] && alive "$new" || fail "no new gateway after upgrade (state file pid $new)"
    ! alive "$old" || fail "the old gateway pid $old still runs after upgrade"
    [[ $(state_field "$name" devId) == "$id" ]] || fail "upgrade changed the device id"
    [[ -b $DEV ]] || fail "$DEV vanished during the upgrade"
    NEW_PID=$new
}
upgrade_once "$pid"
pid2=$NEW_PID
alive "$fio_pid" || later "fio ended before the second upgrade; the second hand-over ran without load"
upgrade_once "$pid2"
pid3=$NEW_PID

end=$((SECONDS + 240))
while alive "$fio_pid"; do
    ((SECONDS < end)) || fail "fio did not finish within 240 s of the upgrades"
    sleep 0.5
done
rc=0
wait "$fio_pid" || rc=$?
line=$(grep '^3;' "$W/fio.out" | tail -1 || true)
log "fio: exit $rc, error $(cut -d';' -f5 <<< "$line"), written $(cut -d';' -f47 <<< "$line") KiB, verified $(cut -d';' -f6 <<< "$line") KiB"
sed 's/^/    fio: /' "$W/fio.err" | head -10
[[ $rc == 0 && $(cut -d';' -f5 <<< "$line") == 0 ]] || fail "fio failed across the upgrades (exit $rc): $(grep -m1 -iE 'error' "$W/fio.err" || tail -1 "$W/fio.err")"
[[ $(cut -d';' -f47 <<< "$line") == 49152 && $(cut -d';' -f6 <<< "$line") == 49152 ]] \
    || fail "fio wrote/verified $(cut -d';' -f47 <<< "$line")/$(cut -d';' -f6 <<< "$line") KiB, expected 49152"
same_as "$DEV" 0 "$W/pat" || fail "the data written before the upgrades changed"

# a changed target is refused in one line, and the device stays with its gateway
sed "s|$img|$img.other|" up.yaml > up2.yaml && cp up.yaml up.yaml.orig && cp up2.yaml up.yaml
gw upgrade "$name"
expect_one_error_line "upgrade with another target" "target of $name would change.*undo that change"
cp up.yaml.orig up.yaml
[[ $(state_field "$name" pid) == "$pid3" ]] && alive "$pid3" || fail "a refused upgrade changed the gateway"
mk_random "$W/pat2" 4
write_direct "$W/pat2" "$DEV" 16
same_as "$DEV" 16 "$W/pat2" || fail "the device does not serve after a refused upgrade"

# safe stop: an open device is not stopped (kernels with UBLK_F_SAFE_STOP_DEV)
if ((kver >= 700)); then
    sleep 600 < "$DEV" &
    holder=$!
    sleep 0.5
    gw down "$name"
    expect_one_error_line "down of an open device" "device busy: .*use --force"
    alive "$pid3" && [[ -b $DEV ]] || fail "a refused down stopped the device"
    kill "$holder"; wait "$holder" 2> /dev/null || true
else
    log "kernel without SAFE_STOP_DEV: busy down not checked"
fi

gw_ok down "$name"
! alive "$pid3" || fail "gateway pid $pid3 still running after down returned"
assert_gone "$name" "$id"
gateway_log_clean "$name"
cmp -s <(head -c $((8 * MiB)) "$img") "$W/pat" || fail "the backing file does not hold the pattern after down"
cmp -s <(tail -c +$((16 * MiB + 1)) "$img" | head -c $((4 * MiB))) "$W/pat2" || fail "the backing file lacks the data written after the upgrades"
run_fio upg-backing --filename="$img" "${FIO_DEV[@]}" --rw=randwrite --bs=4k --iodepth=16 --offset=64M --size=48M \
    --verify=crc32c --do_verify=1 --verify_only
((FIO_READ_KB == 49152)) || fail "fio verified $FIO_READ_KB KiB of the backing file, expected 49152"
[[ ! -s $REASON_FILE ]] || fail "$(cat "$REASON_FILE")"
