# Shared by the discard cases. A 64 MiB device gets 16 MiB of random data at 0; blkdiscard of
# 4..12 MiB must read back as zeros while 0..4 and 12..16 MiB keep their data, and the storage
# behind the device (FILE) must give the space back.

# discard_case DEV FILE: FILE is the backing file (file target) or the RAM file (memory target).
discard_case() {
    local dev=$1 file=$2 before after freed
    [[ $(cat "/sys/block/${dev#/dev/}/queue/discard_max_bytes") -gt 0 ]] || fail "$dev does not advertise discard"
    mk_random "$W/pat" 16
    write_direct "$W/pat" "$dev" 0
    # the expected device contents afterwards
    truncate -s 64M "$W/expect"
    dd if="$W/pat" of="$W/expect" conv=notrunc status=none
    dd if=/dev/zero of="$W/expect" bs=1M seek=4 count=8 conv=notrunc status=none
    sync
    before=$(allocated_kib "$file")
    ((before >= 16384)) || fail "$file has only $before KiB allocated after writing 16 MiB"
    blkdiscard -o $((4 * MiB)) -l $((8 * MiB)) "$dev" || fail "blkdiscard of 4..12 MiB on $dev failed"
    sync
    after=$(allocated_kib "$file")
    freed=$((before - after))
    log "$file: $before KiB allocated before the discard, $after KiB after"
    ((freed >= 8192 - 64)) || fail "discarding 8 MiB freed only $freed KiB of $file ($before -> $after KiB)"
    zeros_at "$dev" 4 8 || fail "4..12 MiB do not read back as zeros after blkdiscard"
    head -c $((4 * MiB)) "$W/pat" > "$W/pat-a"
    tail -c $((4 * MiB)) "$W/pat" > "$W/pat-b"
    same_as "$dev" 0 "$W/pat-a" || fail "0..4 MiB (before the discarded range) changed"
    same_as "$dev" 12 "$W/pat-b" || fail "12..16 MiB (after the discarded range) changed"
    cmp -s <(dd if="$dev" bs=1M iflag=direct status=none) "$W/expect" || fail "the device differs from the expected contents"
    # reading the discarded (or never written) space must not allocate it again
    local reread
    reread=$(allocated_kib "$file")
    log "$file: $reread KiB allocated after reading the whole device"
    ((reread <= after + 256)) || fail "reading the device allocated $((reread - after)) KiB of $file again ($after -> $reread KiB): reads of unwritten/discarded space consume storage"
}
