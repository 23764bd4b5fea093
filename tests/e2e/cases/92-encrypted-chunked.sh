# e2e-timeout: 1200 (four gateways and nine volume commands, each a JVM start: slow under TCG; 754 s in a CI run)
# Encryption plugin (bundled in target/bundled-plugins by the build) on real devices:
# 1. a chunked volume with the aes-gcm codec on the directory store: fio verify, then ext4 written,
#    flushed and unmounted; the gateway restarts; the filesystem mounts, fscks clean and every file
#    matches; the objects hold no plaintext; the wrong key is refused with one line.
#    A snapshot of the mounted, served volume (the gateway takes it after a FLUSH barrier) holds a
#    filesystem that fscks clean after its journal replay, with a file synced before it; gc and
#    verify after writes made after the snapshot. The snapshot is taken while fio writes to the
#    filesystem, cloned (volume clone) and the clone served as a second device beside the volume: its
#    filesystem mounts after its journal replay and holds exactly the files checksummed before the
#    snapshot; a file written to the clone stays in the clone; the cloned snapshot cannot be deleted.
# 2. dm-crypt compatibility of the aes-xts stage: cryptsetup (plain, aes-xts-plain64, 512-bit key
#    file) reads what the gateway wrote to its backing file, and the gateway reads what dm-crypt wrote.
source "$E2E_TESTS/ext4.sh"
export UBLKGW_PLUGINS_DIR
UBLKGW_PLUGINS_DIR=$(readlink -f "$E2E_TESTS/../../target/bundled-plugins")
compgen -G "$UBLKGW_PLUGINS_DIR/encryption-plugin-*.jar" > /dev/null \
    || fail "no encryption plugin in $UBLKGW_PLUGINS_DIR (build the project first)"

# ---- 1. encrypted chunked volume
export VOLKEY
VOLKEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
store=$FS/vols/enc0   # a clone's store is beside its parent's: $FS/vols/enc1
cat > enc.yaml <<Y
devices:
  - name: enc0
    size: 256MiB
    target:
      type: chunked
      chunk-size: 1MiB
      cache: 64MiB
      codecs: [{type: aes-gcm, key: "\${env:VOLKEY}"}]
      store: {type: directory, path: $store}
Y
gw_ok validate enc.yaml
grep -q "$VOLKEY" "$W/gw.out" "$W/gw.err" && fail "validate printed the key"
up_fg enc0 enc.yaml
check_geometry "$DEV" $((256 * MiB))
fio_verify_jobs "$DEV" enc
mnt=$W/mnt
ext4_mkfs_fill_marked "$DEV" "$mnt"
sync -f "$mnt/marker"
umount "$mnt" || fail "umount $DEV failed"
stop_gw enc0 "$GW_PID" "$DEV_ID"
[[ -f $store/volume.meta && -f $store/map ]] || fail "the store lacks volume.meta or map: $(ls "$store")"
grep -q "$VOLKEY" "$store/volume.meta" && fail "volume.meta holds the key"
nobj=$(find "$store/chunks" -type f | wc -l)
((nobj > 20 && nobj <= 256)) || fail "expected 20..256 chunk objects, found $nobj"
# no plaintext: a marker written into a file on the filesystem appears in no object
grep -rqF UBLKGW-PLAINTEXT-MARKER "$store" && fail "plaintext found in a stored object"

up_fg enc0 enc.yaml
e2fsck -fn "$DEV" > "$W/fsck.out" 2>&1 || fail "e2fsck -fn after restart: exit $?: $(tail -2 "$W/fsck.out" | tr '\n' ' ')"
mount "$DEV" "$mnt" || fail "mount $DEV after restart failed"
ext4_verify "$mnt" "after gateway restart"
echo "in the snapshot" > "$mnt/snap-marker"
sync -f "$mnt/snap-marker"
fio --name=busy --filename="$mnt/busy" --size=16M --rw=randwrite --bs=4k --direct=1 --time_based --runtime=40 \
    > "$W/fio-busy.out" 2>&1 &
fiopid=$!
gw_ok volume snapshot enc0 s1 --config enc.yaml   # while fio writes
grep -q "took snapshot s1 of volume enc0" <<< "$GW_OUT" || fail "volume snapshot said: $GW_OUT"
kill "$fiopid" 2> /dev/null || true
wait "$fiopid" 2> /dev/null || true
echo "after the snapshot" > "$mnt/snap-marker"
dd if=/dev/urandom of="$mnt/after" bs=1M count=8 status=none
sync -f "$mnt/after"
gw_ok volume export enc0 "$FS/s1.img" --snapshot s1 --config enc.yaml   # while served
gw_ok volume gc enc0 --config enc.yaml

# the snapshot cloned and served as a second device (a gateway of its own) beside the served volume
sed -e 's/name: enc0/name: enc1/' -e "s|path: $store|path: $FS/vols/enc1|" enc.yaml > clone.yaml
gw_ok volume clone enc0@s1 enc1 --config clone.yaml
grep -q "^cloned snapshot s1 of volume enc0 as volume enc1 .*no chunk copied" <<< "$GW_OUT" || fail "clone said: $GW_OUT"
[[ -z $(find "$FS/vols/enc1" -path '*/chunks/*' -type f) ]] || fail "the clone copied chunk objects"
enc0=("$DEV" "$GW_PID" "$DEV_ID")
up_fg enc1 clone.yaml
mnt2=$W/mnt2
mkdir -p "$mnt2"
rc=0
e2fsck -fy "$DEV" > "$W/fsck-c.out" 2>&1 || rc=$?   # replays the journal: writes to the clone
((rc <= 1)) || fail "e2fsck of the clone: exit $rc: $(tail -2 "$W/fsck-c.out" | tr '\n' ' ')"
mount "$DEV" "$mnt2" || fail "mount of the clone failed"
ext4_verify "$mnt2" "the clone"
[[ $(cat "$mnt2/snap-marker") == "in the snapshot" ]] || fail "the clone lacks a file synced before the snapshot"
[[ -e $mnt2/after ]] && fail "the clone holds a file written after the snapshot"
echo "only in the clone" > "$mnt2/clone-only"
sync -f "$mnt2/clone-only"
umount "$mnt2"
stop_gw enc1 "$GW_PID" "$DEV_ID"
[[ -e $mnt/clone-only ]] && fail "a write to the clone shows in its parent"
[[ -n $(find "$FS/vols/enc1" -path '*/chunks/*' -type f) ]] || fail "the clone's writes stored no object of its own"
DEV=${enc0[0]} GW_PID=${enc0[1]} DEV_ID=${enc0[2]}
log "clone of the snapshot taken under fio: served as a second device, its filesystem holds the snapshot's files"

umount "$mnt"
stop_gw enc0 "$GW_PID" "$DEV_ID"
gw_ok volume verify enc0 --config enc.yaml
rc=0
e2fsck -fy "$FS/s1.img" > "$W/fsck-s1.out" 2>&1 || rc=$?
((rc <= 1)) || fail "e2fsck of the snapshot: exit $rc: $(tail -2 "$W/fsck-s1.out" | tr '\n' ' ')"
e2fsck -fn "$FS/s1.img" > "$W/fsck-s1b.out" 2>&1 || fail "the snapshot's filesystem is not clean after its journal replay"
mount -o loop,ro "$FS/s1.img" "$mnt" || fail "mount of the snapshot image failed"
[[ $(cat "$mnt/snap-marker") == "in the snapshot" ]] || fail "the snapshot lacks a file synced before it: $(cat "$mnt/snap-marker")"
[[ -e $mnt/after ]] && fail "the snapshot holds a file written after it"
umount "$mnt"
rm -f "$FS/s1.img"
gw volume snapshot-delete enc0 s1 --config enc.yaml
expect_one_error_line "snapshot-delete of a cloned snapshot" "snapshot s1 cannot be deleted: clones read from it: enc1 \\(of s1\\); flatten"
log "snapshot of the served volume: clean filesystem with the synced file; gc, verify; snapshot-delete refused for the clone"

VOLKEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
gw up enc.yaml --foreground
expect_one_error_line "up with the wrong key" "key .*does not match"
grep -q "$VOLKEY" <<< "$GW_ERR$GW_OUT" && fail "the error shows the key"

# ---- 2. aes-xts and dm-crypt
command -v cryptsetup > /dev/null || fail "cryptsetup is not installed (tests/vm/install-deps.sh)"
for m in dm_crypt xts aesni_intel aes_generic; do modprobe "$m" 2> /dev/null || true; done
head -c 64 /dev/urandom > "$W/xts.key"
img=$FS/xts.img
cat > xts.yaml <<Y
devices:
  - name: xts0
    size: 64MiB
    stages:
      - type: aes-xts
        key-file: $W/xts.key
    target:
      type: file
      path: $img
      create: true
Y
up_fg xts0 xts.yaml
mk_random pat1 8
write_direct pat1 "$DEV" 4
same_as "$DEV" 4 pat1 || fail "aes-xts: data read back through the stage differs"
stop_gw xts0 "$GW_PID" "$DEV_ID"
cmp -s <(dd if="$img" bs=1M skip=4 count=8 status=none) pat1 && fail "aes-xts: the backing file holds plaintext"

cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file "$W/xts.key" "$img" xtscmp \
    || fail "cryptsetup open of the backing file failed"
at_exit "cryptsetup close xtscmp 2> /dev/null"
same_as /dev/mapper/xtscmp 4 pat1 || fail "dm-crypt does not read what the gateway wrote"
mk_random pat2 8
write_direct pat2 /dev/mapper/xtscmp 40
cryptsetup close xtscmp || fail "cryptsetup close failed"
log "dm-crypt reads the gateway's data; now the reverse"

up_fg xts0 xts.yaml
same_as "$DEV" 40 pat2 || fail "the gateway does not read what dm-crypt wrote"
same_as "$DEV" 4 pat1 || fail "aes-xts: the first pattern changed"
stop_gw xts0 "$GW_PID" "$DEV_ID"
