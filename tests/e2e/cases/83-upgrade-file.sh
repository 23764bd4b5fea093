# e2e-timeout: 900
# Live upgrade: a file-target device (recovery: true) handed to a new gateway twice while fio
# randwrite with verify runs: no I/O error, everything verifies, on the device and in the backing
# file after `down` (kernels without QUIESCE: the upgrade is refused in one line, nothing changes). A changed target is refused with nothing changed; on kernels with safe stop a
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

# verified random writes, one fio job after the other until the upgrades are done (how long a JVM
# takes to start in the VM varies too much for one job of fixed size): 8 MiB each, in turn at
# 64, 72, ... 120 MiB. Each job writes, then verifies what it wrote; every job's result is kept.
fio_region() { printf '%d' $((64 + ($1 % 8) * 8)); }
fio_loop() {
    local i=0 rc line
    while [[ ! -e $W/fio.stop ]] || ((i < 8)); do
        rc=0
        fio --name="upg$i" --filename="$DEV" "${FIO_DEV[@]}" --rw=randwrite --bs=4k --iodepth=16 \
            --offset="$(fio_region $i)M" --size=8M --verify=crc32c --do_verify=1 --rate_iops=800 \
            --output-format=terse --terse-version=3 > "$W/fio.$i.out" 2> "$W/fio.$i.err" || rc=$?
        line=$(grep '^3;' "$W/fio.$i.out" | tail -1 || true)
        echo "$i $rc $(cut -d';' -f5 <<< "$line") $(cut -d';' -f47 <<< "$line") $(cut -d';' -f6 <<< "$line")" >> "$W/fio.results"
        i=$((i + 1))
    done
}
fio_loop &
fio_pid=$!
r0=$(awk '{print $5}' "/sys/block/${DEV#/dev/}/stat")
wait_until 60 "fio writes on $DEV" eval '(( $(awk "{print \$5}" /sys/block/${DEV#/dev/}/stat) > r0 + 500 ))'

# quiesced where the kernel can (UBLK_F_QUIESCE, 6.16), else refused; safe stop
# (UBLK_F_SAFE_STOP_DEV) came after 6.18
kver=$(uname -r | awk -F. '{print $1 * 100 + $2}')
if ((kver >= 616)); then how="quiesced"; else how="released"; fi

upgrade_once() {
    local old=$1 new
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
if [[ $how == quiesced ]]; then
    upgrade_once "$pid"
    pid2=$NEW_PID
    upgrade_once "$pid2"
    pid3=$NEW_PID
else
    # without QUIESCE the upgrade is refused in one line, under load, and nothing changes
    gw upgrade "$name"
    expect_one_error_line "upgrade without QUIESCE" "cannot be handed over live: it lacks UBLK_F_QUIESCE"
    [[ $(state_field "$name" pid) == "$pid" ]] && alive "$pid" || fail "a refused upgrade changed the gateway"
    pid3=$pid
fi

touch "$W/fio.stop"
end=$((SECONDS + 300))
while alive "$fio_pid"; do
    ((SECONDS < end)) || fail "the fio jobs did not finish within 300 s of the upgrades"
    sleep 0.5
done
wait "$fio_pid" || true
log "fio jobs (index, exit, error, written KiB, verified KiB): $(tr '\n' ',' < "$W/fio.results")"
while read -r i rc err wkb vkb; do
    [[ $rc == 0 && $err == 0 ]] || fail "fio job $i failed across the upgrades (exit $rc, error $err): $(grep -m1 -iE 'error|verify' "$W/fio.$i.err" || tail -1 "$W/fio.$i.err")"
    [[ $wkb == 8192 && $vkb == 8192 ]] || fail "fio job $i wrote/verified $wkb/$vkb KiB, expected 8192"
done < "$W/fio.results"
same_as "$DEV" 0 "$W/pat" || fail "the data written before the upgrades changed"

# a changed target is refused in one line, and the device stays with its gateway (without QUIESCE the
# kernel's refusal comes first: `down` and `up`, the way left there, take the new target)
sed "s|$img|$img.other|" up.yaml > up2.yaml && cp up.yaml up.yaml.orig && cp up2.yaml up.yaml
gw upgrade "$name"
if [[ $how == quiesced ]]; then
    expect_one_error_line "upgrade with another target" "target of $name would change.*undo that change"
else
    expect_one_error_line "upgrade with another target" "cannot be handed over live: it lacks UBLK_F_QUIESCE"
fi
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
for i in 0 1 2 3 4 5 6 7; do
    run_fio "upg$i-backing" --filename="$img" "${FIO_DEV[@]}" --rw=randwrite --bs=4k --iodepth=16 \
        --offset="$(fio_region $i)M" --size=8M --verify=crc32c --do_verify=1 --verify_only
    ((FIO_READ_KB == 8192)) || fail "fio verified $FIO_READ_KB KiB of the backing file at $(fio_region $i) MiB, expected 8192"
done
[[ ! -s $REASON_FILE ]] || fail "$(cat "$REASON_FILE")"
