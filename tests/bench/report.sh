#!/usr/bin/env bash
# Formats the results of tests/bench/run.sh.
#   report.sh table OUTDIR      the results table of every run (markdown), ours vs the kernel, with ratios
#   report.sh goals OUTDIR      the goal ratios per run (markdown)
#   report.sh rounds OUTDIR     the goal phase's interleaved rounds per run (markdown)
#   report.sh profile OUTDIR    the "where the time goes" tables of the last run that has a profile
#   report.sh before OUTDIR     ours against the baseline build (run.sh --baseline-rev), per run (markdown)
#   report.sh jfr PROFILEDIR JAVA_HOME   summarises the JFR recording of a run (called by run.sh)
# OUTDIR holds run1/, run2/, ... each with results.tsv (and profile/) written by guest.sh.
set -euo pipefail

what=${1:?table|goals|profile|jfr}
OUT=${2:?outdir}
runs=()
if [[ $what != jfr ]]; then
    for d in "$OUT"/run*/; do [[ -d $d/profile || -s $d/results.tsv ]] && runs+=("${d%/}"); done
    ((${#runs[@]})) || { echo "report: no results under $OUT" >&2; exit 1; }
fi

# All runs' results in one stream, each line prefixed with its run number.
all() {
    local i=0 d
    for d in "${runs[@]}"; do
        i=$((i + 1))
        if [[ -f $d/results.tsv ]]; then awk -v r="$i" 'BEGIN { OFS = "\t" } { print r, $0 }' "$d/results.tsv"; fi
    done
}

table() {
    all | awk -F'\t' -v nruns="${#runs[@]}" '
        function val(k) { return ((k in v) && v[k] != "NA") ? v[k] : "" }
        function show(k,   x) {
            x = val(k); if (x == "") return "NA"
            return seq[k] ? sprintf("%.0f", x / 1024) : sprintf("%.1fk", x / 1000)
        }
        function ratio(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.2fx", a / b) : "NA" }
        $2 == "goal" { next }  # rounds, reported on their own
        {
            # run section test variant dev rw bs qd jobs iops bw clat p99
            k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
            seq[k] = ($6 == "read" || $6 == "write"); v[k] = seq[k] ? $11 : $10
            if ($4 == "ref" && $10 != "NA") hasref[$2] = 1
            if (!(($2, $3) in seen)) { seen[$2, $3] = 1; order[++n] = $2 SUBSEP $3 }
        }
        END {
            names["null"] = "null target vs null_blk (memory_backed=0)"
            names["memory"] = "memory target vs null_blk (memory_backed=1)"
            names["file"] = "file target vs loop (both O_DIRECT on one file)"
            last = ""
            for (i = 1; i <= n; i++) {
                split(order[i], p, SUBSEP)
                ref = (p[1] in hasref)
                if (p[1] != last) {
                    if (last != "") print ""
                    print "*" names[p[1]] "*"
                    print ""
                    hdr = "| test |"; sep = "|---|"
                    for (r = 1; r <= nruns; r++) {
                        hdr = hdr " r" r " ours |" (ref ? " r" r " C ref |" : "") " r" r " kernel | r" r " ratio |"
                        sep = sep "---:|" (ref ? "---:|" : "") "---:|---:|"
                    }
                    print hdr; print sep
                    last = p[1]
                }
                line = "| " p[2] " |"
                for (r = 1; r <= nruns; r++) {
                    o = r SUBSEP p[1] SUBSEP p[2] SUBSEP "ours"; kk = r SUBSEP p[1] SUBSEP p[2] SUBSEP "kernel"
                    c = r SUBSEP p[1] SUBSEP p[2] SUBSEP "ref"
                    line = line " " show(o) " |" (ref ? " " show(c) " |" : "") " " show(kk) " | " ratio(val(o), val(kk)) " |"
                }
                print line
            }
        }'
}

goals() {
    all | awk -F'\t' -v nruns="${#runs[@]}" '
        { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; v[k] = ($6 == "read" || $6 == "write") ? $11 : $10 }
        function ratio(r, s, t, num, den,   a, b) {
            a = v[r, s, t, num]; b = v[r, s, t, den]
            if (a == "" || b == "" || a == "NA" || b == "NA" || b == 0) return "NA"
            return a / b
        }
        function row(label, s, t, goal, num, den,   r, x, line, ok, sum, cnt) {
            line = "| " label " | " (goal ? ">= " goal "x" : "(reference)") " |"; ok = 1; cnt = 0; sum = 0
            for (r = 1; r <= nruns; r++) {
                x = ratio(r, s, t, num ? num : "ours", den ? den : "kernel")
                if (x == "NA") { line = line " NA |"; ok = 0 }
                else { line = line sprintf(" %.2fx |", x); if (x < goal) ok = 0; sum += x; cnt++ }
            }
            line = line (cnt ? sprintf(" %.2fx |", sum / cnt) : " NA |") (!goal ? " |" : ok ? " met |" : " **not met** |")
            print line
        }
        END {
            hdr = "| ratio (4k randread QD32) | goal |"; sep = "|---|---:|"
            for (r = 1; r <= nruns; r++) { hdr = hdr " run " r " |"; sep = sep "---:|" }
            print hdr " mean | verdict |"; print sep "---:|---|"
            row("null target / null_blk, 1 queue", "null", "4k randread QD32 1q", 0.8)
            row("null target / null_blk, 2 queues", "null", "4k randread QD32 2q", 0.8)
            row("file target / loop (direct I/O)", "file", "4k randread QD32 1q", 0.5)
            row("C reference server / null_blk, 1 queue", "null", "4k randread QD32 1q", 0, "ref")
            row("C reference server / null_blk, 2 queues", "null", "4k randread QD32 2q", 0, "ref")
            row("null target / C reference server, 1 queue", "null", "4k randread QD32 1q", 0, "ours", "ref")
            row("null target / C reference server, 2 queues", "null", "4k randread QD32 2q", 0, "ours", "ref")
        }'
}

# The goal phase: per run, each round's ratio (sum of its two ours jobs over its two kernel jobs), and
# the median of the rounds; ours as configured by default, and with poll-us 200.
rounds() {
    all | awk -F'\t' -v nruns="${#runs[@]}" '
        $2 == "goal" && $10 != "NA" {
            round = $3; sub(/.* round /, "", round)
            sum[$1, round, $4] += $10; if (round > nr[$1]) nr[$1] = round
        }
        function median(a, n,   i, j, t) {
            for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function row(label, variant,   r, i, n, x, line, a) {
            for (r = 1; r <= nruns; r++) {
                if (!nr[r]) continue
                line = "| " label " | run " r " |"; n = 0; split("", a)
                for (i = 1; i <= nr[r]; i++) {
                    if (sum[r, i, "kernel"] > 0 && sum[r, i, variant] > 0) {
                        x = sum[r, i, variant] / sum[r, i, "kernel"]; a[++n] = x; line = line sprintf(" %.2fx", x)
                    } else line = line " NA"
                }
                x = n ? median(a, n) : 0
                print line " | " (n ? sprintf("%.2fx", x) : "NA") " | " (!n ? "NA" : x >= 0.8 ? "met" : "**not met**") " |"
            }
        }
        END {
            if (!length(nr)) exit
            print "| null target / null_blk, 4k randread QD32, 1 queue, in rounds | run | each round | median | goal 0.8x |"
            print "|---|---|---|---:|---|"
            row("default (`poll-us: 0`)", "ours")
            row("`poll-us: 200`", "poll")
        }'
}

profile() {
    local d p=""
    for d in "${runs[@]}"; do [[ -s $d/profile/accounting.tsv ]] && p=$d/profile; done
    [[ -n $p ]] || { echo "(no profile recorded)"; return 0; }
    echo "From ${p#"$OUT"/}: 4k randread QD32, one fio job, a 1-queue device; each line is a 5 s window in"
    echo "the middle of its own fio run, counters from /proc (no profiler attached). µs are CPU time per"
    echo "request (schedstat); \"switches\" are times a thread was switched onto a vCPU, per request; \"runq\" is"
    echo "time spent runnable but waiting for a vCPU, per request."
    echo
    echo "| run | IOPS | VM busy (2 vCPUs) | all CPU µs | fio µs (user %) | fio switches | queue thread µs (user %) | queue thread busy | queue thread switches | queue thread runq µs | other server threads µs |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    # columns: run iops vm_busy busy_us | fio: run user busy sleeps wait | queue: ... | gw: ...
    awk -F'\t' 'NR > 1 {
        ours = ($1 !~ /null_blk/)
        printf "| %s | %.1fk | %s%% | %s | %s (%s%%) | %s |", $1, $2 / 1000, $3, $4, $5, $6, $8
        if (ours) printf " %s (%s%%) | %s%% | %s | %s | %s |\n", $10, $11, $12, $13, $14, $15
        else printf " - | - | - | - | - |\n"
    }' "$p/accounting.tsv"
    echo
    section() {  # TITLE FILE LINES
        [[ -s $2 ]] || return 0
        echo "$1"
        echo
        echo '```'
        head -n "$3" "$2" | sed 's/[[:space:]]*$//'
        echo '```'
        echo
    }
    if [[ -s $p/accounting-other-threads.tsv ]]; then
        echo "Other threads of the server process that used at least 1 ms of CPU in those windows (ms per 5 s window):"
        echo
        echo "| run | thread | ms |"
        echo "|---|---|---:|"
        awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$p/accounting-other-threads.tsv"
        echo
    fi
    section "perf (whole VM, cpu-clock at 999 Hz, JIT code named through the JVM's perf map), by thread and object:" \
        "$p/perf-comm-dso.txt" 16
    section "perf, queue thread (ublk-prof-q0) only, by symbol (percent of all samples):" "$p/perf-queue-thread-symbols.txt" 25
    section "perf, fio only, by symbol:" "$p/perf-fio-symbols.txt" 12
    section "JFR, queue thread, CPU-time samples (jdk.CPUTimeSample, which also sees time in native code), frame <- caller:" \
        "$p/jfr-cpu-queue-thread.txt" 14
    section "JFR, queue thread, execution samples (jdk.ExecutionSample: only while in Java code), frame <- caller:" \
        "$p/jfr-exec-queue-thread.txt" 14
    section "JFR \`jfr view allocation-by-site\` (all threads):" "$p/jfr-allocation-by-site.txt" 10
}

# jfr PROFILEDIR JAVA_HOME: summaries of PROFILEDIR/null-randread-qd32.jfr.
jfr() {
    local P=$2 J=$3/bin/jfr f=$2/null-randread-qd32.jfr ev name
    "$J" summary "$f" > "$P/jfr-summary.txt" 2>&1 || true
    "$J" view --width 160 hot-methods "$f" > "$P/jfr-hot-methods.txt" 2>&1 || true
    "$J" view --width 160 cpu-time-hot-methods "$f" > "$P/jfr-cpu-time-hot-methods.txt" 2>&1 || true
    "$J" view --width 160 allocation-by-site "$f" > "$P/jfr-allocation-by-site.txt" 2>&1 || true
    "$J" view --width 160 gc-pauses "$f" > "$P/jfr-gc.txt" 2>&1 || true
    # The queue thread's samples: frame and caller, counted.
    for ev in jdk.ExecutionSample:exec jdk.CPUTimeSample:cpu; do
        name=${ev#*:} ev=${ev%:*}
        "$J" print --events "$ev" --stack-depth 2 "$f" 2>/dev/null | awk '
            /sampledThread = |eventThread = / { q = ($0 ~ /"ublk-[^"]*-q0"/) }
            /stackTrace = \[/ { d = 0; key = ""; next }
            /^[[:space:]]+[^[:space:]].*line: / && d < 2 {
                l = $0; sub(/^[[:space:]]+/, "", l); sub(/[[:space:]]+line: .*/, "", l)
                key = key (d ? "  <-  " : "") l; d++
                if (d == 2 && q) { c[key]++; n++ }
            }
            /^\]|^  \]/ { if (d == 1 && q) { c[key]++; n++ } d = 2 }
            END { for (k in c) printf "%6d %5.1f%%  %s\n", c[k], 100 * c[k] / n, k }' | sort -rn | head -30 \
            > "$P/jfr-$name-queue-thread.txt"
        echo "(total queue-thread samples: $(awk '{ s += $1 } END { print s + 0 }' "$P/jfr-$name-queue-thread.txt") shown)" >> "$P/jfr-$name-queue-thread.txt"
    done
}

# Each job of ours over the same job of the baseline build, run right after it in the same boot.
before() {
    local base
    base=$(cat "$OUT/baseline.txt" 2>/dev/null || echo "the baseline")
    echo "| run | section | test | ours | before ($base) | after/before |"
    echo "| --- | --- | --- | ---: | ---: | ---: |"
    all | awk -F'\t' '
        function show(x, s) { return x == "" || x == "NA" ? "NA" : s ? sprintf("%.0f MiB/s", x / 1024) : sprintf("%.1fk", x / 1000) }
        $4 == "ours" || $4 == "before" {
            # run section test variant dev rw bs qd jobs iops bw ...
            k = $1 SUBSEP $2 SUBSEP $3
            s = ($6 == "read" || $6 == "write"); seqk[k] = s
            v[k, $4] = s ? $11 : $10
            if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        }
        END {
            for (i = 1; i <= n; i++) {
                k = order[i]; split(k, f, SUBSEP)
                a = v[k, "ours"]; b = v[k, "before"]
                if (!((k, "before") in v)) continue
                r = (a != "" && a != "NA" && b != "" && b != "NA" && b > 0) ? sprintf("%.2f", a / b) : "NA"
                printf "| %s | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], show(a, seqk[k]), show(b, seqk[k]), r
            }
        }'
}

"$what" "$@"
