# e2e-timeout: 1200 (nine CLI calls, each a JVM start: slow under TCG on a busy host)
# The error contract of the CLI: every failure is one stderr line "ublk-gateway: ...", exit != 0, no
# stack trace (gw checks that for every call), and a failure leaves nothing behind.
mk_yaml e0.yaml err0 64MiB memory
up_bg err0 e0.yaml
id=$DEV_ID pid=$GW_PID
mk_random pat 1
write_direct pat "$DEV" 0

# a second `up` of the same name
gw up e0.yaml
expect_one_error_line "second up of err0" "err0.*already|already.*err0"
alive "$pid" || fail "the first gateway (pid $pid) died after the second up"
[[ $(state_field err0 pid) == "$pid" ]] || fail "the state file of err0 no longer names pid $pid"
same_as "$DEV" 0 pat || fail "err0 lost its data after the second up"
[[ $(ls /dev/ublkc* | wc -l) == 1 ]] || fail "the second up created a device: $(ls /dev/ublkc* | tr '\n' ' ')"

# YAML errors name file:line:column
printf 'devices:\n  - name: bad0\n    size: 64MiB\n    colour: blue\n    target:\n      type: memory\n' > unknown-key.yaml
gw validate unknown-key.yaml
expect_one_error_line "validate with an unknown key" "unknown-key\.yaml:4:5: .*colour"
printf 'devices:\n  - name: bad1\n    size: 10Gb\n    target:\n      type: memory\n' > bad-size.yaml
gw validate bad-size.yaml
expect_one_error_line "validate with a bad size" "bad-size\.yaml:3:11: .*10Gb"

# a file target whose backing file is missing
mk_yaml missing.yaml miss0 64MiB file path="$W/no-such.img"
gw up missing.yaml
expect_one_error_line "up with a missing backing file" "no-such\.img.*(does not exist|missing|No such file)"
[[ ! -e $(state_file miss0) ]] || fail "the failed up left a state file for miss0"
[[ ! -e $W/no-such.img ]] || fail "the failed up created the backing file"
[[ $(ls /dev/ublkc* | wc -l) == 1 ]] || fail "the failed up left a device: $(ls /dev/ublkc* | tr '\n' ' ')"
others=$(pgrep -f 'dev\.ublkgateway\.core\.cli\.Main' | grep -vx "$pid" || true)
[[ -z $others ]] || fail "the failed up left gateway processes: $others"

# `down` of a name nobody serves
gw down no-such-device
expect_one_error_line "down of an unknown name" "no-such-device"

# and the first device survived all of this
alive "$pid" || fail "the first gateway (pid $pid) died"
same_as "$DEV" 0 pat || fail "err0 lost its data"
gw_ok down err0
grep -q "err0: removed $DEV" <<< "$GW_OUT" || fail "down err0 did not report the removal: $GW_OUT"
! alive "$pid" || fail "gateway pid $pid still running after down returned"
assert_gone err0 "$id"
gateway_log_clean err0
