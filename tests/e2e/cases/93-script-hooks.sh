# JavaScript policy hooks on real devices. Device pol0 runs the shipped examples/policies/protect-range.js
# (edited to deny with ENOSPC, an errno the kernel passes up to the writer as is): writes into the
# first MiB fail with "No space left on device" while writes elsewhere succeed; then the script file
# is changed to protect another range and the running gateway swaps it in. Device win0 runs a script
# whose onTick makes the device read-only for a few seconds after the first write, then writable again.
# A script with a syntax error is refused by validate with one line naming file:line:column.
examples=$(readlink -f "$E2E_TESTS/../../examples")
sed "s/^const ERRNO = .*/const ERRNO = 'ENOSPC';/" "$examples/policies/protect-range.js" > "$W/protect.js"
grep -q "ENOSPC" "$W/protect.js" || fail "could not set the errno in a copy of protect-range.js"

cat > "$W/window.js" <<'JS'
// read-only for 3 s after the first write has passed, then writable for good
export function onTick(stats) {
  const phase = gateway.state.get('phase') || 'open';
  if (phase === 'open' && stats.writes > 0) {
    gateway.state.set('phase', 'closed');
    gateway.state.set('until', gateway.now() + 3000);
    gateway.setReadOnly(true);
  } else if (phase === 'closed' && gateway.now() >= gateway.state.get('until')) {
    gateway.state.set('phase', 'done');
    gateway.setReadOnly(false);
  }
}
JS

cat > "$W/broken.js" <<'JS'
export function onRequest(req) {
  if (req.op === 'write' {
    return gateway.deny('EPERM');
  }
}
JS
cat > bad.yaml <<Y
devices:
  - name: bad0
    size: 64MiB
    script: $W/broken.js
    target: {type: null}
Y
gw validate bad.yaml
expect_one_error_line "validate with a broken script" "bad\.yaml:4:13: path: .*broken\.js:2:[0-9]+: syntax error: .*; fix the syntax"

cat > pol.yaml <<Y
devices:
  - name: pol0
    size: 64MiB
    script: {path: $W/protect.js, timeout-ms: 2000}
    target: {type: memory}
  - name: win0
    size: 64MiB
    script: {path: $W/window.js, tick-ms: 100, timeout-ms: 2000}
    target: {type: memory}
Y
"$GW" up pol.yaml --foreground > "$W/pol.fg.log" 2>&1 < /dev/null &
GW_PID=$!
echo "$GW_PID" >> "$W/.fg-pids"
wait_until 180 "pol0 and win0 to be served" bash -c "[[ -b \$(sed -n 's/.*\"blockDevice\":\"\\([^\"]*\\)\".*/\\1/p' $RUN_DIR/win0.json 2>/dev/null) ]] && grep -q '^win0: ' $W/pol.fg.log"
POL=$(state_field pol0 blockDevice)
WIN=$(state_field win0 blockDevice)
log "pol0: $POL, win0: $WIN"

# --- deny range: the chosen errno for writes into the first MiB, success elsewhere
mk_random pat 1
if dd if=pat of="$POL" bs=4k count=1 seek=16 oflag=direct status=none 2> dd.err; then
    fail "a write into the protected range succeeded"
fi
grep -q "No space left on device" dd.err || fail "write into the protected range failed with: $(cat dd.err)"
write_direct pat "$POL" 1
same_as "$POL" 1 pat || fail "data written outside the protected range does not read back"
dd if="$POL" of=/dev/null bs=4k count=16 iflag=direct status=none || fail "reads of the protected range fail"

# --- hot reload: protect [2 MiB, 3 MiB) instead; the first MiB becomes writable
sed -i 's/^const PROTECTED = .*/const PROTECTED = [{from: 2 << 20, to: 3 << 20}];/' "$W/protect.js"
wait_until 20 "the reloaded script to let writes into the first MiB" \
    dd if=pat of="$POL" bs=4k count=1 seek=16 oflag=direct status=none
if dd if=pat of="$POL" bs=1M count=1 seek=2 oflag=direct status=none 2> dd.err; then
    fail "a write into the newly protected range succeeded after reload"
fi
grep -q "No space left on device" dd.err || fail "write into the new range failed with: $(cat dd.err)"
grep -q "script .*protect.js reloaded" "$W/pol.fg.log" || fail "the reload was not logged"

# --- a broken edit is refused; the running version keeps denying
printf 'export function onRequest(req) {\n' >> "$W/protect.js"
sleep 2
if dd if=pat of="$POL" bs=1M count=1 seek=2 oflag=direct status=none 2> /dev/null; then
    fail "a broken script replaced the running one"
fi
grep -q "script not reloaded, the previous version keeps running: .*protect.js:[0-9]*:[0-9]*: syntax error" \
    "$W/pol.fg.log" || fail "the rejected reload was not logged with its position"

# --- read-only window flipped by onTick: writable, read-only (EIO at the writer), writable again
dd if=pat of="$WIN" bs=4k count=1 oflag=direct status=none || fail "first write to win0 failed"
ro_now() { ! dd if=pat of="$WIN" bs=4k count=1 seek=8 oflag=direct status=none 2> /dev/null; }
wait_until 10 "win0 to turn read-only" ro_now
dd if="$WIN" of=/dev/null bs=4k count=1 iflag=direct status=none || fail "reads fail while read-only"
grep -q "made it read-only" "$W/pol.fg.log" || fail "the read-only switch was not logged"
wait_until 15 "win0 to become writable again" \
    dd if=pat of="$WIN" bs=4k count=1 seek=8 oflag=direct status=none
grep -q "made it writable" "$W/pol.fg.log" || fail "the switch back was not logged"

kill -TERM "$GW_PID"
wait_until 60 "the gateway to stop" bash -c "! kill -0 $GW_PID 2>/dev/null"
no_stack_trace "$W/pol.fg.log" "up --foreground with scripts"
