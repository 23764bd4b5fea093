# e2e-timeout: 900 (S3Proxy is a second JVM under TCG)
# The headline volume on a real device: chunked target on S3 (S3Proxy in the guest on 127.0.0.1),
# zstd then aes-gcm (passphrase), a cache smaller than the data. fio verify; ext4 written, synced and
# unmounted; the gateway killed with -9 (so only what FLUSH stored counts) and started again; the
# filesystem fscks clean, mounts and every file matches; nothing in the bucket is plaintext.
source "$E2E_TESTS/ext4.sh"
export UBLKGW_PLUGINS_DIR VOLPASS="e2e s3 passphrase" S3_KEY=test-access S3_SECRET=test-secret
UBLKGW_PLUGINS_DIR=$(readlink -f "$E2E_TESTS/../../target/bundled-plugins")
compgen -G "$UBLKGW_PLUGINS_DIR/s3-plugin-*" > /dev/null || fail "no s3 plugin in $UBLKGW_PLUGINS_DIR (build the project first)"
[[ -n ${E2E_S3PROXY_CACHE:-} ]] || fail "E2E_S3PROXY_CACHE is not set (tests/e2e/run.sh resolves S3Proxy on the host)"

s3=$FS/s3 port=9000
mkdir -p "$s3/vols"
# S3Proxy: its own JVM, with C1 only but not the gateway's AOT cache
out=$(JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1 XDG_CACHE_HOME=$E2E_S3PROXY_CACHE S3PROXY_START_TIMEOUT=300 \
    "$E2E_TESTS/../../scripts/s3proxy.sh" start "$s3" "$port") || fail "S3Proxy did not start: $out $(tail -5 "$s3.log" 2>/dev/null)"
s3pid=${out%% *}
at_exit "kill -9 $s3pid 2> /dev/null"
log "S3Proxy pid $s3pid at $out"

cat > s3.yaml <<Y
devices:
  - name: s3v0
    size: 256MiB
    target:
      type: chunked
      chunk-size: 1MiB
      cache: 48MiB
      codecs:
        - {type: zstd, level: 1}
        - {type: aes-gcm, passphrase: "\${env:VOLPASS}", kdf-iterations: 10000}
      store:
        type: s3
        bucket: vols
        prefix: s3v0/
        endpoint: http://127.0.0.1:$port
        region: us-east-1
        access-key-id: \${env:S3_KEY}
        secret-access-key: \${env:S3_SECRET}
Y
up_fg s3v0 s3.yaml
check_geometry "$DEV" $((256 * MiB))
fio_verify_jobs "$DEV" s3
mnt=$W/mnt
ext4_mkfs_fill_marked "$DEV" "$mnt"
umount "$mnt" || fail "umount $DEV failed"
sync "$DEV" # FLUSH: everything must be in S3 now
kill -9 "$GW_PID"
wait "$GW_PID" 2> /dev/null || true
log "gateway killed with -9 after the flush"
nobj=$(find "$s3/vols/s3v0/chunks" -type f | wc -l)
((nobj > 20 && nobj <= 256)) || fail "expected 20..256 chunk objects in the bucket, found $nobj"
grep -rqF UBLKGW-PLAINTEXT-MARKER "$s3/vols" && fail "plaintext found in a stored object"
grep -rqF "$VOLPASS" "$s3/vols" && fail "the passphrase is in the bucket"
stored=$(find "$s3/vols/s3v0/chunks" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
log "$nobj chunk objects, $((stored / MiB)) MiB stored"

# the kernel still holds the dead gateway's device (no recovery): remove it, then serve the volume again
"$GW" down s3v0 > /dev/null 2>&1 || true
wait_until 30 "the dead gateway's device to go" bash -c "! test -b $DEV"
up_fg s3v0 s3.yaml
e2fsck -fn "$DEV" > "$W/fsck.out" 2>&1 || fail "e2fsck -fn after kill -9 and restart: exit $?: $(tail -2 "$W/fsck.out" | tr '\n' ' ')"
mount "$DEV" "$mnt" || fail "mount $DEV after restart failed"
ext4_verify "$mnt" "after kill -9 and restart"
umount "$mnt"
stop_gw s3v0 "$GW_PID" "$DEV_ID"
