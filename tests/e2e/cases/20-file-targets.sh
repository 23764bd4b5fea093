# file targets: one foreground gateway serves a device per case, with backing files on the ext4 at
# $FS (loop device), except flush-fua which has its own small ext4. Then SIGTERM stops the gateway
# while fio keeps one device busy, and the backing files must hold what the cases wrote.
source "$E2E_TESTS/ext4.sh"
source "$E2E_TESTS/discard.sh"

# flush-fua's filesystem: its loop image is what the check reads
fuafs=$W/fua-fs.img
truncate -s 96M "$fuafs"
mkfs.ext4 -q -F -E nodiscard "$fuafs"
mkdir -p "$W/fuafs"
mount -o loop "$fuafs" "$W/fuafs"

truncate -s 256M "$FS/file-direct.img"
{
    echo "devices:"
    yaml_device fb0 256MiB file path="$FS/file-buffered.img" direct=false create=true
    yaml_device fd0 256MiB file path="$FS/file-direct.img" direct=true
    yaml_device f4 512MiB file path="$FS/ext4.img" direct=true create=true
    yaml_device df 64MiB file path="$FS/discard.img" create=true
    yaml_device q2 256MiB file path="$FS/twoq.img" direct=true create=true queues=2 depth=64
    yaml_device fua0 32MiB file path="$W/fuafs/fua.img" direct=false sync=fsync create=true
    yaml_device st0 256MiB file path="$FS/sigterm.img" create=true depth=64
    yaml_device cp0 64MiB file path="$FS/copy.img" direct=true create=true zero-copy=false
    yaml_device zs0 64MiB file path="$FS/zc-stats.img" direct=true create=true
    printf '    stages:\n      - type: stats\n'
    yaml_device rz 96MiB file path="$FS/resize.img" create=true
    yaml_device bz0 64MiB file path="$FS/batch-zc.img" direct=true create=true batch-io=true
    yaml_device bc0 64MiB file path="$FS/batch-copy.img" direct=true create=true batch-io=true zero-copy=false
    yaml_device br0 64MiB file path="$FS/batch-rec.img" direct=true create=true batch-io=true recovery=true
} > files.yaml
sed 's/^/    yaml: /' files.yaml
up_fg_devices files.yaml fb0 fd0 f4 df q2 fua0 st0 cp0 zs0 rz bz0 bc0 br0

# direct: false (page cache of the backing filesystem): fio verify; create: true sized the file
fio_file_buffered() {
    local img=$FS/file-buffered.img
    check_geometry "${DEV_OF[fb0]}" $((256 * MiB))
    [[ $(stat -c %s "$img") == $((256 * MiB)) ]] || fail "create: true made $img $(stat -c %s "$img") bytes, expected $((256 * MiB))"
    fio_verify_jobs "${DEV_OF[fb0]}" fb
}
subcase fio-file-buffered fio_file_buffered

# direct: true (O_DIRECT on the backing file, which existed): fio verify
fio_file_direct() {
    check_geometry "${DEV_OF[fd0]}" $((256 * MiB))
    fio_verify_jobs "${DEV_OF[fd0]}" fd
}
subcase fio-file-direct fio_file_direct

# ext4 round trip (mkfs, files, umount, e2fsck -fn, mount, checksums)
ext4_file() {
    ext4_roundtrip "${DEV_OF[f4]}"
}
subcase ext4-file ext4_file

# online resize: ext4 with files, `resize` to twice the size (the backing file grows), resize2fs while
# mounted, more files in the new space, then e2fsck -fn clean and every file intact. A smaller size
# without --shrink is refused in one line. Linux 6.12 has no UPDATE_SIZE: resize is refused in one line
# and the device keeps its size.
ext4_resize_file() {
    local dev=${DEV_OF[rz]} mnt=$W/mnt big=$((192 * MiB)) before after
    check_geometry "$dev" $((96 * MiB))
    if [[ $(uname -r) == 6.* ]]; then
        gw resize rz 192MiB
        expect_one_error_line "resize on $(uname -r)" "^ublk-gateway: rz: this kernel's ublk driver lacks UPDATE_SIZE .*Linux [0-9.]+ or later"
        check_geometry "$dev" $((96 * MiB))
        [[ $(state_field rz sizeBytes) == $((96 * MiB)) ]] || fail "a refused resize changed the state file's size"
        return 0
    fi
    mkdir -p "$mnt"
    mkfs.ext4 -q -F "$dev" > "$W/mkfs.out" 2>&1 || fail "mkfs.ext4 $dev failed: $(tail -1 "$W/mkfs.out")"
    mount "$dev" "$mnt" || fail "mount $dev failed"
    at_exit "umount $mnt 2> /dev/null || true"
    ext4_fill "$mnt"
    gw resize rz 64MiB
    expect_one_error_line "shrink without --shrink" "shrinking rz .* pass --shrink"
    gw_ok resize rz 192MiB
    grep -q "^rz: resized from 96 MiB to 192 MiB" <<< "$GW_OUT" || fail "resize printed: $GW_OUT"
    check_geometry "$dev" "$big"
    [[ $(stat -c %s "$FS/resize.img") == "$big" ]] || fail "the backing file is $(stat -c %s "$FS/resize.img") bytes, expected $big"
    [[ $(state_field rz sizeBytes) == "$big" ]] || fail "state file says size $(state_field rz sizeBytes), expected $big"
    gw_ok list --json
    grep -q "\"size_bytes\" : $big" <<< "$GW_OUT" || fail "list --json does not show size $big"
    before=$(df -k --output=size "$mnt" | tail -1)
    resize2fs "$dev" > "$W/resize2fs.out" 2>&1 || fail "resize2fs $dev: $(tail -1 "$W/resize2fs.out")"
    after=$(df -k --output=size "$mnt" | tail -1)
    ((after > before * 3 / 2)) || fail "the mounted ext4 has $after KiB after resize2fs, $before KiB before"
    mk_random "$W/more" 64
    cp "$W/more" "$mnt/more" && sync || fail "writing 64 MiB into the grown filesystem failed"
    (cd "$mnt" && sha256sum ./more) >> "$W/sums"
    umount "$mnt" || fail "umount $dev failed"
    e2fsck -fn "$dev" > "$W/fsck.out" 2>&1 || fail "e2fsck -fn $dev: exit $?: $(grep -v '^Pass\|^e2fsck' "$W/fsck.out" | head -2 | tr '\n' ' ')"
    mount "$dev" "$mnt" || fail "mount $dev (second time) failed"
    ext4_verify "$mnt" "after resize"
    umount "$mnt" || fail "umount $dev failed"
}
subcase ext4-resize-file ext4_resize_file

# direct: false: blkdiscard reads back as zeros and punches holes into the backing file
discard_file() {
    discard_case "${DEV_OF[df]}" "$FS/discard.img"
}
subcase discard-file discard_file

# queues: 2 (direct: true): two fio jobs pinned to different CPUs do verified random read/write on
# separate regions; blk-mq maps each CPU to its own hardware queue, so both queue threads of the
# gateway must have worked (their CPU time, from /proc, grows).
two_queues() {
    local dev=${DEV_OF[q2]} nq t0 t1 t0b t1b
    nq=$(ls -d /sys/block/${dev#/dev/}/mq/* | wc -l)
    ((nq == 2)) || fail "$dev has $nq hardware queues, expected 2"
    qthread_ticks() {
        # thread by thread: other threads of the gateway may come and go while we look
        local d
        for d in /proc/"$GW_PID"/task/*; do
            if [[ $(cat "$d/comm" 2> /dev/null) == "ublk-q2-q$1" ]]; then
                awk '{print $14 + $15}' "$d/stat" 2> /dev/null || echo -1
                return 0
            fi
        done
        echo -1
    }
    t0=$(qthread_ticks 0) t1=$(qthread_ticks 1)
    ((t0 >= 0 && t1 >= 0)) || fail "gateway pid $GW_PID has no threads named ublk-q2-q0 and ublk-q2-q1"
    local pin=()
    (($(nproc) >= 2)) && pin=(--cpus_allowed=0,1 --cpus_allowed_policy=split)
    run_fio q2-randrw --filename="$dev" "${FIO_DEV[@]}" --rw=randrw --bs=4k --iodepth=16 --numjobs=2 \
        --size=32M --offset_increment=128M --verify=crc32c --do_verify=1 "${pin[@]}"
    ((FIO_WRITE_KB > 0 && FIO_READ_KB > 0)) || fail "fio moved no data"
    t0b=$(qthread_ticks 0) t1b=$(qthread_ticks 1)
    log "queue thread CPU ticks: q0 $t0 -> $t0b, q1 $t1 -> $t1b"
    # each queue served thousands of requests: far more than the few ticks of an idle thread
    ((t0b - t0 >= 20 && t1b - t1 >= 20)) || fail "not both queue threads worked: q0 +$((t0b - t0)), q1 +$((t1b - t1)) CPU ticks"
}
subcase two-queues two_queues

# FUA and FLUSH reach stable storage (direct: false). Background writeback is switched off, so data
# is in the loop image of fua0's filesystem only if the gateway synced it: a write with O_DSYNC
# (sent as FUA) must be there at once, and after an fsync (FLUSH) everything completed before too.
flush_fua() {
    local dev=${DEV_OF[fua0]} img=$E2E_WORK/fuafs/fua.img k m n tag lines=32768
    local q=/sys/block/${dev#/dev/}/queue
    [[ $(cat $q/write_cache) == "write back" ]] || fail "$dev: write_cache is '$(cat $q/write_cache)', expected 'write back' (volatile cache)"
    [[ $(cat $q/fua) == 1 ]] || fail "$dev: fua is $(cat $q/fua), expected 1"
    for k in dirty_writeback_centisecs dirty_expire_centisecs dirty_background_bytes dirty_bytes dirty_background_ratio dirty_ratio; do
        at_exit "echo $(cat /proc/sys/vm/$k) > /proc/sys/vm/$k"
    done
    sync
    echo 0 > /proc/sys/vm/dirty_writeback_centisecs
    echo 360000 > /proc/sys/vm/dirty_expire_centisecs
    echo $((1 << 30)) > /proc/sys/vm/dirty_background_bytes
    echo $((2 << 30)) > /proc/sys/vm/dirty_bytes

    # 1 MiB of 32-byte lines "<TAG>-<nonce>-<n>": a 4 KiB block holds 128 whole lines
    tag=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
    for m in NOSYNC FUAWRT FLUSHW; do
        seq -f "$m-$tag-%09g" 0 $((lines - 1)) | awk '{printf "%-31s\n", $0}' > "$W/$m"
    done
    in_image() { grep -a -c -- "$1-$tag-" "$fuafs" || true; }

    # a plain O_DIRECT write: completed, not yet durable (control: shows the check can tell)
    dd if="$W/NOSYNC" of="$dev" bs=64k seek=64 oflag=direct status=none # at 4 MiB
    n=$(in_image NOSYNC)
    log "plain write: $n of $lines lines in the loop image before any flush"
    ((n < lines)) || log "note: an unsynced write reached the image already; the checks below cannot tell a missing sync"
    # FUA: O_DSYNC on the block device sends REQ_FUA writes
    dd if="$W/FUAWRT" of="$dev" bs=64k seek=128 oflag=direct,dsync status=none # at 8 MiB
    n=$(in_image FUAWRT)
    ((n == lines)) || fail "after O_DSYNC (FUA) writes only $n of $lines lines are in the loop image: the FUA writes were not made durable"
    # FLUSH: fsync of the block device; everything completed before it must be durable afterwards
    dd if="$W/FLUSHW" of="$dev" bs=64k seek=192 oflag=direct conv=fsync status=none # at 12 MiB
    n=$(in_image FLUSHW)
    ((n == lines)) || fail "after fsync (FLUSH) only $n of $lines lines of that write are in the loop image"
    n=$(in_image NOSYNC)
    ((n == lines)) || fail "after fsync (FLUSH) only $n of $lines lines of the earlier plain write are in the loop image"
    # and the backing file itself, read around the page cache
    drop_caches
    for m in NOSYNC:4 FUAWRT:8 FLUSHW:12; do
        cmp -s <(dd if="$img" bs=1M skip=${m#*:} count=1 iflag=direct status=none) "$W/${m%:*}" \
            || fail "backing file at ${m#*:} MiB does not hold the ${m%:*} data (O_DIRECT read)"
    done
}
subcase flush-fua flush_fua

# The data path each device runs, as `list --json` reads it from the kernel: zero copy (AUTO_BUF_REG)
# for a file target on Linux 7.x, also behind a stage that never touches data (stats), copying with
# zero-copy: false and on 6.12 (no AUTO_BUF_REG); features names the same. fio randrw verify on each.
data_path() {
    local want=copy n got
    "$GW" features > "$W/features.out" 2>&1 || fail "features failed: $(tail -2 "$W/features.out")"
    if grep -Eq '^ +AUTO_BUF_REG +yes' "$W/features.out"; then want=zero-copy; fi
    log "kernel $(uname -r): AUTO_BUF_REG $( [[ $want == zero-copy ]] && echo yes || echo no); $(grep '^data path' "$W/features.out")"
    grep -q "^data path of a file target.*: $want" "$W/features.out" || fail "features does not name the $want data path: $(grep '^data path' "$W/features.out")"
    [[ $(uname -r | cut -d. -f1) -lt 7 || $want == zero-copy ]] || fail "Linux $(uname -r) lacks AUTO_BUF_REG"
    "$GW" list --json > "$W/list.json" 2>"$W/list.err" || fail "list --json failed: $(tail -2 "$W/list.err")"
    for n in fd0:$want zs0:$want cp0:copy q2:$want; do
        # one field a line (pretty-printed): from the device's name to its data_path
        got=$(awk -v d="\"${n%%:*}\"" '$1 == "\"device\"" { on = ($3 == d || $3 == d ",") }
            on && $1 == "\"data_path\"" { gsub(/[",]/, "", $3); print $3; exit }' "$W/list.json")
        [[ $got == "${n#*:}" ]] || fail "${n%%:*}: list --json says data_path $got, expected ${n#*:}"
    done
    grep -q "fd0: .*data path: ${want}" "$E2E_WORK/fb0.fg.log" || fail "the gateway log does not name fd0's data path ($want)"
    for n in fd0 zs0 cp0; do
        run_fio "$n-randrw" --filename="${DEV_OF[$n]}" "${FIO_DEV[@]}" --rw=randrw --bs=4k --iodepth=32 \
            --size=16M --offset=48M --verify=crc32c --do_verify=1
        ((FIO_WRITE_KB > 0 && FIO_READ_KB > 0)) || fail "fio $n-randrw moved no data"
    done
}
subcase data-path data_path

# batch-io: true where the kernel has BATCH_IO (features says so; Linux 7.x): the log and `list --json`
# say the device takes its requests and gives its answers in batches; without it (6.12) the kernel
# drops the flag and the same device runs one command per request. Either way fio verifies 4k QD32
# random and 1 MiB writes, on a zero-copy (7.x) and a copying device. With recovery: true (br0) the
# gateway does not ask for BATCH_IO (the kernel's hand-over of such a device fails requests) and says so.
batch_io() {
    local want=per-request n got
    "$GW" features > "$W/features.out" 2>&1 || fail "features failed: $(tail -2 "$W/features.out")"
    if grep -Eq '^ +BATCH_IO +yes' "$W/features.out"; then want=batch; fi
    [[ $(uname -r | cut -d. -f1) -lt 7 || $want == batch ]] || fail "Linux $(uname -r) lacks BATCH_IO"
    "$GW" list --json > "$W/list.json" 2>"$W/list.err" || fail "list --json failed: $(tail -2 "$W/list.err")"
    for n in bz0 bc0 fd0 br0; do
        got=$(awk -v d="\"$n\"" '$1 == "\"device\"" { on = ($3 == d || $3 == d ",") }
            on && $1 == "\"io_commands\"" { gsub(/[",]/, "", $3); print $3; exit }' "$W/list.json")
        local expect=$want
        [[ $n == fd0 ]] && expect=per-request # batch-io is off unless asked for
        [[ $n == br0 ]] && expect=per-request # not with recovery: true
        [[ $got == "$expect" ]] || fail "$n: list --json says io_commands $got, expected $expect"
    done
    for n in bz0 bc0; do
        if [[ $want == batch ]]; then
            grep -q "device $n: .*in batches (BATCH_IO)" "$E2E_WORK/fb0.fg.log" || fail "the gateway log does not say $n runs BATCH_IO"
        else
            grep -q "device $n: .*BATCH_IO" "$E2E_WORK/fb0.fg.log" && fail "the gateway log says $n runs BATCH_IO on a kernel without it"
        fi
        run_fio "$n-randrw" --filename="${DEV_OF[$n]}" "${FIO_DEV[@]}" --rw=randrw --bs=4k --iodepth=32 \
            --size=16M --verify=crc32c --do_verify=1
        ((FIO_WRITE_KB > 0 && FIO_READ_KB > 0)) || fail "fio $n-randrw moved no data"
        run_fio "$n-1m" --filename="${DEV_OF[$n]}" "${FIO_DEV[@]}" --rw=write --bs=1M --iodepth=4 \
            --offset=16M --size=32M --verify=crc32c --do_verify=1
    done
    grep -q "device br0: batch-io: true is not used with recovery: true" "$E2E_WORK/fb0.fg.log" \
        || fail "the gateway log does not say why br0 runs one command per request"
    log "bz0 and bc0: io_commands $want, $(grep -o 'device bz0: data path: [a-z-]*' "$E2E_WORK/fb0.fg.log")"
}
subcase batch-io batch_io

# SIGTERM (what `down` sends) while fio keeps st0 busy: the gateway must exit within 30 s, all its
# device nodes and state files must go, fio must end (with errors) and nothing may hang.
sigterm_under_load() {
    local dev=${DEV_OF[st0]} fio_pid r0 end rc stuck
    fio --name=load --filename="$dev" --ioengine=io_uring --direct=1 --rw=randrw --bs=16k --iodepth=32 \
        --time_based --runtime=600 --size=256M > "$W/fio.out" 2>&1 &
    fio_pid=$!
    r0=$(awk '{print $1 + $5}' /sys/block/${dev#/dev/}/stat)
    wait_until 60 "fio I/O on $dev" eval '(( $(awk "{print \$1 + \$5}" /sys/block/${dev#/dev/}/stat) > r0 + 500 ))'
    alive $fio_pid || fail "fio exited early: $(tail -3 "$W/fio.out")"
    stop_devices "$GW_PID" 30 fb0 fd0 f4 df q2 fua0 st0 cp0 zs0 rz bz0 bc0 br0
    end=$((SECONDS + 30))
    while alive $fio_pid; do
        ((SECONDS < end)) || fail "fio still running 30 s after the gateway exited (state $(ps -o stat= -p $fio_pid))"
        sleep 0.2
    done
    rc=0
    wait $fio_pid || rc=$?
    log "fio exited with $rc: $(grep -m1 -iE 'error|err=' "$W/fio.out" || true)"
    stuck=$(ps -eo pid=,stat=,comm= | awk '$2 ~ /^D/' || true)
    [[ -z $stuck ]] || fail "processes in uninterruptible sleep: $stuck"
    ! pgrep -f 'dev\.ublkgateway\.core\.cli\.Main' > /dev/null || fail "gateway processes still running: $(pgrep -af 'dev\.ublkgateway' | cut -c1-80)"
    grep -q "st0: stopped and removed $dev" "$E2E_WORK/fb0.fg.log" || fail "the gateway log does not record st0's removal"
}
subcase --always sigterm-under-load sigterm_under_load

# after the stop, the backing files hold what the cases that passed wrote through the devices:
# fio's blocks, the ext4 filesystem, the discarded range
file_backing() {
    local top=$E2E_WORK
    ! alive "$GW_PID" || fail "the gateway is still running (the stop failed)"
    umount "$top/fuafs"
    drop_caches
    local c
    for c in fio-file-buffered fio-file-direct ext4-file discard-file; do
        passed $c && log "checking the backing file of $c" || log "not checking the backing file of $c (it did not pass or run)"
    done
    if passed fio-file-buffered; then fio_verify_only "$FS/file-buffered.img" fb-backing; fi
    if passed fio-file-direct; then fio_verify_only "$FS/file-direct.img" fd-backing; fi
    if passed ext4-file; then
        e2fsck -fn "$FS/ext4.img" > "$W/fsck.out" 2>&1 || fail "e2fsck -fn of ext4-file's backing file: exit $?: $(tail -2 "$W/fsck.out" | tr '\n' ' ')"
        mkdir -p "$W/ro"
        mount -o loop,ro "$FS/ext4.img" "$W/ro" || fail "cannot loop-mount ext4-file's backing file"
        W=$top/ext4-file ext4_verify "$W/ro" "ext4-file's backing file"
        umount "$W/ro"
    fi
    if passed discard-file; then
        cmp -s "$FS/discard.img" "$top/discard-file/expect" || fail "discard-file's backing file differs from the expected contents"
    fi
}
subcase --always file-backing file_backing
