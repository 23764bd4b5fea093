# Sourced by file-zc-guest.sh with "profile": where a 4k randread QD32 request's CPU goes in the gateway's
# copying file device (cp0) and in ublksrv's loop target, one server at a time under the same fio job.
# For each: perf record -e cpu-clock -a -g for PW seconds (1 sample per ms of CPU), the device's request
# count over the same window, then the server's io_uring_enter calls counted by perf stat (the syscall
# tracepoint) over another window. Reports go to RESDIR/profile/; summary.tsv has one line a server:
#   server  requests  us_cpu_per_req  kernel_pct  user_pct  io_uring_enter_per_req
# The JIT's frames resolve through /tmp/perf-PID.map, written by `jcmd PID Compiler.perfmap`.

PW=${PW:-5}
PROF=$RES/profile
PWORK=/tmp/prof

dev_ios() { local a; read -r -a a < "/sys/block/${1##*/}/stat"; echo $((a[0] + a[4])); }

profile_servers() {
    mkdir -p "$PROF" "$PWORK"
    echo 0 > /proc/sys/kernel/kptr_restrict
    echo -1 > /proc/sys/kernel/perf_event_paranoid
    mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
    mountpoint -q /sys/kernel/debug || mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
    command -v perf > /dev/null || { log "profile: no perf"; return 1; }
    perf --version > "$PROF/perf-version.txt" 2>&1
    printf 'server\trequests\tus_cpu_per_req\tkernel_pct\tuser_pct\tio_uring_enter_per_req\n' > "$PROF/summary.tsv"
    local k pid dev i0 i1 fpid
    for k in copy ublksrv; do
        dev=${DEV[$k]:-}
        [[ -b $dev ]] || { log "profile: no $k device"; continue; }
        [[ $k == copy ]] && pid=$GW || pid=$UBPID
        echo 1 > "/sys/block/${dev##*/}/queue/iostats"
        fio --name=p --filename="$dev" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
            --time_based --runtime=600 --norandommap --randrepeat=0 --output-format=terse > "$PWORK/fio-$k.out" 2>&1 &
        fpid=$!
        i0=$(dev_ios "$dev")
        for i in $(seq 150); do sleep 0.2; (($(dev_ios "$dev") > i0)) && break; done
        sleep 2
        i0=$(dev_ios "$dev")
        timeout $((PW + 60)) perf record -e cpu-clock -c 1000000 -a -g -o "$PWORK/perf-$k.data" -- sleep "$PW" \
            > "$PROF/perf-record-$k.log" 2>&1 || log "profile: perf record $k: $(tail -2 "$PROF/perf-record-$k.log")"
        i1=$(dev_ios "$dev")
        echo $((i1 - i0)) > "$PWORK/ios-$k"
        i0=$(dev_ios "$dev")
        timeout $((PW + 60)) perf stat -x, -e syscalls:sys_enter_io_uring_enter -p "$pid" -o "$PROF/perf-stat-$k.csv" -- sleep "$PW" \
            > /dev/null 2>&1 || log "profile: perf stat $k failed: $(tail -2 "$PROF/perf-stat-$k.csv")"
        i1=$(dev_ios "$dev")
        echo $((i1 - i0)) > "$PWORK/stat-ios-$k"
        if ! grep -q io_uring_enter "$PROF/perf-stat-$k.csv" 2>/dev/null || grep -q 'not supported\|not counted' "$PROF/perf-stat-$k.csv"; then
            # fallback: strace counts the server's syscalls (it slows the server, the count per request holds)
            i0=$(dev_ios "$dev")
            timeout "$PW" strace -c -f -p "$pid" -o "$PROF/strace-$k.txt" > /dev/null 2>&1
            i1=$(dev_ios "$dev")
            echo $((i1 - i0)) > "$PWORK/strace-ios-$k"
        fi
        kill -INT $fpid 2>/dev/null; wait $fpid 2>/dev/null
        log "profile: $k sampled ($(cat "$PWORK/ios-$k") requests)"
    done
    # The JIT's symbol map must exist before perf report reads the samples (jcmd starts slowly under TCG).
    timeout 120 "$JDK/bin/jcmd" "$GW" Compiler.perfmap > "$PROF/jcmd-perfmap.log" 2>&1 || log "profile: jcmd Compiler.perfmap failed"
    cp /proc/kallsyms "$PWORK/kallsyms" 2>/dev/null
    for k in copy ublksrv; do
        [[ -f $PWORK/perf-$k.data ]] || continue
        [[ $k == copy ]] && pid=$GW || pid=$UBPID
        local rep=(timeout 600 perf report -i "$PWORK/perf-$k.data" --stdio --no-children --kallsyms=/proc/kallsyms)
        # Every process's share of the window (the fio side, the server, kernel threads).
        "${rep[@]}" -n -g none --sort comm,dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 > "$PROF/perf-$k-comm-dso.txt"
        # The server alone: samples by dso (kernel or user) and by symbol.
        "${rep[@]}" -n -g none --pid "$pid" --sort dso 2>/dev/null | grep -v '^#' | grep -v '^$' > "$PROF/perf-$k-server-dso.txt"
        "${rep[@]}" -n -g none --pid "$pid" --sort dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -80 > "$PROF/perf-$k-server-symbols.txt"
        "${rep[@]}" -g caller,0.5,callee,function,percent --percent-limit 3 --pid "$pid" --sort sym 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -400 > "$PROF/perf-$k-server-callers.txt"
        # Samples are 1 ms of CPU each: per request = samples * 1000 us / requests.
        local calls cios
        calls=$(cut -d, -f1 "$PROF/perf-stat-$k.csv" 2>/dev/null | grep -E '^[0-9]+$' | head -1)
        cios=$(cat "$PWORK/stat-ios-$k" 2>/dev/null)
        if [[ -z $calls && -f $PROF/strace-$k.txt ]]; then
            calls=$(awk '$NF == "io_uring_enter" { print $4 }' "$PROF/strace-$k.txt")
            cios=$(cat "$PWORK/strace-ios-$k" 2>/dev/null)
        fi
        awk -v k="$k" -v ios="$(cat "$PWORK/ios-$k")" -v calls="$calls" -v cios="$cios" '
            $1 ~ /%$/ { n = $2 + 0; all += n; if ($3 ~ /^\[kernel/) kern += n }
            END {
                printf "%s\t%d\t%.1f\t%.0f\t%.0f\t%s\n", k, ios, ios ? all * 1000 / ios : 0, all ? 100 * kern / all : 0,
                    all ? 100 * (all - kern) / all : 0, (calls != "" && cios > 0) ? sprintf("%.3f", calls / cios) : "NA"
            }' "$PROF/perf-$k-server-dso.txt" >> "$PROF/summary.tsv"
    done
    # The samples and the kernel's symbols, for perf report --kallsyms=... on the host later.
    cp "$PWORK"/fio-*.out "$PWORK"/perf-*.data "$PWORK/kallsyms" "$PROF/" 2>/dev/null
    cat "$PROF/summary.tsv" >&2
}
