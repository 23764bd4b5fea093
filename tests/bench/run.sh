#!/usr/bin/env bash
# Benchmark (not a test): ublk-gateway's null, memory and file targets against the kernel's own
# null_blk and loop devices, measured side by side with fio inside the VM test bed (one VM boot per
# run), plus a profile of where a null-target request's time goes. Prints the tables and the goal
# ratios and rewrites the "## ublk frontend" section of BENCHMARKS.md (other sections are left alone;
# the hand-written findings between that section's markers are kept).
#
#   tests/bench/run.sh [--runs N] [--runtime S] [--ramp S] [--out DIR] [--phases LIST] [--no-write]
#   tests/bench/run.sh --report-only DIR [--no-write]   report an earlier run's results again
#
#   --runs N      VM boots, each running the whole matrix (default 2); ratios are compared within a run
#   --runtime S   seconds per fio job (default 5), after --ramp S seconds of warm-up (default 1)
#   --out DIR     where raw results go (default .vm-out/bench-DATE)
#   --phases LIST which parts to run (default "goal null memory file profile"; goal = the null
#                 target's QD32 goal against null_blk in interleaved rounds; profile = /proc
#                 accounting, JFR and perf of a null-target run)
#   --goal-rounds N  rounds of the goal phase (default 5)
#   --no-write    print only; leave BENCHMARKS.md alone
#   --baseline-rev REV  also build REV (from a git worktree) and, in the same boots, run each of the
#                 null and file phases' jobs of ours on its devices right after ours; prints the
#                 after/before ratios (BENCHMARKS.md is then left alone)
#
# One run takes 15-30 minutes on the 2-core host (60+ fio jobs and several JVM starts under TCG).
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
source scripts/lib/jdk.sh
source tests/bench/app-snapshot.sh

runs=2 runtime=5 ramp=1 out="" phases="goal null memory file profile" goal_rounds=5 write=1 report_only="" baseline=""
cmdline="tests/bench/run.sh${*:+ $*}"
while (($#)); do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        --runtime) runtime=${2:?}; shift 2 ;;
        --ramp) ramp=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --phases) phases=${2:?}; shift 2 ;;
        --goal-rounds) goal_rounds=${2:?}; shift 2 ;;
        --no-write) write=0; shift ;;
        --baseline-rev) baseline=${2:?}; write=0; shift 2 ;;
        --report-only) report_only=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

JDK=$(find_java_home) || { echo "bench: needs a JDK >= 25" >&2; exit 1; }

if [[ -n $report_only ]]; then
    # What that run recorded about itself.
    out=$(realpath "$report_only")
    [[ -s $out/run1/env.txt ]] || { echo "bench: no results in $out" >&2; exit 1; }
    cmdline=$(cat "$out/command.txt" 2>/dev/null || echo "$cmdline")
    commit=$(cat "$out/build.txt" 2>/dev/null || echo unknown)
    read -r _ runtime _ ramp < <(sed -n 's/^runtime: \([0-9]*\)s ramp: \([0-9]*\)s$/runtime \1 ramp \2/p' "$out/run1/env.txt")
    phases=$(cat "$out/phases.txt" 2>/dev/null || echo "goal null memory file profile")
    for d in "$out"/run*/profile; do
        if [[ -s $d/null-randread-qd32.jfr && ! -s $d/jfr-summary.txt ]]; then tests/bench/report.sh jfr "$d" "$JDK"; fi
    done
else
    bash tests/vm/install-deps.sh >/dev/null

    # Build on the host (the VM sees the tree read-only), then snapshot the jars: other work on the tree
    # during the run must not change what is measured, nor make the launcher rebuild inside the VM.
    bin/ublk-gateway --version >/dev/null
    main_class=$(launcher_main_class "$ROOT") || exit 1
    out=${out:-$ROOT/.vm-out/bench-$(date +%Y%m%d-%H%M%S)}
    mkdir -p "$out"
    out=$(realpath "$out")
    jar=$(snapshot_jars "$ROOT" "$out/app") || exit 1
    # A C reference server (the gateway's request flow without the JVM; not part of the project): a
    # binary named by UBLKGW_BENCH_REF, or built from tests/bench/ublk-null-ref.c where that exists.
    if [[ -n ${UBLKGW_BENCH_REF:-} && -x ${UBLKGW_BENCH_REF} ]]; then
        cp "$UBLKGW_BENCH_REF" "$out/app/ublk-null-ref"
    elif command -v gcc > /dev/null && [[ -f tests/bench/ublk-null-ref.c ]]; then
        gcc -O2 -Wall -pthread -o "$out/app/ublk-null-ref" tests/bench/ublk-null-ref.c \
            || echo "bench: could not build the C reference server; its column stays empty" >&2
    fi
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD -- gateway-core plugin-api plugins 2>/dev/null || commit="$commit + uncommitted changes"
    echo "$commit" > "$out/build.txt"
    echo "$cmdline" > "$out/command.txt"
    echo "$phases" > "$out/phases.txt"
    echo "bench: measuring $jar built from $commit; results in $out"
    base_app=""
    if [[ -n $baseline ]]; then
        # The baseline's jars, built in a worktree of REV of their own (its target/, not this tree's).
        rev=$(git rev-parse --short "$baseline") || { echo "bench: unknown revision $baseline" >&2; exit 1; }
        src=$out/baseline-src
        rm -rf "$src" && git worktree prune
        git worktree add -q --detach "$src" "$rev"
        (cd "$src" && JAVA_HOME=$JDK mvn -B -q -o package -DskipTests) > "$out/baseline-build.log" 2>&1 \
            || { git worktree remove --force "$src"; echo "bench: building $rev failed (see $out/baseline-build.log)" >&2; exit 1; }
        snapshot_jars "$src" "$out/base-app" > /dev/null || { git worktree remove --force "$src"; exit 1; }
        git worktree remove --force "$src"
        echo "$rev" > "$out/baseline.txt"
        base_app=$out/base-app
        echo "bench: baseline $rev; the null and file phases run its devices right after ours"
    fi

    for i in $(seq "$runs"); do
        echo "bench: run $i of $runs (VM)"
        rm -rf "$out/run$i" && mkdir -p "$out/run$i"
        rc=0
        load_before=$(cut -d' ' -f1-3 /proc/loadavg) start=$SECONDS
        # the whole out dir goes to the guest: the jar snapshots in it must be visible there too (an out
        # dir under /tmp is not on the host root the guest sees)
        tests/vm/run.sh --out "$out" --timeout 2700 -- \
            bash "$ROOT/tests/bench/guest.sh" "$out/run$i" "$out/app" "$JDK" "$main_class" "$runtime" "$ramp" "$phases" "$goal_rounds" "$base_app" \
            > "$out/run$i/console.log" 2>&1 || rc=$?
        echo "run $i: $((SECONDS - start)) s; host load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)" \
            > "$out/run$i/host-load.txt"
        cat "$out/run$i/host-load.txt"
        ((rc == 0)) || echo "bench: run $i: the VM reported status $rc (see $out/run$i/console.log)" >&2
        # The JFR recording is analysed here: the JDK's tools start far faster on the host than under TCG.
        if [[ -s $out/run$i/profile/null-randread-qd32.jfr ]]; then tests/bench/report.sh jfr "$out/run$i/profile" "$JDK"; fi
    done
fi

table=$(tests/bench/report.sh table "$out")
goals=$(tests/bench/report.sh goals "$out")
rounds=$(tests/bench/report.sh rounds "$out")
prof=""
[[ " $phases " != *" profile "* ]] || prof=$(tests/bench/report.sh profile "$out")
printf '\n%s\n\n%s\n\n%s\n' "$rounds" "$goals" "$table"
[[ ! -s $out/baseline.txt ]] || printf '\nAfter (this build) / before (%s), same boot, jobs interleaved:\n\n%s\n' \
    "$(cat "$out/baseline.txt")" "$(tests/bench/report.sh before "$out")"
[[ -z $prof ]] || printf '\n%s\n' "$prof"

((write)) || exit 0

# BENCHMARKS.md holds other benchmarks' sections too: only the one headed "## ublk frontend" is
# rewritten (appended when missing), and the findings between its markers are kept.
env1=$out/run1/env.txt
field() { sed -n "s/^$1: //p" "$env1" 2>/dev/null | head -1; }
host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
findings=""
[[ ! -f BENCHMARKS.md ]] ||
    findings=$(awk '/^<!-- ublk-frontend findings:begin/ { on = 1; next } /^<!-- ublk-frontend findings:end/ { on = 0 } on' BENCHMARKS.md)
[[ -n $findings ]] || findings="(none written yet)"
section=$(mktemp)
trap 'rm -f "$section"' EXIT
cat > "$section" <<EOF
## ublk frontend: null, memory and file targets against null_blk and loop

Written by \`tests/bench/run.sh\`, which rewrites this section and keeps the findings at its end.
fio in the VM test bed; ours and the kernel's devices interleaved job by job, one VM boot per run.
Absolute numbers swing by ±30% or more between runs on this machine (emulated CPU, shared 2-core
host); compare ratios within a run.

- Command: \`$cmdline\` (from the repository root; raw results and profiles in \`${out#"$ROOT"/}\`)
- Date: $(field date); measured build: gateway-core at $commit
- Machine: QEMU TCG VM (no KVM), $(field cpus) vCPUs, $(field memory), on a $(nproc)-core host ($host_cpu);
  guest kernel $(field kernel) (Debian bookworm-backports), $(field java), $(field fio)
- fio: \`ioengine=io_uring direct=1 time_based runtime=${runtime}s ramp_time=${ramp}s norandommap\`, one job per
  queue (\`numjobs\` = device queues), scheduler \`none\` on every device under test
- Host load while the runs ran (2 cores: above 2 the VM's vCPUs competed with other work):
$(cat "$out"/run*/host-load.txt 2>/dev/null | sed 's/^/  - /')

Setup:
- **null**: a \`null\` target device (16 GiB, depth 128, max-io-size 512 KiB, 1 or 2 queues) against a
  null_blk device made through configfs with \`queue_mode=2 irqmode=0 memory_backed=0\`, the same number of
  submit queues, \`hw_queue_depth=128\` and \`max_sectors=1024\` (512 KiB; its default of 127 KiB would split
  every 128k request in two).
- **memory**: a \`memory\` target device (512 MiB) against null_blk with \`memory_backed=1\` (a kernel RAM disk,
  same queue settings). Both are written in full first, so reads never hit holes.
- **file**: one 1 GiB file, written in full, on ext4 on a RAM-backed null_blk (\`memory_backed=1\`). The kernel
  side is \`losetup --direct-io=on --sector-size 4096\` on that file (the script checks that
  \`/sys/block/loopN/loop/dio\` is 1); ours is a \`file\` target on the same file with \`direct: true\`, one
  queue. Both go through ext4's O_DIRECT path to the same RAM disk, no page cache in between. Not tmpfs:
  it has no O_DIRECT, so loop would silently fall back to buffered I/O and the comparison would be one
  of page caches; a buffered pair (\`direct: false\`) would measure page-cache copies, not the request
  path. \`brd\` is not in the VM's module set; null_blk \`memory_backed=1\` is the same kind of RAM disk.
- **goal**: the QD32 goal on its own, measured in rounds of null_blk, ours, ours with \`poll-us: 200\`,
  the same two again and null_blk (each job ${runtime} s), on two null devices of one gateway after their
  JIT warm-up; a round's ratio is its two jobs of ours over its two of null_blk, and the verdict
  takes the median round, so one slow minute of the host does not decide it.
- Sequential rows: one queue, QD16; a 1 MiB request is split into two 512 KiB ones on both sides.
- "C ref" (only when a reference binary is given with \`UBLKGW_BENCH_REF\`; it is not part of the project):
  a small C ublk null server with exactly the gateway's request flow (one thread and one io_uring per
  queue with COOP_TASKRUN, FETCH_REQ per tag, one submit-and-wait per batch carrying all
  COMMIT_AND_FETCH_REQs, 512 KiB per-tag buffers), to separate the JVM's cost from the ublk round trip's.

Goals:

$rounds

$goals

Results (IOPS for 4k, MiB/s for sequential; ratio = ours / kernel):

$table

### Where the time goes

$prof

<!-- ublk-frontend findings:begin (hand-written; kept when tests/bench/run.sh rewrites this section) -->
$findings
<!-- ublk-frontend findings:end -->
EOF
if [[ -f BENCHMARKS.md ]] && grep -q '^## ublk frontend' BENCHMARKS.md; then
    awk -v f="$section" '
        /^## ublk frontend/ { while ((getline l < f) > 0) print l; skip = 1; next }
        skip && /^## / { skip = 0; print "" }
        !skip' BENCHMARKS.md > BENCHMARKS.md.new
    mv BENCHMARKS.md.new BENCHMARKS.md
else
    [[ -f BENCHMARKS.md ]] || printf '# Benchmarks\n' > BENCHMARKS.md
    { echo; cat "$section"; } >> BENCHMARKS.md
fi
echo "bench: rewrote the ublk frontend section of BENCHMARKS.md"
