#!/usr/bin/env bash
# End-to-end tests of the NBD frontend through the command line, on this machine (NBD needs no kernel
# module): `up` with frontend auto/nbd, real clients (nbdinfo, nbdcopy, qemu-img, qemu-io), stages in
# the chain, a file target, `list`, `down`, and an `up` that must fail clearly.
#   tests/nbd/run.sh
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
GW=bin/ublk-gateway
for t in nbdinfo nbdcopy qemu-img qemu-io systemd-socket-activate systemd-analyze python3 openssl; do
    command -v $t >/dev/null || { echo "nbd e2e: $t is missing; run tests/vm/install-deps.sh" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/nbd-e2e.XXXXXX)
export UBLKGW_RUN_DIR=$WORK/run UBLKGW_SHM_DIR=$WORK/shm
SOCK=$WORK/run/nbd.sock
PORT=$((20000 + RANDOM % 20000))
MPORT=$((PORT + 1))
pass=0
cleanup() {
    for n in e2e-mem e2e-file e2e-logs quick0 vault0 mc-safe tls0; do $GW down $n >/dev/null 2>&1 || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
fail() { echo "not ok - $*" >&2; exit 1; }

cat > "$WORK/vol.yaml" <<YAML
metrics-listen: 127.0.0.1:$MPORT
devices:
  - name: e2e-mem
    size: 256MiB
    depth: 64
    frontend: nbd
    nbd-listen: ["unix:$SOCK", "127.0.0.1:$PORT"]
    stages:
      - type: stats
    target:
      type: memory
  - name: e2e-file
    size: 64MiB
    block-size: 512
    target:
      type: file
      path: e2e-file.img
      create: true
YAML

out=$($GW up "$WORK/vol.yaml" 2>&1) || fail "up: $out"
echo "$out" | grep -q "e2e-mem: frontend nbd; connect with nbd+unix:///e2e-mem?socket=$SOCK or nbd://127.0.0.1:$PORT/e2e-mem" \
    || fail "up does not say how to connect: $out"
echo "$out" | grep -q "e2e-file: frontend auto: " || fail "up does not say what auto chose: $out"
# one gateway, one log: the second device's log name leads to it
[[ $(readlink "$WORK/run/e2e-file.log") == e2e-mem.log ]] || fail "e2e-file.log does not link to the gateway's log e2e-mem.log"
grep -q "e2e-file" "$WORK/run/e2e-file.log" || fail "e2e-file.log does not mention e2e-file"
ok "up prints the frontend and the NBD URIs; each device's log name leads to the gateway's log"

MEM="nbd+unix:///e2e-mem?socket=$SOCK"
FILE="nbd://127.0.0.1:$PORT/e2e-file"
list=$($GW list)
echo "$list" | grep -E "^e2e-mem +nbd +LIVE" >/dev/null || fail "list: $list"
ok "list shows the NBD exports"

[[ $(nbdinfo --size "$MEM") == 268435456 ]] || fail "nbdinfo size"
nbdinfo --list "nbd+unix://?socket=$SOCK" | grep -q 'export="e2e-file"' || fail "nbdinfo --list"
ok "nbdinfo sees both exports and sizes"

head -c 256M /dev/urandom > "$WORK/in.img"
nbdcopy "$WORK/in.img" "$MEM"
nbdcopy "$MEM" "$WORK/out.img"
[[ $(sha256sum < "$WORK/in.img") == $(sha256sum < "$WORK/out.img") ]] || fail "nbdcopy round trip differs"
ok "nbdcopy 256 MiB in and out, checksums match (through the stats stage)"

# the stats stage's counters as Prometheus scrapes them: every byte nbdcopy wrote and read
metrics=$(curl -sf "http://127.0.0.1:$MPORT/metrics") || fail "no metrics at 127.0.0.1:$MPORT"
for op in write read; do
    sum=$(awk -v op="$op" '/^ublkgw_bytes_total\{device="e2e-mem"/ && index($0, "op=\"" op "\"") { s += $NF } END { printf "%d", s }' <<< "$metrics")
    [[ $sum == 268435456 ]] || fail "metrics: e2e-mem $op bytes $sum, not 268435456: $(grep bytes_total <<< "$metrics")"
done
grep -q '^ublkgw_request_duration_seconds_bucket{device="e2e-mem",op="write",queue="0",le="+Inf"} [1-9]' <<< "$metrics" \
    || fail "metrics: no write latency histogram: $metrics"
ok "metrics-listen serves the device's bytes and latency histogram over HTTP"

# the same through `stats --json` (published once a second: the last writes may take that long to show)
check_stats='import json, sys
d = json.load(sys.stdin); w = d["ops"]["write"]; l = w["latency_us"]
sys.exit(not (d["device"] == "e2e-mem" and w["bytes"] == 268435456 and 0 < l["p50"] <= l["p99"] <= l["max"]))'
for try in 1 2 3; do
    stats=$($GW stats e2e-mem --json) || fail "stats --json: $stats"
    python3 -c "$check_stats" <<< "$stats" && break
    ((try < 3)) || fail "stats --json does not show the 256 MiB written with latencies: $stats"
    sleep 1
done
ok "stats --json shows the bytes written and their latency percentiles"

head -c 64M "$WORK/in.img" > "$WORK/in64.img"
qemu-img convert -n -f raw -O raw "$WORK/in64.img" "$FILE"
qemu-img compare -f raw -F raw "$WORK/in64.img" "$FILE" >/dev/null || fail "qemu-img compare"
ok "qemu-img convert and compare on the file target"

qemu-io -f raw -c "write -P 0x5c 1 1000" -c "write -P 0x7e 4095 2" "$FILE" >/dev/null
r=$(qemu-io -f raw -c "read -P 0x5c 1 1000" -c "read -P 0x7e 4095 2" "$FILE")
echo "$r" | grep -q "Pattern verification failed" && fail "qemu-io unaligned pattern: $r"
ok "qemu-io unaligned patterns"

pids=()
for i in 0 1 2 3; do
    qemu-io -f raw -c "write -P $((i + 1)) $((i * 16))M 16M" -c "read -P $((i + 1)) $((i * 16))M 16M" "$MEM" > "$WORK/c$i.log" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent client failed"; done
grep -l "Pattern verification failed" "$WORK"/c*.log && fail "concurrent clients saw wrong data"
ok "four clients at once"

# a second `up` of a served device fails with one clear line
if out=$($GW up "$WORK/vol.yaml" 2>&1); then fail "second up succeeded"; fi
echo "$out" | grep -q "is already up" || fail "second up: $out"
ok "a second up of the same devices is refused"

$GW down e2e-mem >/dev/null
[[ ! -e $SOCK ]] || fail "the socket is left after down"
nbdinfo --size "$MEM" >/dev/null 2>&1 && fail "the export still answers after down"
$GW list | grep -q e2e-mem && fail "list still shows e2e-mem"
ok "down stops the server and removes the socket"

# the TCP port is held by nbdkit: up fails with a clear message
if command -v nbdkit >/dev/null; then
    nbdkit -p "$PORT" -i 127.0.0.1 --exit-with-parent memory size=1M &
    kit=$!
    sleep 0.5
    sed -i 's/^  - name: e2e-file/  - name: e2e-unused/' "$WORK/vol.yaml"
    $GW down e2e-file >/dev/null 2>&1 || true  # went down with e2e-mem: one gateway process serves the file
    if out=$($GW up "$WORK/vol.yaml" --frontend nbd --nbd-listen "127.0.0.1:$PORT" 2>&1); then fail "up on a busy port succeeded"; fi
    echo "$out" | grep -q "cannot listen on 127.0.0.1:$PORT" || fail "busy port message: $out"
    kill "$kit"
    ok "a busy port is reported in one line"
fi
# the README's quickstart file, as a newcomer runs it on a machine without ublk: auto picks NBD
out=$($GW up examples/quickstart.yaml 2>&1) || fail "up examples/quickstart.yaml: $out"
[[ -e /dev/ublk-control ]] || echo "$out" | grep -q "quick0: frontend auto: nbd" || fail "quickstart: auto did not choose NBD: $out"
uri=$(sed -n 's/^quick0: \(nbd[^ ]*\)$/\1/p' <<< "$out" | head -1)
[[ -n $uri || -e /dev/ublk-control ]] || fail "quickstart: no NBD URI printed: $out"
if [[ -n $uri ]]; then
    [[ $(nbdinfo --size "$uri") == 1073741824 ]] || fail "quickstart: nbdinfo size of $uri"
    qemu-io -f raw -c "write -P 0x42 0 1M" -c "read -P 0x42 0 1M" "$uri" | grep -q "Pattern verification failed" \
        && fail "quickstart: data read back differs"
fi
$GW down quick0 > /dev/null || fail "down quick0"
ok "the quickstart (examples/quickstart.yaml) comes up over NBD here and serves data"

# --log-format json: the gateway's log is one JSON object per line, with the device where a line is about one
cat > "$WORK/logs.yaml" <<YAML
devices:
  - name: e2e-logs
    size: 16MiB
    frontend: nbd
    nbd-listen: ["unix:$WORK/logs.sock"]
    target:
      type: memory
YAML
out=$($GW up "$WORK/logs.yaml" --log-format json --log-level debug 2>&1) || fail "up --log-format json: $out"
nbdinfo --size "nbd+unix:///e2e-logs?socket=$WORK/logs.sock" > /dev/null || fail "nbdinfo e2e-logs"
$GW down e2e-logs > /dev/null || fail "down e2e-logs"
python3 - "$WORK/run/e2e-logs.log" <<'PY' || fail "the JSON log: $(cat "$WORK/run/e2e-logs.log")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
objs = [json.loads(l) for l in lines]  # every line parses
assert all({"time", "level", "logger", "message"} <= o.keys() for o in objs), objs
assert all(o["level"] in ("error", "warn", "info", "debug") for o in objs), objs
assert any(o.get("device") == "e2e-logs" and "serving over NBD" in o["message"] for o in objs), objs
assert any(o["level"] == "debug" for o in objs), "--log-level debug shows no debug line"
PY
# log-level: in the file reaches the background gateway: at error, the info lines are gone
sed -i '1i log-level: error' "$WORK/logs.yaml"
out=$($GW up "$WORK/logs.yaml" 2>&1) || fail "up with log-level: error: $out"
$GW down e2e-logs > /dev/null || fail "down e2e-logs"
grep -q " INFO " "$WORK/run/e2e-logs.log" && fail "log-level: error still logs INFO: $(cat "$WORK/run/e2e-logs.log")"
if out=$($GW up "$WORK/logs.yaml" --log-level loud 2>&1); then fail "up --log-level loud succeeded"; fi
[[ $(wc -l <<< "$out") == 1 && $out == *"--log-level"*"loud"* ]] || fail "a bad --log-level: $out"
ok "up --log-format json --log-level debug: the log is JSON lines with the device; log-level: in the file; a bad level is one line"

# every example file validates (with the bundled plugins and the secrets they reference)
for f in examples/*.yaml; do
    out=$(VOLPASS=example $GW validate "$f" 2>&1) || fail "validate $f: $out"
done
ok "every examples/*.yaml validates"

# examples/encrypted-volume.yaml as written, but small, in the work directory and over NBD: data
# survives down and up again, and nothing of it is in the clear in the store
sed -e "s|size: 8GiB|size: 64MiB\n    frontend: nbd\n    nbd-listen: [\"unix:$WORK/vault.sock\"]|" \
    -e "s|path: /var/lib/ublk-gateway/vault0|path: $WORK/vault0|" examples/encrypted-volume.yaml > "$WORK/vault.yaml"
export VOLPASS="nbd e2e passphrase"
seq -f 'vault line %g' 1 400000 > "$WORK/vault.in" && truncate -s 4M "$WORK/vault.in"
VPORT=$((PORT + 2))
out=$($GW up "$WORK/vault.yaml" --metrics-listen 127.0.0.1:$VPORT 2>&1) || fail "up encrypted-volume: $out"
nbdcopy --flush "$WORK/vault.in" "nbd+unix:///vault0?socket=$WORK/vault.sock" || fail "nbdcopy into vault0"
# the volume's own metrics after the flush: nothing dirty, four 1 MiB chunks (and their 8-byte generation)
# through zstd, which shrank the text, and the lease held
vm=$(curl -sf "http://127.0.0.1:$VPORT/metrics") || fail "no metrics at 127.0.0.1:$VPORT"
metric() { awk -v m="$1" -v l="$2" '$1 ~ "^" m "[{]" && index($1, l) { s += $NF } END { printf "%d", s }' <<< "$vm"; }
[[ $(metric ublkgw_chunked_cache_dirty_bytes 'device="vault0"') == 0 ]] || fail "metrics: vault0 dirty after flush: $vm"
[[ $(metric ublkgw_chunked_writeback_chunks_total 'device="vault0"') == 4 ]] || fail "metrics: not 4 chunks written back: $vm"
zin=$(metric ublkgw_codec_input_bytes_total 'codec="zstd"') zout=$(metric ublkgw_codec_output_bytes_total 'codec="zstd"')
(( zin >= 4 * 1048584 && zout < zin / 2 )) || fail "metrics: zstd in $zin, out $zout: $vm"
[[ $(metric ublkgw_chunked_lease_held 'device="vault0"') == 1 ]] || fail "metrics: lease not held: $vm"
[[ $(metric ublkgw_store_requests_total 'op="put"') -ge 5 ]] || fail "metrics: store puts: $vm"
[[ $(metric ublkgw_store_failures_total 'device="vault0"') == 0 ]] || fail "metrics: store failures: $vm"
$GW down vault0 > /dev/null || fail "down vault0"
grep -rqs "vault line" "$WORK/vault0" && fail "plain text of vault0 is in its store"
out=$($GW up "$WORK/vault.yaml" 2>&1) || fail "up encrypted-volume again: $out"
nbdcopy "nbd+unix:///vault0?socket=$WORK/vault.sock" "$WORK/vault.out" || fail "nbdcopy out of vault0"
cmp <(head -c 4M "$WORK/vault.out") "$WORK/vault.in" || fail "vault0 does not read back what was written"
$GW down vault0 > /dev/null || fail "down vault0"
unset VOLPASS
ok "examples/encrypted-volume.yaml (zstd + aes-gcm over a directory store) keeps its data across down/up, encrypted; its metrics show the cache, the codec and the lease"

# plugins through the command line: --plugins-dir and UBLKGW_PLUGINS_DIR; install, list, info, remove
jar=examples/third-party-plugin/target/checksum-stage-1.0.0.jar
[[ -f $jar ]] || fail "examples/third-party-plugin is not built (scripts/test.sh builds it)"
PD=$WORK/plugins
out=$($GW --plugins-dir "$PD" plugins install "$jar" 2>&1) || fail "plugins install: $out"
[[ -f $PD/checksum-1.0.0.jar ]] || fail "plugins install did not copy the archive into $PD: $(ls "$PD")"
if out=$($GW --plugins-dir "$PD" plugins install "$jar" 2>&1); then fail "a second install without --upgrade succeeded"; fi
[[ $out == *"already installed; use --upgrade"* ]] || fail "duplicate install: $out"
out=$(UBLKGW_PLUGINS_DIR=$PD $GW plugins list 2>&1) || fail "plugins list: $out"
grep -qE '^checksum +1\.0\.0 +started +stage checksum$' <<< "$out" || fail "plugins list (from UBLKGW_PLUGINS_DIR) lacks checksum: $out"
grep -qE '^encryption +[^ ]+ +started +stage aes-xts, codec aes-gcm$' <<< "$out" || fail "plugins list lacks the bundled encryption plugin: $out"
out=$($GW --plugins-dir "$PD" plugins info checksum 2>&1) || fail "plugins info checksum: $out"
grep -q '^stage checksum: ' <<< "$out" && grep -q 'sidecar' <<< "$out" || fail "plugins info checksum: $out"
out=$($GW plugins info built-in 2>&1) || fail "plugins info built-in: $out"
grep -q 'burst-ms' <<< "$out" && grep -q 'default 100' <<< "$out" || fail "plugins info built-in lacks rate-limit's options: $out"
out=$($GW --plugins-dir "$PD" plugins remove checksum 2>&1) || fail "plugins remove: $out"
out=$($GW --plugins-dir "$PD" plugins list 2>&1)
grep -q '^checksum ' <<< "$out" && fail "checksum still listed after remove: $out"
ok "plugins install/list/info/remove with --plugins-dir and UBLKGW_PLUGINS_DIR"
# multi-conn follows what the chain declares: the example plugin's checksum stage says it is multi-conn
# safe and gets it; a policy script (a context per connection) says it is not, and its device does not
out=$($GW --plugins-dir "$PD" plugins install "$jar" 2>&1) || fail "plugins install: $out"
cp examples/policies/audit-writes.js "$WORK/audit.js"
cat > "$WORK/mc.yaml" <<YAML
devices:
  - name: mc-safe
    size: 16MiB
    frontend: nbd
    nbd-listen: ["unix:$WORK/mc.sock"]
    stages:
      - type: checksum
        sidecar: $WORK/mc-safe.crc
    target:
      type: memory
  - name: mc-script
    size: 16MiB
    frontend: nbd
    nbd-listen: ["unix:$WORK/mc.sock"]
    script: $WORK/audit.js
    target:
      type: memory
YAML
out=$(UBLKGW_PLUGINS_DIR=$PD $GW up "$WORK/mc.yaml" 2>&1) || fail "up mc.yaml: $out"
info=$(nbdinfo --json "nbd+unix:///mc-safe?socket=$WORK/mc.sock") || fail "nbdinfo mc-safe"
grep -q '"can_multi_conn": true' <<< "$info" || fail "a plugin stage declaring multi-conn safety got no multi-conn: $info"
info=$(nbdinfo --json "nbd+unix:///mc-script?socket=$WORK/mc.sock") || fail "nbdinfo mc-script"
grep -q '"can_multi_conn": false' <<< "$info" || fail "a device with a policy script got multi-conn: $info"
head -c 16M /dev/urandom > "$WORK/mc.in"
nbdcopy --connections=4 "$WORK/mc.in" "nbd+unix:///mc-safe?socket=$WORK/mc.sock" || fail "nbdcopy into mc-safe"
nbdcopy --connections=4 "nbd+unix:///mc-safe?socket=$WORK/mc.sock" "$WORK/mc.out" || fail "nbdcopy out of mc-safe"
cmp "$WORK/mc.in" "$WORK/mc.out" || fail "mc-safe does not read back what four connections wrote"
$GW down mc-safe > /dev/null || fail "down mc-safe"
ok "NBD multi-conn as the chain declares: a multi-conn-safe plugin stage gets it, a script does not"
# NBD over TLS: a CA and a server certificate from openssl, `tls: require` on a unix and a TCP socket;
# libnbd and qemu clients with the CA get through, a plain client is refused
PKI=$WORK/pki
mkdir -p "$PKI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PKI/ca-key.pem" \
    -out "$PKI/ca-cert.pem" -days 2 -subj "/CN=e2e CA" 2>/dev/null || fail "openssl: CA"
openssl req -newkey rsa:2048 -nodes -keyout "$PKI/server-key.pem" -out "$PKI/server.csr" -subj "/CN=localhost" \
    2>/dev/null || fail "openssl: server key"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$PKI/san"
openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca-cert.pem" -CAkey "$PKI/ca-key.pem" -CAcreateserial \
    -out "$PKI/server-cert.pem" -days 2 -extfile "$PKI/san" 2>/dev/null || fail "openssl: server certificate"
TPORT=$((PORT + 2))
cat > "$WORK/tls.yaml" <<YAML
devices:
  - name: tls0
    size: 16MiB
    frontend: nbd
    nbd-listen: ["unix:$WORK/tls.sock", "127.0.0.1:$TPORT"]
    tls: require
    tls-certificates: pki
    target:
      type: memory
YAML
out=$($GW up "$WORK/tls.yaml" 2>&1) || fail "up tls.yaml: $out"
grep -q "connect with nbds+unix:///tls0?socket=$WORK/tls.sock or nbds://127.0.0.1:$TPORT/tls0" <<< "$out" \
    || fail "up does not give nbds:// URIs: $out"
TLSU="nbds+unix:///tls0?socket=$WORK/tls.sock&tls-certificates=$PKI"
nbdinfo "$TLSU" | grep -q "with TLS" || fail "nbdinfo over TLS (unix)"
head -c 8M /dev/urandom > "$WORK/tls.in"
nbdcopy "$WORK/tls.in" "nbds://127.0.0.1:$TPORT/tls0?tls-certificates=$PKI" || fail "nbdcopy into tls0 over TLS (TCP)"
qemu-img compare --object "tls-creds-x509,id=tls0,dir=$PKI,endpoint=client" --image-opts \
    "driver=file,filename=$WORK/tls.in" "driver=nbd,server.type=unix,server.path=$WORK/tls.sock,export=tls0,tls-creds=tls0,tls-hostname=localhost" \
    >/dev/null || fail "qemu-img over TLS reads back differently"
if out=$(nbdinfo "nbd+unix:///tls0?socket=$WORK/tls.sock" 2>&1); then fail "tls: require served a plain client: $out"; fi
grep -qi "tls0" <<< "$out" || fail "a refused plain client gets no clear error: $out"
$GW down tls0 > /dev/null || fail "down tls0"
# TLS-PSK: psktool's USERNAME:HEXKEY file; nbdcopy in, qemu-img reads back, a wrong key is refused
hexkey() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
echo "alice:$(hexkey)" > "$WORK/keys.psk"
echo "alice:$(hexkey)" > "$WORK/wrong.psk"
sed -i "s#tls-certificates: pki#tls-psk: keys.psk#" "$WORK/tls.yaml"
out=$($GW up "$WORK/tls.yaml" 2>&1) || fail "up tls.yaml with tls-psk: $out"
nbdinfo "nbds+unix://alice@/tls0?socket=$WORK/tls.sock&tls-psk-file=$WORK/keys.psk" | grep -q "with TLS" \
    || fail "nbdinfo over TLS-PSK"
nbdcopy "$WORK/tls.in" "nbds://alice@127.0.0.1:$TPORT/tls0?tls-psk-file=$WORK/keys.psk" || fail "nbdcopy over TLS-PSK (TCP)"
qemu-img compare --object "tls-creds-psk,id=tls0,dir=$WORK,username=alice,endpoint=client" --image-opts \
    "driver=file,filename=$WORK/tls.in" "driver=nbd,server.type=unix,server.path=$WORK/tls.sock,export=tls0,tls-creds=tls0" \
    >/dev/null || fail "qemu-img over TLS-PSK reads back differently"
if nbdinfo "nbds+unix://alice@/tls0?socket=$WORK/tls.sock&tls-psk-file=$WORK/wrong.psk" >/dev/null 2>&1; then
    fail "TLS-PSK served a client with the wrong key"
fi
# the alert reaches the client before the gateway writes its log line: wait for the line
for _ in $(seq 50); do
    grep -q "TLS-PSK handshake failed: the PSK of user alice does not match" "$WORK/run/tls0.log" && break
    sleep 0.2
done
grep -q "TLS-PSK handshake failed: the PSK of user alice does not match" "$WORK/run/tls0.log" \
    || fail "the log does not say why the wrong key was refused: $(tail -3 "$WORK/run/tls0.log")"
$GW down tls0 > /dev/null || fail "down tls0 (PSK)"
sed -i "s#tls-psk: keys.psk#tls-certificates: nowhere#" "$WORK/tls.yaml"
if out=$($GW validate "$WORK/tls.yaml" 2>&1); then fail "validate accepted a missing tls-certificates directory"; fi
grep -q "tls.yaml:.*nowhere does not exist; create it holding server-cert.pem and server-key.pem" <<< "$out" \
    || fail "validate's error for a missing tls-certificates directory: $out"
ok "NBD over TLS: nbdinfo, nbdcopy and qemu-img with an openssl CA and with TLS-PSK; require refuses plain clients and wrong keys; bad credentials fail validate"

# Under systemd: socket activation hands the gateway its listening sockets (fd 3...), and sd_notify
# messages (READY=1, STATUS=, WATCHDOG=1, STOPPING=1) arrive on $NOTIFY_SOCKET, here a python listener
SAPORT=$((PORT + 1))
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", "|") + "\n")
        out.flush()
' "$WORK/notify.sock" "$WORK/notify.log" &
NOTIFY_PID=$!
cat > "$WORK/sa.yaml" <<YAML
devices:
  - name: sa0
    size: 16MiB
    frontend: nbd
    nbd-listen: ["unix:$WORK/not-this.sock"]
    target:
      type: memory
YAML
for _ in $(seq 50); do [[ -S $WORK/notify.sock ]] && break; sleep 0.1; done
systemd-socket-activate -l "$WORK/sa.sock" -l "127.0.0.1:$SAPORT" -E UBLKGW_RUN_DIR -E UBLKGW_SHM_DIR \
    -E NOTIFY_SOCKET="$WORK/notify.sock" -E WATCHDOG_USEC=1000000 \
    $GW up --foreground "$WORK/sa.yaml" > "$WORK/sa.log" 2>&1 &
SA_PID=$!
for _ in $(seq 50); do [[ -S $WORK/sa.sock ]] && break; sleep 0.1; done
$GW list | grep -q '^sa0 ' && fail "the socket-activated gateway started before any client connected"
[[ $(nbdinfo --size "nbd+unix:///sa0?socket=$WORK/sa.sock") == 16777216 ]] || fail "nbdinfo over the passed unix socket: $(cat "$WORK/sa.log")"
head -c 16M /dev/urandom > "$WORK/sa.in"
qemu-img convert -n -f raw -O raw "$WORK/sa.in" "nbd://127.0.0.1:$SAPORT/sa0" || fail "qemu-img over the passed TCP socket"
qemu-img compare -f raw -F raw "$WORK/sa.in" "nbd+unix:///sa0?socket=$WORK/sa.sock" >/dev/null || fail "sa0 reads back differently"
[[ -e $WORK/not-this.sock ]] && fail "the gateway bound nbd-listen although systemd passed sockets"
grep -q "^READY=1|STATUS=1 device(s) serving from sa.yaml|MAINPID=$SA_PID$" "$WORK/notify.log" || fail "no READY=1: $(cat "$WORK/notify.log")"
for _ in $(seq 30); do grep -q '^WATCHDOG=1$' "$WORK/notify.log" && break; sleep 0.1; done
grep -q '^WATCHDOG=1$' "$WORK/notify.log" || fail "no watchdog ping: $(cat "$WORK/notify.log")"
kill -TERM "$SA_PID"
rc=0
wait "$SA_PID" || rc=$?
# 143 (128 + SIGTERM) is how the JVM exits after its shutdown hooks: the units' SuccessExitStatus
[[ $rc == 143 ]] || fail "the socket-activated gateway exited with $rc on SIGTERM: $(cat "$WORK/sa.log")"
grep -q '^STOPPING=1$' "$WORK/notify.log" || fail "no STOPPING=1: $(cat "$WORK/notify.log")"
kill "$NOTIFY_PID"
ok "socket activation (unix and TCP, nbdinfo and qemu-img) and sd_notify READY/STATUS/WATCHDOG/STOPPING"

# The shipped units, instantiated with this checkout's command: systemd-analyze verify finds nothing to say
UD=$WORK/units
mkdir -p "$UD"
for f in systemd/*; do
    b=$(basename "$f")
    sed "s#/usr/local/bin/ublk-gateway#$ROOT/$GW#" "$f" > "$UD/${b/@/@test}"
done
out=$(cd "$UD" && systemd-analyze verify --man=no ./* 2>&1) || fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify warns: $out"
ok "systemd-analyze verify on the shipped units"
echo "nbd e2e: all $pass passed"
