# e2e-timeout: 600
# A null device with recovery: true is served without a data path (USER_COPY, nothing copied). After
# kill -9, recovering it with a configuration that puts a stage before the target (which would need
# the data) is refused in one line before the recovery starts, so the device stays recoverable; with
# the configuration it was made with it comes back and serves I/O.
source "$E2E_TESTS/recovery.sh"
mk_yaml rn.yaml recn 1GiB null recovery=true depth=32
cp rn.yaml rn-made.yaml
up_fg recn rn.yaml
id=$DEV_ID pid=$GW_PID
grep -q "device recn: data path: none (the target needs no data)" "$W/recn.fg.log" || fail "recn is served with a data path"
dd if="$DEV" of=/dev/null bs=4k count=256 iflag=direct status=none || fail "reads from $DEV failed"

log "kill -9 gateway pid $pid"
kill -KILL "$pid"
wait_until 30 "pid $pid to die" eval '! alive $pid'
await_quiesced recn

{ cat rn-made.yaml; printf '    stages:\n      - type: stats\n'; } > rn.yaml
sed 's/^/    yaml: /' rn.yaml
gw recover recn
expect_one_error_line "recover with a stage before the null target" \
    "device $id was created for a target that needs no data.*recover it with the configuration it was created with"
await_quiesced recn

cp rn-made.yaml rn.yaml
gw_ok recover recn
grep -q "^recn: $DEV" <<< "$GW_OUT" || fail "recover did not report recn: $DEV: $GW_OUT"
[[ $(state_field recn devId) == "$id" ]] || fail "recover changed the device id"
n=$(dd if="$DEV" bs=4k count=256 iflag=direct status=none | wc -c)
((n == 256 * 4096)) || fail "read $n bytes from the recovered $DEV, expected $((256 * 4096))"
gw_ok down recn
assert_gone recn "$id"
