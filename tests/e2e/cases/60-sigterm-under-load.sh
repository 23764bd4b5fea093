# SIGTERM (what `down` sends) to a background gateway while fio keeps a file-backed device busy: the
# gateway must exit within 30 s, its device nodes and state file must go, and nothing may hang.
img=$FS/sigterm.img
mk_yaml st0.yaml st0 256MiB file path="$img" create=true depth=64
up_bg st0 st0.yaml
id=$DEV_ID pid=$GW_PID

fio --name=load --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randrw --bs=16k --iodepth=32 \
    --time_based --runtime=600 --size=256M > "$W/fio.out" 2>&1 &
fio_pid=$!
# wait until I/O really flows through the device
r0=$(awk '{print $1 + $5}' /sys/block/${DEV#/dev/}/stat)
wait_until 60 "fio I/O on $DEV" eval '(( $(awk "{print \$1 + \$5}" /sys/block/${DEV#/dev/}/stat) > r0 + 500 ))'
alive $fio_pid || fail "fio exited early: $(tail -3 "$W/fio.out")"

stop_gw st0 "$pid" "$id" 30
# fio sees errors now, and must end by itself
end=$((SECONDS + 30))
while alive $fio_pid; do
    ((SECONDS < end)) || fail "fio still running 30 s after the gateway exited (state $(ps -o stat= -p $fio_pid))"
    sleep 0.2
done
rc=0
wait $fio_pid || rc=$?
log "fio exited with $rc: $(grep -m1 -iE 'error|err=' "$W/fio.out" || true)"
((rc != 0)) || log "note: fio exited 0 although its device vanished under it"
stuck=$(ps -eo pid=,stat=,comm= | awk '$2 ~ /^D/' || true)
[[ -z $stuck ]] || fail "processes in uninterruptible sleep: $stuck"
! pgrep -f 'dev\.ublkgateway\.core\.cli\.Main' > /dev/null || fail "gateway processes still running: $(pgrep -af 'dev\.ublkgateway' | cut -c1-80)"
grep -q "st0: stopped and removed /dev/ublkb$id" "$RUN_DIR/st0.log" || fail "gateway log does not record the device's removal: $(tail -1 "$RUN_DIR/st0.log")"
