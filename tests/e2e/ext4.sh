# Shared by the ext4 cases: mkfs, files with checksums, fsck, remount and verify.

# ext4_fill MNT: a small tree of files carved from random data, and their checksums in $W/sums.
ext4_fill() {
    local mnt=$1 i size off=0
    mk_random "$W/src" 24
    mkdir -p "$mnt/a/b/c" "$mnt/d"
    for i in $(seq 1 40); do
        size=$(((RANDOM % 512 + 1) * 1024 + RANDOM % 4096))
        dd if="$W/src" of="$mnt/$(((i % 3 == 0)) && echo a/b/c || echo d)/f$i" bs=$size count=1 \
            skip=$off iflag=skip_bytes status=none
        off=$((off + size))
    done
    cp "$W/src" "$mnt/a/big"
    ln -s ../a/big "$mnt/d/link"
    (cd "$mnt" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$W/sums"
    (($(wc -l < "$W/sums") == 41)) || fail "expected 41 files on the filesystem, found $(wc -l < "$W/sums")"
}

# ext4_mkfs_fill_marked DEV MNT: mkfs.ext4 on DEV, mounted on MNT, filled by ext4_fill, plus a text
# file of marker lines that must never show up in a store in the clear; its checksum joins $W/sums.
# Leaves it mounted.
ext4_mkfs_fill_marked() {
    local dev=$1 mnt=$2
    mkdir -p "$mnt"
    mkfs.ext4 -q -F "$dev" > "$W/mkfs.out" 2>&1 || fail "mkfs.ext4 $dev failed: $(tail -1 "$W/mkfs.out")"
    mount "$dev" "$mnt" || fail "mount $dev failed"
    ext4_fill "$mnt"
    printf 'UBLKGW-PLAINTEXT-MARKER %s\n' $(seq 1 40000) > "$mnt/marker"
    (cd "$mnt" && sha256sum ./marker) >> "$W/sums"
}

ext4_verify() {
    local mnt=$1 what=$2
    (cd "$mnt" && sha256sum --quiet -c "$W/sums") > "$W/verify.out" 2>&1 \
        || fail "$what: checksums differ: $(head -3 "$W/verify.out" | tr '\n' ' ')"
    [[ $(readlink "$mnt/d/link") == ../a/big ]] || fail "$what: symlink d/link lost"
}

# ext4_roundtrip DEV: mkfs, fill, unmount, fsck, mount again and verify; leaves it unmounted.
ext4_roundtrip() {
    local dev=$1 mnt=$W/mnt
    mkdir -p "$mnt"
    mkfs.ext4 -q -F "$dev" > "$W/mkfs.out" 2>&1 || fail "mkfs.ext4 $dev failed: $(tail -1 "$W/mkfs.out")"
    mount "$dev" "$mnt" || fail "mount $dev failed"
    ext4_fill "$mnt"
    umount "$mnt" || fail "umount $dev failed"
    e2fsck -fn "$dev" > "$W/fsck.out" 2>&1 || fail "e2fsck -fn $dev: exit $?: $(grep -v '^Pass\|^e2fsck' "$W/fsck.out" | head -2 | tr '\n' ' ')"
    log "e2fsck clean: $(tail -1 "$W/fsck.out")"
    mount "$dev" "$mnt" || fail "mount $dev (second time) failed"
    ext4_verify "$mnt" "after remount"
    umount "$mnt" || fail "umount $dev failed"
}
