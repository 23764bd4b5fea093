# Sourced by file-zc-guest.sh with "profile": where a 4k randread QD32 request's CPU goes in the gateway's
# copying file device (cp0) and in ublksrv's loop target, one server at a time under the same fio job.
# For each: perf record -e cpu-clock -a -g for PW seconds (1 sample per ms of CPU), the device's request
# count over the same window, then the server's io_uring_enter calls counted by perf stat (the syscall
# tracepoint) over another window. Reports go to RESDIR/profile/; summary.tsv has one line a server:
#   server requests us_cpu_per_req kernel_us user_us kernel_pct busiest_thread_pct busiest_thread
#   io_uring_enter_per_req   (the server = all its threads; kernel = the kernel and its modules)
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
    printf 'server\trequests\tus_cpu_per_req\tkernel_us\tuser_us\tkernel_pct\tbusiest_thread_pct\tbusiest_thread\tio_uring_enter_per_req\n' > "$PROF/summary.tsv"
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
        # The server's threads (ublk.loop may run as more than one process): perf 6.1's report --pid/--tid
        # filters drop kernel samples, so the reports below select these threads by tid themselves.
        local pids t
        [[ $k == copy ]] && pids=$GW || pids=$(pgrep -x ublk.loop | tr '\n' ' ')
        for p in $pids; do for t in /proc/"$p"/task/*; do echo "${t##*/}"; done; done > "$PWORK/tids-$k"
        pid=$(echo $pids | tr ' ' ,)
        # The requests are counted by perf's own workload, so exactly over the window perf samples or counts
        # (perf's start-up and write-out under emulation take longer than the window itself).
        local win="read -r -a a < /sys/block/${dev##*/}/stat; b=\$((a[0] + a[4])); sleep $PW
            read -r -a a < /sys/block/${dev##*/}/stat; echo \$((a[0] + a[4] - b))"
        timeout $((PW + 120)) perf record -e cpu-clock -c 1000000 -a -g -o "$PWORK/perf-$k.data" -- bash -c "$win" \
            > "$PWORK/ios-$k" 2> "$PROF/perf-record-$k.log" || log "profile: perf record $k: $(tail -2 "$PROF/perf-record-$k.log")"
        timeout $((PW + 120)) perf stat -x, -e syscalls:sys_enter_io_uring_enter -p "$pid" -o "$PROF/perf-stat-$k.csv" -- bash -c "$win" \
            > "$PWORK/stat-ios-$k" 2> /dev/null || log "profile: perf stat $k failed: $(tail -2 "$PROF/perf-stat-$k.csv")"
        if ! grep -q io_uring_enter "$PROF/perf-stat-$k.csv" 2>/dev/null || grep -q 'not supported\|not counted' "$PROF/perf-stat-$k.csv"; then
            # fallback: strace counts the server's syscalls (it slows the server, the count per request holds)
            i0=$(dev_ios "$dev")
            timeout "$PW" strace -c -f -p "$pid" -o "$PROF/strace-$k.txt" > /dev/null 2>&1
            i1=$(dev_ios "$dev")
            echo $((i1 - i0)) > "$PWORK/strace-ios-$k"
        fi
        kill -INT $fpid 2>/dev/null; wait $fpid 2>/dev/null
        log "profile: $k sampled ($(cat "$PWORK/ios-$k") requests in ${PW}s)"
    done
    # The JIT's symbol map must exist before perf report reads the samples (jcmd starts slowly under TCG).
    timeout 120 "$JDK/bin/jcmd" "$GW" Compiler.perfmap > "$PROF/jcmd-perfmap.log" 2>&1 || log "profile: jcmd Compiler.perfmap failed"
    cp /proc/kallsyms "$PWORK/kallsyms" 2>/dev/null
    for k in copy ublksrv; do
        [[ -f $PWORK/perf-$k.data ]] || continue
        local calls cios
        calls=$(cut -d, -f1 "$PROF/perf-stat-$k.csv" 2>/dev/null | grep -E '^[0-9]+$' | head -1)
        cios=$(cat "$PWORK/stat-ios-$k" 2>/dev/null)
        if [[ -z $calls && -f $PROF/strace-$k.txt ]]; then
            calls=$(awk '$NF == "io_uring_enter" { print $4 }' "$PROF/strace-$k.txt")
            cios=$(cat "$PWORK/strace-ios-$k" 2>/dev/null)
        fi
        profile_report "$PWORK/perf-$k.data" /proc/kallsyms "$k" "$PWORK/tids-$k" "$(cat "$PWORK/ios-$k")" "$calls" "$cios" "$PROF"
    done
    # The samples and the kernel's symbols, for perf report --kallsyms=... on the host later.
    cp "$PWORK"/fio-*.out "$PWORK"/perf-*.data "$PWORK"/tids-* "$PWORK"/*ios-* "$PWORK/kallsyms" "$PROF/" 2>/dev/null
    cat "$PROF/summary.tsv" >&2
}

# profile_report DATA KALLSYMS SERVER TIDS-FILE REQUESTS IO_URING_ENTER_CALLS REQUESTS-OF-THOSE-CALLS OUTDIR
# (also usable on the host on a run's saved samples: the JIT map must then be at /tmp/perf-PID.map).
# Writes OUTDIR/perf-SERVER-threads.txt (samples per thread and dso), perf-SERVER-server-symbols.txt
# (the server's threads' symbols) and appends a line to OUTDIR/summary.tsv. One sample = 1 ms of CPU.
profile_report() {
    local data=$1 ks=$2 k=$3 tids=$4 ios=$5 calls=$6 cios=$7 out=$8
    local rep=(timeout 600 perf report -i "$data" --stdio --no-children --kallsyms="$ks" -n -g none)
    "${rep[@]}" --sort pid,dso 2>/dev/null | grep -v '^#' | grep -v '^$' > "$out/perf-$k-threads.txt"
    "${rep[@]}" --sort pid,dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' \
        | awk 'NR == FNR { t[$1] = 1; next } { split($3, a, ":"); if (a[1] in t) print }' "$tids" - | head -120 \
        > "$out/perf-$k-server-symbols.txt"
    awk -v k="$k" -v ios="$ios" -v calls="$calls" -v cios="$cios" '
        NR == FNR { t[$1] = 1; next }
        { split($3, a, ":"); if (!(a[1] in t)) next
          n = $2 + 0; all += n; if ($0 ~ /\[kernel\.kallsyms\]|\[ublk_drv\]|\[null_blk\]/) kern += n
          th[a[1]] += n; name[a[1]] = a[2] }
        END {
            for (i in th) if (th[i] > top) { top = th[i]; tt = i }
            printf "%s\t%d\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%s\t%s\n", k, ios, ios ? all * 1000 / ios : 0,
                ios ? kern * 1000 / ios : 0, ios ? (all - kern) * 1000 / ios : 0, all ? 100 * kern / all : 0,
                ios ? 100 * top * 1000 / ios / (all * 1000 / ios) : 0, tt ":" name[tt],
                (calls != "" && cios > 0) ? sprintf("%.3f", calls / cios) : "NA"
        }' "$tids" "$out/perf-$k-threads.txt" >> "$out/summary.tsv"
}
