# Shared by the recovery cases: kill -9 of a `recovery: true` gateway while fio writes, `recover`,
# and the I/O in flight must complete (not fail) and data written before must be intact.
#
# A failing fio does not end the case at once: the rest (list, recover, data, down) is still
# checked, and the first problem is what the case reports.

# later: remember a problem, carry on
later() {
    [[ -s $REASON_FILE ]] || printf '%s' "$*" | head -c 400 | tr '\n' ' ' > "$REASON_FILE"
    log "FAIL (checking on): $*"
}

# await_quiesced NAME: after its gateway died, `list` shows the device kept by the kernel, serverless.
await_quiesced() {
    local state tries
    for tries in 1 2 3 4; do
        gw_ok list
        state=$(awk -v n="$1" '$1 == n {print $3}' <<< "$GW_OUT")
        [[ $state == quiesced* ]] && break
        sleep 3
    done
    [[ $state == "quiesced,no-server" ]] || fail "list shows $1 as '${state:-missing}', expected quiesced,no-server"
}

# http_get PORT PATH: the body of a 200 answer from 127.0.0.1:PORT (bash's /dev/tcp: no client needed).
http_get() {
    local reply
    exec 3<> "/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    reply=$(cat <&3)
    exec 3<&-
    [[ $reply == HTTP/1.?' 200'* ]] || return 1
    printf '%s\n' "${reply#*$'\r\n\r\n'}"
}

# recovery_case NAME YAML BACKING: BACKING is the file that holds the data (checked after `down`),
# or empty. With RECOVER_METRICS=1 (and a stats stage in YAML) `recover --metrics-listen` must serve
# the recovered device's requests.
recovery_case() {
    local name=$1 yaml=$2 backing=$3 id pid pid2 fio_pid rc fio_done=""
    up_fg "$name" "$yaml"
    id=$DEV_ID pid=$GW_PID
    [[ $(state_field "$name" recovery) == true ]] || fail "state file of $name does not say recovery: true"

    # known data, made durable, at 0..8 MiB
    mk_random "$W/pat" 8
    write_direct "$W/pat" "$DEV" 0
    same_as "$DEV" 0 "$W/pat" || fail "the pattern does not read back before the crash"

    # verified random writes at 64..128 MiB, slow enough (rate-limited) to still run during the crash
    fio --name=rec --filename="$DEV" "${FIO_DEV[@]}" --rw=randwrite --bs=4k --iodepth=16 \
        --offset=64M --size=64M --rate_iops=1500 --verify=crc32c --do_verify=1 \
        --output-format=terse --terse-version=3 > "$W/fio.out" 2> "$W/fio.err" &
    fio_pid=$!
    local r0
    r0=$(awk '{print $5}' "/sys/block/${DEV#/dev/}/stat")
    wait_until 60 "fio writes on $DEV" eval '(( $(awk "{print \$5}" /sys/block/${DEV#/dev/}/stat) > r0 + 1000 ))'
    alive $fio_pid || fail "fio ended before the crash: $(tail -2 "$W/fio.err")"

    cp "$W/$name.fg.log" "$W/$name-before-crash.log" 2> /dev/null || true
    log "kill -9 gateway pid $pid"
    kill -KILL "$pid"
    wait_until 30 "pid $pid to die" eval '! alive $pid'
    sleep 1
    if ! alive $fio_pid; then
        later "fio failed when the gateway was killed (in-flight I/O was not kept for recovery): $(grep -m1 -iE 'error' "$W/fio.err" || tail -1 "$W/fio.err")"
        fio_done=1
    fi

    # the device stays, quiesced, without a server
    await_quiesced "$name"
    [[ -b $DEV && -e /dev/ublkc$id ]] || fail "the device nodes of $name vanished after the crash"
    if [[ -z $fio_done ]] && ! alive $fio_pid; then
        later "fio failed while the device was quiesced: $(grep -m1 -iE 'error' "$W/fio.err" || tail -1 "$W/fio.err")"
        fio_done=1
    fi

    local mport="" margs=()
    if [[ -n ${RECOVER_METRICS:-} ]]; then
        mport=$((20000 + RANDOM % 20000))
        margs=(--metrics-listen "127.0.0.1:$mport")
    fi
    gw_ok recover "$name" "${margs[@]}"
    grep -q "^$name: $DEV" <<< "$GW_OUT" || fail "recover did not report $name: $DEV: $GW_OUT"
    pid2=$(state_field "$name" pid)
    [[ $pid2 != "$pid" ]] && alive "$pid2" || fail "no new gateway after recover (state file pid $pid2)"
    [[ $(state_field "$name" devId) == "$id" ]] || fail "recover changed the device id"

    # fio's I/O completes and verifies
    local end=$((SECONDS + 240)) line
    while alive $fio_pid; do
        ((SECONDS < end)) || fail "fio did not finish within 240 s after recover"
        sleep 0.5
    done
    rc=0
    wait $fio_pid || rc=$?
    line=$(grep '^3;' "$W/fio.out" | tail -1 || true)
    log "fio: exit $rc, error $(cut -d';' -f5 <<< "$line"), written $(cut -d';' -f47 <<< "$line") KiB, verified $(cut -d';' -f6 <<< "$line") KiB"
    sed 's/^/    fio: /' "$W/fio.err" | head -10
    if [[ -z $fio_done ]]; then
        if [[ $rc != 0 || $(cut -d';' -f5 <<< "$line") != 0 ]]; then
            later "fio failed across the crash and recovery (exit $rc): $(grep -m1 -iE 'error' "$W/fio.err" || tail -1 "$W/fio.err")"
        elif [[ $(cut -d';' -f47 <<< "$line") != 65536 || $(cut -d';' -f6 <<< "$line") != 65536 ]]; then
            later "fio wrote/verified $(cut -d';' -f47 <<< "$line")/$(cut -d';' -f6 <<< "$line") KiB, expected 65536"
        fi
    fi
    # the recovered device serves I/O
    mk_random "$W/pat2" 4
    write_direct "$W/pat2" "$DEV" 16
    same_as "$DEV" 16 "$W/pat2" || fail "data written after recovery does not read back"
    if [[ -n $mport ]]; then
        http_get "$mport" /metrics > "$W/recover.metrics" || fail "recover serves no metrics at 127.0.0.1:$mport"
        grep -qE "^ublkgw_bytes_total\{device=\"$name\",op=\"write\",queue=\"[0-9]+\"\} [1-9]" "$W/recover.metrics" \
            || fail "recover's metrics lack the writes to $name: $(grep -m3 bytes_total "$W/recover.metrics")"
    fi

    same_as "$DEV" 0 "$W/pat" || fail "the data written before the crash changed"
    gw_ok down "$name"
    ! alive "$pid2" || fail "gateway pid $pid2 still running after down returned"
    assert_gone "$name" "$id"
    gateway_log_clean "$name"
    if [[ -n $backing ]]; then
        cmp -s <(head -c $((8 * MiB)) "$backing") "$W/pat" || fail "the backing file does not hold the pattern after down"
        cmp -s <(tail -c +$((16 * MiB + 1)) "$backing" | head -c $((4 * MiB))) "$W/pat2" || fail "the backing file does not hold the data written after recovery"
    fi
    [[ ! -s $REASON_FILE ]] || fail "$(cat "$REASON_FILE")"
}
