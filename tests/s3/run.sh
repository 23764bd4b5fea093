#!/usr/bin/env bash
# End-to-end tests of an S3-backed volume (chunked target, zstd + aes-gcm with a passphrase, s3 store)
# through the command line, on this machine: a real S3 server (S3Proxy, its own process), the gateway
# as its own process (NBD frontend: no kernel module needed), real NBD clients (nbdcopy, qemu-io).
# Covers: data round trip, nothing in the clear and compressed in the bucket, kill -9 after a flush and
# restart with the data intact, a second gateway refused, discard and zeroes delete objects, the S3
# server down mid-write (flush waits and succeeds once it is back; fails with EIO after the timeout,
# and nothing acknowledged is lost), a tampered object is an I/O error, a wrong passphrase is refused,
# down on a stalled S3 shows the flush progress and its outcome (exit 1 naming the data left when S3 is gone),
# volume import/export/verify of an S3 volume (served by up in between); snapshots of it (device down, and
# taken by the serving gateway after a FLUSH barrier, exported while served), gc beside the gateway,
# rollback, snapshot-delete; objects left by a killed gateway and a killed gc, removed by gc; an import
# killed half-way (marked incomplete, refused, deleted), import from and export into NBD URIs (nbdkit); clones of a
# snapshot (served over NBD, own writes, flatten, the snapshot protected meanwhile), clone and flatten killed half-way.
#   tests/s3/run.sh
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
GW=$ROOT/bin/ublk-gateway
for t in nbdcopy qemu-io; do
    command -v $t >/dev/null || { echo "s3 e2e: $t is missing; run tests/vm/install-deps.sh" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/s3-e2e.XXXXXX)
export UBLKGW_RUN_DIR=$WORK/run UBLKGW_SHM_DIR=$WORK/shm
S3=$WORK/s3 BUCKET=vols PORT=$((20000 + RANDOM % 20000))
SOCK=$WORK/run/s3vol.sock
export VOLPASS="correct horse battery staple" S3_KEY=test-access S3_SECRET=test-secret
CHUNK=$((256 * 1024))
pass=0 S3PID=""
cleanup() {
    "$GW" down s3vol >/dev/null 2>&1 || true
    "$GW" down s3imp >/dev/null 2>&1 || true
    "$GW" down s3cln >/dev/null 2>&1 || true
    [[ -n $S3PID ]] && kill -9 "$S3PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
fail() { echo "not ok - $*" >&2; tail -n 20 "$UBLKGW_RUN_DIR"/s3vol.log 2>/dev/null | sed "s/^/    gateway: /" >&2; exit 1; }
one_line() { # $1 what, $2 output: exactly one line starting "ublk-gateway: ", no stack trace
    local n
    n=$(grep -cvE '^(OpenJDK 64-Bit Server VM warning:|Picked up JAVA_TOOL_OPTIONS)' <<< "$2" || true)
    [[ $n == 1 && $2 == *"ublk-gateway: "* && $2 != *"Exception"* && $2 != *$'\tat '* ]] || fail "$1: not one clear line: $2"
}

s3_start() {
    local out
    out=$(scripts/s3proxy.sh start "$S3" "$PORT") || fail "S3Proxy did not start: $out"
    S3PID=${out%% *}
}
s3_kill() { kill -9 "$S3PID"; wait_gone "$S3PID"; S3PID=""; }
wait_gone() { for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; fail "pid $1 did not exit"; }
gw_pid() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$UBLKGW_RUN_DIR/s3vol.json"; }
up() { "$GW" up "$WORK/vol.yaml" > "$WORK/up.out" 2>&1 || fail "up: $(cat "$WORK/up.out")"; }
chunk_objects() { find "$S3/$BUCKET/${1:-s3vol}/chunks" -type f 2>/dev/null | wc -l; }
# objects a write replaced go in the background once the map that no longer lists them is stored: wait for them
settle_objects() { # $1 volume, $2 expected count
    local n
    for _ in $(seq 100); do n=$(chunk_objects "$1"); ((n == $2)) && return 0; sleep 0.1; done
    fail "expected $2 chunk objects in $1, found $n"
}
# a chunk's object (format 2: chunks/HI/INDEX.GENERATION): $1 volume, $2 chunk index; exactly one must exist
chunk_object() {
    local f
    f=$(compgen -G "$S3/$BUCKET/$1/chunks/$(printf '%x/%x' $(($2 >> 12)) "$2").*") || fail "no object of chunk $2 in $1"
    [[ $(wc -l <<< "$f") == 1 ]] || fail "chunk $2 of $1 has several objects: $f"
    echo "$f"
}
EXPORT="nbd+unix:///s3vol?socket=$SOCK"

mkdir -p "$S3/$BUCKET"
s3_start
# 48 MiB: a random half (does not compress: stored raw with a flag) and a text half (compresses well)
head -c 24M /dev/urandom > "$WORK/in.img"
seq -f 'ublk-gateway compressible half, line %g' 1 700000 > "$WORK/text" && truncate -s 24M "$WORK/text"
cat "$WORK/text" >> "$WORK/in.img"
cat > "$WORK/vol.yaml" <<YAML
devices:
  - name: s3vol
    size: 64MiB
    frontend: nbd
    nbd-listen: ["unix:$SOCK"]
    target:
      type: chunked
      chunk-size: 256KiB
      cache: 8MiB                # far smaller than the data: reads go to S3
      writeback-delay-ms: 200
      codecs:
        - {type: zstd, level: 1}
        - {type: aes-gcm, passphrase: "\${env:VOLPASS}", kdf-iterations: 10000}
      store:
        type: s3
        bucket: $BUCKET
        prefix: s3vol/
        endpoint: http://127.0.0.1:$PORT
        region: us-east-1
        access-key-id: \${env:S3_KEY}
        secret-access-key: \${env:S3_SECRET}
        timeout-seconds: 15
        attempt-timeout-seconds: 5
YAML

up
grep -q "s3vol: frontend nbd; connect with $EXPORT" "$WORK/up.out" || fail "up does not say how to connect: $(cat "$WORK/up.out")"
nbdcopy --flush "$WORK/in.img" "$EXPORT"
settle_objects s3vol 192
grep -rqs "compressible half" "$S3/$BUCKET" && fail "plain text of the volume is in the bucket"
grep -rqs "$VOLPASS" "$S3/$BUCKET" "$WORK/up.out" && fail "the passphrase is in the bucket or the output"
stored=$(find "$S3/$BUCKET/s3vol/chunks" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
((stored < 48 * 1048576 * 6 / 10)) || fail "the text half was not compressed: $stored bytes stored for 48 MiB"
ok "nbdcopy 48 MiB into an S3 volume: 192 objects, $((stored / 1048576)) MiB stored, nothing in the clear"

pid=$(gw_pid)
kill -9 "$pid"
wait_gone "$pid"
up # the lease of a dead gateway on this host is taken over
nbdcopy "$EXPORT" "$WORK/out.img"
cmp <(head -c 48M "$WORK/out.img") "$WORK/in.img" || fail "data after kill -9 and restart differs"
cmp <(tail -c 16M "$WORK/out.img") <(head -c 16M /dev/zero) || fail "the never-written tail does not read as zeros"
ok "kill -9 after the flush, restart: all 48 MiB read back from S3"

sed "s|unix:$SOCK|unix:$WORK/other.sock|" "$WORK/vol.yaml" > "$WORK/other.yaml"
if out=$(UBLKGW_RUN_DIR=$WORK/run2 "$GW" up "$WORK/other.yaml" 2>&1 >/dev/null); then
    UBLKGW_RUN_DIR=$WORK/run2 "$GW" down s3vol >/dev/null 2>&1 || true
    fail "a second gateway attached the volume"
fi
one_line "second gateway" "$out"
[[ $out == *"in use by gateway"* ]] || fail "second gateway: $out"
ok "a second gateway on the same volume is refused: $out"

before=$(chunk_objects)
qemu-io -f raw -c "discard 0 1M" -c "write -z 1M 1M" -c "write -z 2176k 4k" -c flush "$EXPORT" > "$WORK/qio.log" \
    || fail "discard/write zeroes: $(cat "$WORK/qio.log")"
settle_objects s3vol $((before - 8))   # discard and zeroes of 2 MiB: 8 objects go once the FLUSH stored the map
r=$(qemu-io -f raw -c "read -P 0 0 2M" -c "read -P 0 2176k 4k" "$EXPORT")
[[ $r == *"Pattern verification failed"* ]] && fail "discarded range does not read as zeros"
# what the volume must hold from here on
cp "$WORK/in.img" "$WORK/expect.img" && truncate -s 64M "$WORK/expect.img"
dd if=/dev/zero of="$WORK/expect.img" bs=1k seek=0 count=2048 conv=notrunc status=none
dd if=/dev/zero of="$WORK/expect.img" bs=1k seek=2176 count=4 conv=notrunc status=none
ok "discard and write-zeroes delete whole chunks (8 objects gone) and read back as zeros"

# S3 down mid-write: the write is acknowledged into the cache (nbdcopy without --flush sends no FLUSH;
# qemu-io flushes when it closes the export); FLUSH waits, retrying, until S3 is back
head -c 4M /dev/zero | tr '\0' '\245' > "$WORK/a5.img"
head -c 1M /dev/zero | tr '\0' '\074' > "$WORK/3c.img"
s3_kill
timeout 10 nbdcopy "$WORK/a5.img" "$EXPORT" || fail "a write with S3 down was not acknowledged from the cache"
qemu-io -f raw -c flush "$EXPORT" > "$WORK/flush1.log" 2>&1 &
flusher=$!
sleep 4
kill -0 "$flusher" 2>/dev/null || fail "FLUSH returned while S3 was down: $(cat "$WORK/flush1.log")"
s3_start
wait "$flusher" || fail "FLUSH failed although S3 came back within the timeout: $(cat "$WORK/flush1.log")"
dd if="$WORK/a5.img" of="$WORK/expect.img" conv=notrunc status=none
ok "S3 down mid-write: the write is cached, FLUSH waits and succeeds once the server is back"

# ... and fails with EIO once the outage outlasts timeout-seconds; the data stays dirty, not lost
s3_kill
t0=$SECONDS
timeout 10 nbdcopy "$WORK/3c.img" "$EXPORT" || fail "a write with S3 down was not acknowledged from the cache"
# (qemu-io prints nothing when a flush fails: its exit status tells)
qemu-io -f raw -c flush "$EXPORT" > "$WORK/flush2.log" 2>&1 && fail "FLUSH succeeded with S3 down for good"
grep -q "FLUSH at 0 failed: s3: PUT s3://vols/s3vol/chunks/" "$UBLKGW_RUN_DIR/s3vol.log" \
    || fail "the failed FLUSH was not logged with the S3 error"
((SECONDS - t0 <= 90)) || fail "FLUSH took $((SECONDS - t0)) s to fail twice (timeout-seconds is 15)"
dd if="$WORK/3c.img" of="$WORK/expect.img" conv=notrunc status=none
s3_start
qemu-io -f raw -c flush "$EXPORT" > "$WORK/flush3.log" 2>&1 || fail "FLUSH after S3 came back failed"
pid=$(gw_pid)
kill -9 "$pid"
wait_gone "$pid"
up
r=$(qemu-io -f raw -c "read -P 0x3c 0 1M" -c "read -P 0xa5 1M 3M" "$EXPORT")
[[ $r == *"Pattern verification failed"* || $r == *rror* ]] && fail "data written during the outages is lost: $r"
ok "S3 down for good: FLUSH fails with EIO after the timeout; once S3 is back it is stored and survives kill -9"

"$GW" down s3vol > /dev/null
obj=$(chunk_object s3vol 20)
cp "$obj" "$WORK/obj.orig"
printf '\x01' | dd of="$obj" bs=1 seek=100 conv=notrunc status=none
cmp -s "$obj" "$WORK/obj.orig" && printf '\x02' | dd of="$obj" bs=1 seek=100 conv=notrunc status=none
up
if out=$(qemu-io -f raw -c "read $((20 * CHUNK)) 4k" "$EXPORT" 2>&1) && [[ $out != *rror* ]]; then
    fail "a tampered object was read without an error: $out"
fi
[[ $out == *"Input/output error"* ]] || fail "tampered object: $out"
qemu-io -f raw -c "read $((21 * CHUNK)) 4k" "$EXPORT" > /dev/null || fail "reading an intact chunk next to a tampered one"
grep -rq "chunk 20 cannot be decoded" "$UBLKGW_RUN_DIR" || fail "the tampered chunk was not logged"
ok "a tampered object is an I/O error for that request only, and logged"

"$GW" down s3vol > /dev/null
cp "$WORK/obj.orig" "$obj"
if out=$(VOLPASS="wrong passphrase" "$GW" up "$WORK/vol.yaml" 2>&1 >/dev/null); then fail "up with a wrong passphrase succeeded"; fi
one_line "wrong passphrase" "$out"
[[ $out == *"key"* && $out != *"wrong passphrase"* ]] || fail "wrong passphrase: $out"
up
nbdcopy "$EXPORT" "$WORK/out2.img"
cmp "$WORK/out2.img" "$WORK/expect.img" || fail "the volume does not hold what was written, after all of the above"
"$GW" down s3vol > /dev/null
ok "a wrong passphrase is refused in one line: $out; the right one reads back all 64 MiB as written"

# down waits on a slow store: it shows the flush progress (plain lines: the output is not a terminal)
# and ends with the outcome; the store calls retry under one policy, so the wait ends within timeout-seconds
up
kill -STOP "$S3PID"
timeout 10 nbdcopy "$WORK/a5.img" "$EXPORT" || { kill -CONT "$S3PID"; fail "a write with S3 stalled was not acknowledged from the cache"; }
( sleep 10; kill -CONT "$S3PID" ) &  # longer than down takes to start and signal
"$GW" down s3vol > "$WORK/down1.out" 2>&1 || fail "down with a slow store failed: $(cat "$WORK/down1.out")"
wait
grep -qE '^s3vol: flushing: [0-9.]+ (KiB|MiB) left' "$WORK/down1.out" || fail "down showed no flush progress: $(cat "$WORK/down1.out")"
[[ $(tail -n 2 "$WORK/down1.out") == "s3vol: flushed all data"$'\n'"s3vol: removed "* ]] \
    || fail "down did not end with the outcome: $(cat "$WORK/down1.out")"
ok "down on a slow store shows the dirty bytes left ($(grep -m1 flushing: "$WORK/down1.out")), then: flushed all data"

# ... and with the store gone for good it fails (exit 1) saying what could not be stored and why
# (the store goes first: written with it up, a sequential writer's chunks may all be stored before down)
up
s3_kill
timeout 10 nbdcopy "$WORK/3c.img" "$EXPORT" || fail "a write with S3 down was not acknowledged from the cache"
t0=$SECONDS
"$GW" down s3vol > "$WORK/down2.out" 2>&1 && fail "down succeeded although S3 was gone: $(cat "$WORK/down2.out")"
grep -q '^s3vol: flush failed$' "$WORK/down2.out" || fail "down did not report the failed flush: $(cat "$WORK/down2.out")"
grep -qE '^s3vol: stopped, but not all data was stored: volume s3vol: [0-9.]+ MiB could not be stored: s3: PUT s3://vols/s3vol/chunks/' \
    "$WORK/down2.out" || fail "down did not say what was not stored and why: $(cat "$WORK/down2.out")"
((SECONDS - t0 <= 60)) || fail "down took $((SECONDS - t0)) s to give up (timeout-seconds is 15)"
s3_start
ok "down with S3 gone: exit 1 after $((SECONDS - t0)) s, naming the data left and the S3 error"

# validate, with the bundled plugins: compression after encryption is refused at the codec's line
awk '/codecs:/ { print; getline a; getline b; print b; print a; next } { print }' "$WORK/vol.yaml" > "$WORK/order.yaml"
grep -A2 'codecs:' "$WORK/order.yaml" | tail -1 | grep -q zstd || fail "order.yaml does not list zstd after aes-gcm"
if out=$("$GW" validate "$WORK/order.yaml" 2>&1); then fail "validate accepted zstd after aes-gcm"; fi
[[ $out == *'order.yaml:13:11: codec "zstd" cannot come after "aes-gcm" in codecs'*'reorder the codecs'* ]] \
    || fail "codec order: $out"
ok "validate refuses compression after encryption, at the codec's line: ${out##*order.yaml:}"
# volume operations: a sparse image imported into a new S3 volume (the device's codecs and passphrase),
# served by up, exported, verified; a corrupt and a missing object are found by offset
t0=$SECONDS
sed -e 's/name: s3vol/name: s3imp/' -e 's|prefix: s3vol/|prefix: s3imp/|' -e "s|unix:$SOCK|unix:$WORK/imp.sock|" \
    "$WORK/vol.yaml" > "$WORK/imp.yaml"
truncate -s 64M "$WORK/sparse.img"
dd if="$WORK/in.img" of="$WORK/sparse.img" bs=1M count=3 seek=5 conv=notrunc status=none    # 12 chunks at 5 MiB
dd if="$WORK/text" of="$WORK/sparse.img" bs=1M count=1 seek=40 conv=notrunc status=none     # 4 chunks at 40 MiB
dd if="$WORK/in.img" of="$WORK/sparse.img" bs=4k count=1 seek=16128 conv=notrunc status=none # 1 chunk at 63 MiB
"$GW" volume import "$WORK/sparse.img" --config "$WORK/imp.yaml" --device s3imp > "$WORK/imp.out" 2>&1 \
    || fail "volume import: $(cat "$WORK/imp.out")"
grep -q "^imported $WORK/sparse.img into volume s3imp (device s3imp of $WORK/imp.yaml): 64 MiB, 17 of 256 chunks stored" \
    "$WORK/imp.out" || fail "volume import said: $(cat "$WORK/imp.out")"
n=$(find "$S3/$BUCKET/s3imp/chunks" -type f | wc -l)
((n == 17)) || fail "import stored $n chunk objects, expected 17 (the image's chunks that are not all zeros)"
ok "volume import: a sparse 64 MiB image into S3 as 17 objects (all-zero chunks not stored)"
# the same volume by store URL (the volume is NAME/ under the URL's prefix), with the device's codecs
STORE="s3://$BUCKET?endpoint=http://127.0.0.1:$PORT&region=us-east-1&access-key-id=\${env:S3_KEY}&secret-access-key=\${env:S3_SECRET}"
CODECS='[{type: zstd, level: 1}, {type: aes-gcm, passphrase: "${env:VOLPASS}", kdf-iterations: 10000}]'

"$GW" up "$WORK/imp.yaml" > "$WORK/upimp.out" 2>&1 || fail "up of the imported volume: $(cat "$WORK/upimp.out")"
nbdcopy "nbd+unix:///s3imp?socket=$WORK/imp.sock" "$WORK/served.img"
cmp "$WORK/served.img" "$WORK/sparse.img" || { "$GW" down s3imp; fail "the imported volume serves other data than the image"; }
"$GW" down s3imp > /dev/null
"$GW" volume export s3imp "$WORK/exp.img" --store "$STORE" --codecs "$CODECS" > "$WORK/exp.out" 2>&1 \
    || fail "volume export: $(cat "$WORK/exp.out")"
cmp "$WORK/exp.img" "$WORK/sparse.img" || fail "the exported image differs from the imported one"
used=$(du -k "$WORK/exp.img" | cut -f1)
((used < 8192)) || fail "the exported image is not sparse: $used KiB allocated for 4 MiB of data"
"$GW" volume verify s3imp --store "$STORE" --codecs "$CODECS" > "$WORK/ver1.out" 2>&1 || fail "verify of a clean volume: $(cat "$WORK/ver1.out")"
ok "up serves the imported volume as the image (nbdcopy, cmp); export is identical and sparse ($used KiB); verify clean"

# snapshots of the S3 volume: one device down, one taken by the serving gateway (asked through the
# bucket, after a FLUSH barrier) and exported while served; gc beside the gateway; rollback; snapshot-delete
t1=$SECONDS
V=(--store "$STORE" --codecs "$CODECS")
"$GW" volume snapshot s3imp base "${V[@]}" > "$WORK/snap1.out" 2>&1 || fail "volume snapshot (device down): $(cat "$WORK/snap1.out")"
grep -q "^took snapshot base of volume s3imp .*: 4.25 MiB referenced" "$WORK/snap1.out" || fail "snapshot said: $(cat "$WORK/snap1.out")"
[[ -f $S3/$BUCKET/s3imp/snapshots/base.map ]] || fail "no manifest object snapshots/base.map"
grep -rqs "$VOLPASS" "$S3/$BUCKET/s3imp/snapshots" && fail "the passphrase is in a manifest"
"$GW" up "$WORK/imp.yaml" > "$WORK/upimp2.out" 2>&1 || fail "up of the imported volume: $(cat "$WORK/upimp2.out")"
IMP="nbd+unix:///s3imp?socket=$WORK/imp.sock"
qemu-io -f raw -c "write -P 0x5a 5M 1M" "$IMP" > /dev/null || fail "qemu-io write"   # 4 chunks rewritten, not flushed yet
cp "$WORK/sparse.img" "$WORK/live.img"
printf '\x5a%.0s' $(seq 1048576) | dd of="$WORK/live.img" bs=1M seek=5 conv=notrunc status=none
"$GW" volume snapshot s3imp live "${V[@]}" > "$WORK/snap2.out" 2>&1 || { "$GW" down s3imp; fail "volume snapshot (served): $(cat "$WORK/snap2.out")"; }
grep -q "took snapshot live of volume s3imp" "$WORK/snap2.out" || fail "served snapshot said: $(cat "$WORK/snap2.out")"
grep -q "took snapshot live" "$UBLKGW_RUN_DIR/s3imp.log" || fail "the serving gateway did not log the snapshot"
"$GW" volume export s3imp "$WORK/live-exp.img" --snapshot live "${V[@]}" > /dev/null 2>&1 || fail "export --snapshot while served"
cmp "$WORK/live-exp.img" "$WORK/live.img" || fail "the served snapshot does not hold the writes acknowledged before it"
"$GW" volume export s3imp "$WORK/base-exp.img" --snapshot base "${V[@]}" > /dev/null 2>&1 || fail "export --snapshot base"
cmp "$WORK/base-exp.img" "$WORK/sparse.img" || fail "snapshot base differs from the imported image"
qemu-io -f raw -c "write -P 0x77 5M 1M" "$IMP" > /dev/null || fail "qemu-io write"
"$GW" volume gc s3imp "${V[@]}" > "$WORK/gc1.out" 2>&1 || fail "gc beside the gateway: $(cat "$WORK/gc1.out")"
r=$(qemu-io -f raw -c "read -P 0x77 5M 1M" "$IMP") && [[ $r != *"verification failed"* ]] || fail "data after gc: $r"
"$GW" volume snapshots s3imp "${V[@]}" > "$WORK/snaps.out" 2>&1 || fail "volume snapshots: $(cat "$WORK/snaps.out")"
grep -q "^base .* 4.25 MiB" "$WORK/snaps.out" && grep -q "^live .* 4.25 MiB" "$WORK/snaps.out" || fail "snapshots: $(cat "$WORK/snaps.out")"
if out=$("$GW" volume rollback s3imp base "${V[@]}" 2>&1); then fail "rollback of a served volume succeeded"; fi
one_line "rollback while served" "$out"
"$GW" down s3imp > /dev/null
settle_objects s3imp 25   # 17 of base, 4 of live, 4 of the volume now
"$GW" volume rollback s3imp base "${V[@]}" > /dev/null 2>&1 || fail "volume rollback"
settle_objects s3imp 21
"$GW" volume export s3imp "$WORK/rb.img" "${V[@]}" > /dev/null 2>&1 || fail "export after rollback"
cmp "$WORK/rb.img" "$WORK/sparse.img" || fail "after rollback the volume is not snapshot base"
"$GW" volume snapshot-delete s3imp live "${V[@]}" > "$WORK/sdel.out" 2>&1 || fail "snapshot-delete: $(cat "$WORK/sdel.out")"
grep -q "5 objects removed" "$WORK/sdel.out" || fail "snapshot-delete said: $(cat "$WORK/sdel.out")"
(($(chunk_objects s3imp) == 17)) || fail "snapshot-delete left $(chunk_objects s3imp) chunk objects, expected 17"
"$GW" volume snapshot-delete s3imp base "${V[@]}" > /dev/null 2>&1 || fail "snapshot-delete base"
"$GW" volume verify s3imp "${V[@]}" > "$WORK/ver3.out" 2>&1 || fail "verify after the snapshot cases: $(cat "$WORK/ver3.out")"
ok "snapshots on S3: device down, served (FLUSH barrier, exported while served), gc beside the gateway, rollback, snapshot-delete ($((SECONDS - t1)) s)"

# a crash leaves unreferenced objects: writes stored by write-back but never in a stored map (kill -9 before a
# FLUSH), and a gc killed half-way; gc removes them, never a referenced one, and verify stays clean
"$GW" up "$WORK/imp.yaml" > /dev/null 2>&1 || fail "up"
head -c 8M /dev/urandom > "$WORK/pat8.img"
nbdcopy "$WORK/pat8.img" "$IMP"   # without --flush: no FLUSH (qemu-io would send one when it closes)
sleep 2  # write-back (200 ms delay) stores the chunks; no FLUSH, so no stored map lists them
pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$UBLKGW_RUN_DIR/s3imp.json")
kill -9 "$pid"
wait_gone "$pid"
n=$(chunk_objects s3imp)
((n > 17)) || fail "no write-back objects were left by the killed gateway ($n objects)"
"$GW" volume gc s3imp "${V[@]}" > "$WORK/gc2.out" 2>&1 &
gcpid=$!
sleep 2   # about when the JVM is up and gc is listing or deleting
kill -9 $gcpid 2>/dev/null || true
wait $gcpid 2>/dev/null || true
"$GW" volume verify s3imp "${V[@]}" > "$WORK/ver4.out" 2>&1 || fail "verify after a killed gc: $(cat "$WORK/ver4.out")"
"$GW" volume gc s3imp "${V[@]}" > "$WORK/gc3.out" 2>&1 || fail "gc: $(cat "$WORK/gc3.out")"
(($(chunk_objects s3imp) == 17)) || fail "gc left $(chunk_objects s3imp) chunk objects, expected 17: $(cat "$WORK/gc3.out")"
"$GW" volume export s3imp "$WORK/gc.img" "${V[@]}" > /dev/null 2>&1 || fail "export after gc"
cmp "$WORK/gc.img" "$WORK/sparse.img" || fail "gc changed the volume's data"
ok "kill -9 before a FLUSH left $((n - 17)) objects; a gc killed half-way, then gc: 17 left, data intact, verify clean"

# an import killed with kill -9 half-way leaves a volume marked incomplete: info says so, verify, export and
# up refuse it in one line, delete removes it; then an import from an NBD URI and an export into one
t2=$SECONDS
K=(--store "$STORE" --codecs "$CODECS")
"$GW" volume import "$WORK/in.img" s3kill "${K[@]}" > "$WORK/kill.out" 2>&1 &
imppid=$!
for _ in $(seq 300); do
    n=$(find "$S3/$BUCKET/s3kill/chunks" -type f 2>/dev/null | wc -l || true)
    ((n >= 3)) && break
    sleep 0.1
done
kill -9 $imppid 2>/dev/null || fail "the import of 48 MiB finished before it could be killed: $(cat "$WORK/kill.out")"
wait $imppid 2>/dev/null || true
grep -q "^import=incomplete" "$S3/$BUCKET/s3kill/volume.meta" || fail "the killed import's metadata is not marked incomplete"
"$GW" volume info s3kill --store "$STORE" > "$WORK/kinfo.out" 2>&1 || fail "info of a killed import: $(cat "$WORK/kinfo.out")"
grep -q "^state: *incomplete import" "$WORK/kinfo.out" || fail "info does not say the import is incomplete: $(cat "$WORK/kinfo.out")"
if "$GW" volume verify s3kill "${K[@]}" > /dev/null 2> "$WORK/kver.err"; then fail "verify of a killed import exited 0"; fi
one_line "verify of a killed import" "$(cat "$WORK/kver.err")"
if "$GW" volume export s3kill "$WORK/kill.img" "${K[@]}" > /dev/null 2> "$WORK/kexp.err"; then fail "export of a killed import succeeded"; fi
one_line "export of a killed import" "$(cat "$WORK/kexp.err")"
for f in kver kexp; do
    grep -q "incomplete import.*delete it (ublk-gateway volume delete) and import again" "$WORK/$f.err" || fail "$f: $(cat "$WORK/$f.err")"
done
[[ ! -e $WORK/kill.img ]] || fail "export of a killed import left a file"
"$GW" volume delete s3kill "${K[@]}" > /dev/null 2>&1 || fail "delete of a killed import"
[[ -z $(find "$S3/$BUCKET/s3kill" -type f 2>/dev/null) ]] || fail "delete left objects: $(find "$S3/$BUCKET/s3kill" -type f)"
nbdkit -U "$WORK/src.sock" -P "$WORK/src.pid" file "$WORK/in.img" || fail "nbdkit file"
nbdkit -U "$WORK/dst.sock" -P "$WORK/dst.pid" memory 64M || fail "nbdkit memory"
"$GW" volume import "nbd+unix:///?socket=$WORK/src.sock" s3kill "${K[@]}" > "$WORK/kimp.out" 2>&1 \
    || fail "import from NBD after delete: $(cat "$WORK/kimp.out")"
grep -q "^imported nbd+unix:///?socket=$WORK/src.sock into volume s3kill .*: 48 MiB, 48 of 48 chunks stored" "$WORK/kimp.out" \
    || fail "import from NBD said: $(cat "$WORK/kimp.out")"
"$GW" volume export s3kill "nbd+unix:///?socket=$WORK/dst.sock" "${K[@]}" > /dev/null 2>&1 || fail "export into NBD"
nbdcopy "nbd+unix:///?socket=$WORK/dst.sock" "$WORK/knbd.img"
kill "$(cat "$WORK/src.pid")" "$(cat "$WORK/dst.pid")"
cmp <(head -c 48M "$WORK/knbd.img") "$WORK/in.img" || fail "the volume imported from NBD and exported into NBD differs"
ok "import killed after $n chunks: info says incomplete, verify/export refuse in one line, delete; import from and export into NBD match ($((SECONDS - t2)) s)"

# clones: a clone of a snapshot copies no chunk, serves the snapshot's data (nbdcopy, cmp) and keeps its own
# writes; the parent's snapshot is protected until flatten; clone and flatten killed with -9 half-way leave
# both volumes verifying clean and nothing referenced gone
t2=$SECONDS
"$GW" volume snapshot s3imp gold "${V[@]}" > /dev/null 2>&1 || fail "snapshot gold"
"$GW" volume clone s3imp@gold s3cln "${V[@]}" > "$WORK/clone.out" 2>&1 || fail "volume clone: $(cat "$WORK/clone.out")"
grep -q "^cloned snapshot gold of volume s3imp as volume s3cln .*: 64 MiB in chunks of 256 KiB, .*no chunk copied" "$WORK/clone.out" \
    || fail "clone said: $(cat "$WORK/clone.out")"
(($(chunk_objects s3cln) == 0)) || fail "the clone copied $(chunk_objects s3cln) chunks"
"$GW" volume info s3cln "${V[@]}" --json > "$WORK/cinfo.out" 2>&1 || fail "info of the clone: $(cat "$WORK/cinfo.out")"
grep -q '"parent":"s3imp@gold"' "$WORK/cinfo.out" || fail "info does not name the parent: $(cat "$WORK/cinfo.out")"
[[ -f $S3/$BUCKET/s3imp/clones/s3cln ]] || fail "the parent holds no record of the clone (clones/s3cln)"
sed -e 's/s3imp/s3cln/g' -e 's|/imp.sock|/cln.sock|' "$WORK/imp.yaml" > "$WORK/cln.yaml"
"$GW" up "$WORK/cln.yaml" > "$WORK/upcln.out" 2>&1 || fail "up of the clone: $(cat "$WORK/upcln.out")"
CLN="nbd+unix:///s3cln?socket=$WORK/cln.sock"
nbdcopy "$CLN" "$WORK/cln.img"
cmp "$WORK/cln.img" "$WORK/sparse.img" || { "$GW" down s3cln; fail "the clone does not serve the snapshot's data"; }
qemu-io -f raw -c "write -P 0x33 5M 256k" -c "write -P 0x44 41947136 4k" "$CLN" > /dev/null || fail "qemu-io write to the clone"
cp "$WORK/sparse.img" "$WORK/cln-want.img"
printf '\x33%.0s' $(seq 262144) | dd of="$WORK/cln-want.img" bs=256k seek=20 conv=notrunc status=none
printf '\x44%.0s' $(seq 4096) | dd of="$WORK/cln-want.img" bs=4k seek=10241 conv=notrunc status=none
nbdcopy "$CLN" "$WORK/cln2.img"
cmp "$WORK/cln2.img" "$WORK/cln-want.img" || { "$GW" down s3cln; fail "the clone's writes (a whole chunk, a partial one) read back wrong"; }
if out=$("$GW" volume snapshot-delete s3imp gold "${V[@]}" 2>&1); then fail "snapshot-delete of a cloned snapshot succeeded"; fi
one_line "snapshot-delete of a cloned snapshot" "$out"
[[ $out == *"clones read from it: s3cln (of gold)"*flatten* ]] || fail "the refusal does not name the clone and the fix: $out"
if out=$("$GW" volume flatten s3cln "${V[@]}" 2>&1); then fail "flatten of a served clone succeeded"; fi
one_line "flatten of a served clone" "$out"
"$GW" down s3cln > /dev/null
(($(chunk_objects s3cln) == 2)) || fail "the clone stored $(chunk_objects s3cln) objects, expected 2 (chunks 20 and 160)"
(($(chunk_objects s3imp) == 17)) || fail "the clone's writes changed the parent: $(chunk_objects s3imp) objects"
"$GW" volume flatten s3cln "${V[@]}" > "$WORK/flat.out" 2>&1 || fail "flatten: $(cat "$WORK/flat.out")"
grep -q "^flattened volume s3cln .*: 15 chunks copied from s3imp@gold" "$WORK/flat.out" || fail "flatten said: $(cat "$WORK/flat.out")"
"$GW" volume snapshot-delete s3imp gold "${V[@]}" > /dev/null 2>&1 || fail "snapshot-delete after flatten"
"$GW" volume export s3cln "$WORK/flat.img" "${V[@]}" > /dev/null 2>&1 || fail "export of the flattened clone"
cmp "$WORK/flat.img" "$WORK/cln-want.img" || fail "the flattened clone's data differs"
ok "clone on S3: no chunk copied, served as the snapshot (nbdcopy, cmp), own writes, snapshot protected, flatten (15 chunks), snapshot deleted ($((SECONDS - t2)) s)"

t2=$SECONDS
"$GW" volume snapshot s3imp g2 "${V[@]}" > /dev/null 2>&1 || fail "snapshot g2"
for op in clone flatten; do
    if [[ $op == clone ]]; then "$GW" volume clone s3imp@g2 s3k "${V[@]}" > /dev/null 2>&1 &
    else "$GW" volume flatten s3k "${V[@]}" > /dev/null 2>&1 & fi
    opid=$!
    sleep "1.$((RANDOM % 10))"   # about when the JVM is up and the operation writes to the bucket
    kill -9 $opid 2>/dev/null || true
    wait $opid 2>/dev/null || true
    "$GW" volume verify s3imp "${V[@]}" > "$WORK/kv1.out" 2>&1 || fail "verify of the parent after a killed $op: $(cat "$WORK/kv1.out")"
    "$GW" volume gc s3imp "${V[@]}" > /dev/null 2>&1 || fail "gc of the parent after a killed $op"   # drops a stale clone record
    if [[ -f $S3/$BUCKET/s3k/volume.meta ]]; then
        "$GW" volume verify s3k "${V[@]}" > "$WORK/kv2.out" 2>&1 || fail "verify of the clone after a killed $op: $(cat "$WORK/kv2.out")"
    else
        [[ $op == clone ]] || fail "a killed flatten lost the clone"
        "$GW" volume clone s3imp@g2 s3k "${V[@]}" > /dev/null 2>&1 || fail "clone again after a killed clone"
    fi
done
"$GW" volume flatten s3k "${V[@]}" > "$WORK/kf.out" 2>&1 || grep -q "is not a clone" "$WORK/kf.out" || fail "flatten after a killed flatten: $(cat "$WORK/kf.out")"
"$GW" volume snapshot-delete s3imp g2 "${V[@]}" > /dev/null 2>&1 || fail "snapshot-delete g2 after flatten"
"$GW" volume export s3k "$WORK/k.img" "${V[@]}" > /dev/null 2>&1 && cmp "$WORK/k.img" "$WORK/sparse.img" || fail "the clone after flatten differs"
(($(chunk_objects s3imp) == 17)) || fail "the parent has $(chunk_objects s3imp) chunk objects after the clone cases, expected 17"
ok "clone and flatten killed with -9 half-way: verify clean, data intact, stale record removed by gc ($((SECONDS - t2)) s)"

obj=$(chunk_object s3imp 20)   # chunk 20, at 5 MiB
cp "$obj" "$WORK/obj14.orig"
printf '\x01' | dd of="$obj" bs=1 seek=100 conv=notrunc status=none
cmp -s "$obj" "$WORK/obj14.orig" && printf '\x02' | dd of="$obj" bs=1 seek=100 conv=notrunc status=none
rm "$(chunk_object s3imp 160)"  # chunk 160, at 40 MiB
cp "$(chunk_object s3imp 25)" "$(chunk_object s3imp 24)"  # chunk 25's object under chunk 24's name: aes-gcm binds the index
if "$GW" volume verify s3imp --store "$STORE" --codecs "$CODECS" > "$WORK/ver2.out" 2>&1; then
    fail "verify of a damaged volume exited 0: $(cat "$WORK/ver2.out")"
else
    rc=$?
fi
((rc == 1)) || fail "verify of a damaged volume exited $rc, not 1: $(cat "$WORK/ver2.out")"
grep -q "^damaged: chunk 20 at offset 5242880 (5 MiB): chunk 20 cannot be decoded" "$WORK/ver2.out" \
    && grep -q "^damaged: chunk 160 at offset 41943040 (40 MiB): missing" "$WORK/ver2.out" \
    && grep -q "^damaged: chunk 24 at offset 6291456 (6 MiB): chunk 24 cannot be decoded" "$WORK/ver2.out" \
    || fail "verify did not report the damage by offset: $(cat "$WORK/ver2.out")"
ok "verify reports a corrupt object, a missing one and one renamed to another chunk by offset, exit 1 ($((SECONDS - t0)) s for the volume cases)"
echo "s3 e2e: all $pass passed"
