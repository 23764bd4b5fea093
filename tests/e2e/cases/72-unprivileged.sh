# e2e-timeout: 900 (six JVM starts: the gateway, the helper for the char node, four CLI calls: minutes each under TCG on a busy host)
# A non-root user of group ublk creates, serves, lists and removes its own device
# (UNPRIVILEGED_DEV); another user of the group can neither read it nor remove it. The VM has no
# udevd: what udev/70-ublk-gateway.rules does is done here by hand, /dev/ublk-control to the
# group and, for each new ublk node, the rule's helper `ublk-gateway udev-owner NODE` as root.
U=1500 O=1501 G=1600
OWNER=ublkowner OTHER=ublkother
if ! grep -q "^$OWNER:" /etc/passwd; then
    printf '%s:x:%s:%s::/tmp:/bin/sh\n' "$OWNER" "$U" "$U" "$OTHER" "$O" "$O" >> /etc/passwd
    printf '%s:x:%s:\n' "$OWNER" "$U" "$OTHER" "$O" >> /etc/group
    printf 'ublk:x:%s:%s,%s\n' "$G" "$OWNER" "$OTHER" >> /etc/group
fi

# the rule's first line: the control device goes to the group
chgrp ublk /dev/ublk-control
chmod 0660 /dev/ublk-control
at_exit "chown root:root /dev/ublk-control; chmod 0600 /dev/ublk-control"
log "$(ls -l /dev/ublk-control)"

# its second line: each new node of a device gets the helper, as udev would run it. Polled without
# forking a sleep (fork and exec are dear under TCG); each run's start and end go to udev.log.
udev_stand_in() {
    local n k tick
    local -A seen=()
    set +eE
    trap - ERR
    exec {tick}<> <(:)
    while :; do
        for k in "${!seen[@]}"; do [[ -e /dev/$k ]] || unset "seen[$k]"; done
        for n in /dev/ublkc[0-9]* /dev/ublkb[0-9]*; do
            [[ -e $n ]] || continue
            k=${n#/dev/}
            [[ -n ${seen[$k]:-} ]] && continue
            seen[$k]=1
            {
                printf '[%(%T)T] udev-owner %s\n' -1 "$k"
                "$GW" udev-owner "$k" 2>&1 | grep -v '^Picked up JAVA_TOOL_OPTIONS'
                printf '[%(%T)T] udev-owner %s: exit %s\n' -1 "$k" "${PIPESTATUS[0]}"
            } >> "$W/udev.log" 2>&1 &
        done
        read -t 0.1 -u "$tick" || true
    done
}
udev_stand_in &
STAND_IN=$!
at_exit "kill $STAND_IN"
# what the helper said, in the case's log whatever happens (the scratch dir is gone after the VM)
at_exit 'log "udev-owner runs:"; sed "s/^/    /" "$W/udev.log" 2> /dev/null; log "nodes: $(ls -l /dev/ublk[bc]* 2> /dev/null | tr "\n" ";")"'

# as_user UID CMD...: CMD as that user with the groups of /etc/group and its own run directory
as_user() {
    local uid=$1
    shift
    setpriv --reuid="$uid" --regid="$uid" --init-groups --inh-caps=-all \
        env -u UBLKGW_RUN_DIR -u XDG_RUNTIME_DIR HOME=/tmp "$@"
}
for u in "$U" "$O"; do
    printf '#!/bin/sh\nexec setpriv --reuid=%s --regid=%s --init-groups --inh-caps=-all env -u UBLKGW_RUN_DIR -u XDG_RUNTIME_DIR HOME=/tmp %q "$@"\n' \
        "$u" "$u" "$GW" > "$W/gw-$u"
    chmod 0755 "$W/gw-$u"
done
at_exit "pkill -KILL -u $U -f 'dev\.ublkgateway\.core\.cli\.Main' || true"
at_exit 'for c in /dev/ublkc[0-9]*; do [[ -e $c ]] && "$GW" down "${c#/dev/ublkc}" > /dev/null 2>&1; done'
USER_RUN=/tmp/ublk-gateway-$U

mk_yaml u.yaml u0 256MiB memory
log "as uid $U: up u.yaml --foreground"
# the helper for /dev/ublkcN is a JVM start too: under TCG on a busy host it takes minutes, not
# the second udev takes on a real machine
UBLKGW_HANDOVER_SECONDS=480 "$W/gw-$U" up u.yaml --foreground > "$W/u0.fg.log" 2>&1 < /dev/null &
GW_PID=$!
end=$((SECONDS + 540))
until [[ -f $USER_RUN/u0.json ]] && grep -q '"pid"' "$USER_RUN/u0.json" && grep -qx 'u0: /dev/ublkb[0-9]*' "$W/u0.fg.log"; do
    alive "$GW_PID" || { no_stack_trace "$W/u0.fg.log" "up as uid $U"; fail "up as uid $U exited: $(grep . "$W/u0.fg.log" | tail -1)"; }
    ((SECONDS < end)) || fail "up as uid $U: not serving after 540 s: $(tail -1 "$W/u0.fg.log")"
    sleep 0.2
done
DEV=$(sed -n 's|^u0: \(/dev/ublkb[0-9]*\)$|\1|p' "$W/u0.fg.log")
ID=${DEV#/dev/ublkb}
log "u0: $DEV served by uid $U's gateway pid $GW_PID ($(cat "$USER_RUN/u0.json"))"
[[ $(stat -c %u "/proc/$GW_PID") == "$U" ]] || fail "the gateway runs as uid $(stat -c %u "/proc/$GW_PID"), not $U"
# the block node: the launcher copies the owner of the char node, no JVM, so at once
wait_until 30 "the helper to give $DEV to uid $U" test "$(stat -c %u "$DEV")" = "$U"
log "$(ls -l "/dev/ublkc$ID" "$DEV")"
grep -qx "$DEV: given to uid $U gid $U (the owner of /dev/ublkc$ID)" "$W/udev.log" \
    || fail "udev-owner ublkb$ID did not take the launcher's way (the owner of /dev/ublkc$ID): $(tr '\n' '|' < "$W/udev.log")"
[[ $(stat -c '%g %a' "$DEV") == "$U 660" ]] || fail "$DEV is $(stat -c '%G %a' "$DEV"), expected gid $U mode 660"
[[ $(stat -c '%u %a' "/dev/ublkc$ID") == "$U 600" ]] || fail "/dev/ublkc$ID is $(stat -c '%U %a' "/dev/ublkc$ID"), expected uid $U mode 600"
check_geometry "$DEV" $((256 * MiB))

# the owner's data path: dd, then fio with verification
mk_random pat 4
chmod 0644 pat
as_user "$U" dd if=pat of="$DEV" bs=1M seek=8 oflag=direct conv=fsync,notrunc status=none || fail "uid $U cannot write $DEV"
cmp -s <(as_user "$U" dd if="$DEV" bs=1M skip=8 count=4 iflag=direct status=none) pat || fail "uid $U reads back other data"
FIO_BIN=$(command -v fio)
fio() { as_user "$U" "$FIO_BIN" "$@"; }
run_fio u-rand4k --filename="$DEV" "${FIO_DEV[@]}" --rw=randwrite --bs=4k --iodepth=16 \
    --size=32M --offset=64M --verify=crc32c --do_verify=1
((FIO_WRITE_KB == 32768 && FIO_READ_KB == 32768)) || fail "fio moved $FIO_WRITE_KB/$FIO_READ_KB KiB, expected 32768 each"
unset -f fio

# the owner lists it
GW="$W/gw-$U" gw_ok list --json
grep -q "\"block_device\" : \"$DEV\"" <<< "$GW_OUT" || fail "list as uid $U does not show $DEV: $GW_OUT"
grep -q '"device" : "u0"' <<< "$GW_OUT" || fail "list as uid $U does not name u0: $GW_OUT"

# another user of the group: no data, no listing, no removal
! as_user "$O" dd if="$DEV" of=/dev/null bs=4k count=1 status=none 2> "$W/other-dd.err" || fail "uid $O read $DEV"
grep -qi 'permission denied' "$W/other-dd.err" || fail "uid $O: dd did not fail for permission: $(cat "$W/other-dd.err")"
GW="$W/gw-$O" gw_ok list --json
! grep -q "ublkb$ID\"" <<< "$GW_OUT" || fail "list as uid $O shows uid $U's device: $GW_OUT"
grep -q "1 ublk device(s) of other users are not listed" <<< "$GW_ERR" || fail "list as uid $O: no note about the device it cannot read: $GW_ERR"
GW="$W/gw-$O" gw down "$ID"
expect_one_error_line "down $ID as uid $O" "ublk device $ID belongs to another user.*sudo ublk-gateway down $ID"
alive "$GW_PID" || fail "uid $U's gateway died when uid $O tried to remove its device"
cmp -s <(as_user "$U" dd if="$DEV" bs=1M skip=8 count=4 iflag=direct status=none) pat || fail "u0 lost its data"

# the owner removes it
GW="$W/gw-$U" gw_ok down u0
grep -q "u0: removed $DEV" <<< "$GW_OUT" || fail "down u0 as uid $U did not report the removal: $GW_OUT"
! alive "$GW_PID" || fail "uid $U's gateway pid $GW_PID still running after down returned"
wait "$GW_PID" 2> /dev/null || true
end=$((SECONDS + 15))
while [[ -e $DEV || -e /dev/ublkc$ID || -e $USER_RUN/u0.json ]]; do
    ((SECONDS < end)) || fail "u0: still present 15 s after down"
    sleep 0.2
done
no_stack_trace "$W/u0.fg.log" "uid $U's gateway"
! grep -q ' ERROR ' "$W/u0.fg.log" || fail "uid $U's gateway logged: $(grep -m1 ' ERROR ' "$W/u0.fg.log")"
