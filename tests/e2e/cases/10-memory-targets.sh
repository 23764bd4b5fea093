# null and memory targets: one foreground gateway serves a device per case (several devices from one
# YAML file), each case works on its own device, and the last case stops the gateway.
source "$E2E_TESTS/ext4.sh"
source "$E2E_TESTS/discard.sh"

{
    echo "devices:"
    yaml_device null0 1GiB null depth=64
    yaml_device mem0 256MiB memory
    yaml_device m4 512MiB memory poll-us=200   # its queue thread spins for requests before sleeping
    yaml_device dm 64MiB memory
    yaml_device rzm 64MiB memory
} > ram.yaml
sed 's/^/    yaml: /' ram.yaml
up_fg_devices ram.yaml null0 mem0 m4 dm rzm

# null target: it stores nothing, so only an I/O smoke test and fio without verification.
fio_null() {
    local dev=${DEV_OF[null0]} n
    check_geometry "$dev" $((1 << 30))
    mk_random pat 8
    dd if=pat of="$dev" bs=1M oflag=direct conv=fsync status=none || fail "dd write to $dev failed"
    n=$(dd if="$dev" bs=1M count=8 iflag=direct status=none | wc -c)
    ((n == 8 * MiB)) || fail "read $n bytes from $dev, expected $((8 * MiB))"
    # no data moves at all (USER_COPY, never copied): a read leaves dd's fresh buffer as it was, zeros,
    # instead of showing what the write above left in a server buffer
    grep -q "device null0: data path: none (the target needs no data)" "$E2E_WORK/null0.fg.log" || fail "null0 is served with a data path"
    zeros_at "$dev" 0 8 || fail "reads from null0 returned data; the null target should move none"
    ! grep -q "device \(mem0\|m4\|dm\): data path: none" "$E2E_WORK/null0.fg.log" \
        || fail "a memory device is served without a data path"
    # the last block reads; past the end reads nothing (and does not hang)
    n=$(dd if="$dev" bs=4k skip=$(((1 << 30) / 4096 - 1)) count=1 iflag=direct status=none | wc -c)
    ((n == 4096)) || fail "reading the last block of $dev returned $n bytes"
    n=$(dd if="$dev" bs=4k skip=$(((1 << 30) / 4096)) count=1 iflag=direct status=none | wc -c)
    ((n == 0)) || fail "reading past the end of $dev returned $n bytes"
    run_fio null-randrw --filename="$dev" "${FIO_DEV[@]}" --rw=randrw --bs=4k --iodepth=32 \
        --time_based --runtime=5 --size=1G
    ((FIO_READ_KB > 0 && FIO_WRITE_KB > 0)) || fail "fio moved no data ($FIO_READ_KB KiB read, $FIO_WRITE_KB KiB written)"
    run_fio null-seq1m --filename="$dev" "${FIO_DEV[@]}" --rw=write --bs=1M --iodepth=4 --size=256M
    ((FIO_WRITE_KB == 262144)) || fail "fio null-seq1m wrote $FIO_WRITE_KB KiB, expected 262144"
}
subcase fio-null fio_null

# memory target: fio writes and verifies (4k random, 128k sequential); its RAM file stays sparse.
fio_memory() {
    local dev=${DEV_OF[mem0]} used
    check_geometry "$dev" $((256 * MiB))
    [[ -f $SHM_DIR/mem0.mem ]] || fail "memory target file $SHM_DIR/mem0.mem does not exist while serving"
    fio_verify_jobs "$dev" mem
    # 0..32 MiB (4k random) and 128..192 MiB (128k sequential) were written; nothing else was
    used=$(allocated_kib "$SHM_DIR/mem0.mem")
    ((used >= 32768 + 65536 && used < 98304 + 4096)) || fail "memory file has $used KiB allocated, expected ~98304 (only written pages)"
}
subcase fio-memory fio_memory

# memory target: ext4 round trip (mkfs, files, umount, e2fsck -fn, mount, checksums).
ext4_memory() {
    ext4_roundtrip "${DEV_OF[m4]}"
}
subcase ext4-memory ext4_memory

# memory target: blkdiscard reads back as zeros and returns the RAM (holes in its tmpfs file).
discard_memory() {
    discard_case "${DEV_OF[dm]}" "$SHM_DIR/dm.mem"
}
subcase discard-memory discard_memory

# online resize of a memory device: grow (the new end is writable, the old data stays), a shrink
# refused without --shrink and done with it (the RAM file is cut). On Linux 6.12 (no UPDATE_SIZE): one line.
resize_memory() {
    local dev=${DEV_OF[rzm]}
    mk_random head 4
    write_direct head "$dev" 0
    if [[ $(uname -r) == 6.* ]]; then
        gw resize rzm 128MiB
        expect_one_error_line "resize on $(uname -r)" "^ublk-gateway: rzm: this kernel's ublk driver lacks UPDATE_SIZE"
        check_geometry "$dev" $((64 * MiB))
        return 0
    fi
    gw_ok resize rzm 128MiB
    check_geometry "$dev" $((128 * MiB))
    [[ $(stat -c %s "$SHM_DIR/rzm.mem") == $((128 * MiB)) ]] || fail "the RAM file did not grow"
    mk_random tail 4
    write_direct tail "$dev" 124
    same_as "$dev" 0 head || fail "the first 4 MiB changed when the device grew"
    same_as "$dev" 124 tail || fail "the new end does not read back what was written"
    gw resize rzm 16MiB
    expect_one_error_line "shrink without --shrink" "pass --shrink"
    gw_ok resize rzm 16MiB --shrink
    check_geometry "$dev" $((16 * MiB))
    [[ $(stat -c %s "$SHM_DIR/rzm.mem") == $((16 * MiB)) ]] || fail "the RAM file was not cut to 16 MiB"
    same_as "$dev" 0 head || fail "the first 4 MiB changed when the device shrank"
}
subcase resize-memory resize_memory

# SIGTERM stops the gateway with all four devices; a clean stop deletes the RAM files.
memory_stop() {
    stop_devices "$GW_PID" 60 null0 mem0 m4 dm rzm
    local n
    for n in mem0 m4 dm rzm; do
        [[ ! -e $SHM_DIR/$n.mem ]] || fail "$SHM_DIR/$n.mem still exists after a clean stop"
    done
}
subcase --always memory-stop memory_stop
