#!/usr/bin/env bash
# Benchmark (not a test): ublk-gateway's null, memory and file targets against the kernel's own
# null_blk and loop devices, measured side by side with fio inside the VM test bed (one VM boot per
# run), plus a profile of where a null-target request's time goes. Prints the tables and the goal
# ratios and writes BENCHMARKS.md (its "Findings" section is kept across runs).
#
#   scripts/bench/run.sh [--runs N] [--runtime S] [--ramp S] [--out DIR] [--phases LIST] [--no-write]
#
#   --runs N      VM boots, each running the whole matrix (default 2); ratios are compared within a run
#   --runtime S   seconds per fio job (default 5), after --ramp S seconds of warm-up (default 1)
#   --out DIR     where raw results go (default .vm-out/bench-DATE)
#   --phases LIST which parts to run (default "null memory file profile"; profile = /proc
#                 accounting, JFR and perf of a null-target run)
#   --no-write    print only; leave BENCHMARKS.md alone
#
# One run takes about 10 minutes on a 2-core host (62 fio jobs under TCG emulation).
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
source scripts/lib/jdk.sh

runs=2 runtime=5 ramp=1 out="" phases="null memory file profile" write=1
cmdline="scripts/bench/run.sh${*:+ $*}"
while (($#)); do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        --runtime) runtime=${2:?}; shift 2 ;;
        --ramp) ramp=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --phases) phases=${2:?}; shift 2 ;;
        --no-write) write=0; shift ;;
        -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

JDK=$(find_java_home) || { echo "bench: needs a JDK >= 22" >&2; exit 1; }
bash scripts/vm/install-deps.sh >/dev/null

# Build on the host (the VM sees the tree read-only), then snapshot the jars: other work on the tree
# during the run must not change what is measured, nor make the launcher rebuild inside the VM.
bin/ublk-gateway --version >/dev/null
main_class=$(sed -n 's/^readonly MAIN_CLASS=//p' bin/ublk-gateway)
[[ -n $main_class ]] || { echo "bench: cannot read MAIN_CLASS from bin/ublk-gateway" >&2; exit 1; }
out=${out:-$ROOT/.vm-out/bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(realpath "$out")
rm -rf "$out/app" && mkdir -p "$out/app"
jar=$(ls -t gateway-core/target/gateway-core-*.jar | grep -v -e '-tests.jar' -e '-sources.jar' -e '-javadoc.jar' | head -1)
cp "$jar" gateway-core/target/lib/*.jar "$out/app/"
# The C reference server (same request flow as the gateway's queue loop, no JVM), if a compiler is here.
if command -v gcc > /dev/null && [[ -f scripts/bench/ublk-null-ref.c ]]; then
    gcc -O2 -Wall -pthread -o "$out/app/ublk-null-ref" scripts/bench/ublk-null-ref.c \
        || echo "bench: could not build the C reference server; its column stays empty" >&2
else
    echo "bench: no C reference server (scripts/bench/ublk-null-ref.c, not part of the project); its column stays empty" >&2
fi
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- gateway-core plugin-api plugins 2>/dev/null || commit="$commit + uncommitted changes"
echo "bench: measuring $(basename "$jar") built from $commit; results in $out"

for i in $(seq "$runs"); do
    echo "bench: run $i of $runs (VM)"
    rm -rf "$out/run$i" && mkdir -p "$out/run$i"
    rc=0
    load_before=$(cut -d' ' -f1-3 /proc/loadavg) start=$SECONDS
    scripts/vm/run.sh --out "$out/run$i" --timeout 2400 -- \
        bash "$ROOT/scripts/bench/guest.sh" "$out/run$i" "$out/app" "$JDK" "$main_class" "$runtime" "$ramp" "$phases" \
        > "$out/run$i/console.log" 2>&1 || rc=$?
    echo "run $i: $((SECONDS - start)) s; host load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)" \
        > "$out/run$i/host-load.txt"
    cat "$out/run$i/host-load.txt"
    ((rc == 0)) || echo "bench: run $i: the VM reported status $rc (see $out/run$i/console.log)" >&2
    # The JFR recording is analysed here: the JDK's tools start far faster on the host than under TCG.
    [[ -s $out/run$i/profile/null-randread-qd32.jfr ]] && scripts/bench/report.sh jfr "$out/run$i/profile" "$JDK"
done

table=$(scripts/bench/report.sh table "$out")
goals=$(scripts/bench/report.sh goals "$out")
prof=""
[[ " $phases " != *" profile "* ]] || prof=$(scripts/bench/report.sh profile "$out")
printf '\n%s\n\n%s\n' "$goals" "$table"
[[ -z $prof ]] || printf '\n%s\n' "$prof"

((write)) || exit 0

env1=$out/run1/env.txt
field() { sed -n "s/^$1: //p" "$env1" 2>/dev/null | head -1; }
host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
# The hand-written findings survive regeneration.
findings=""
if [[ -f BENCHMARKS.md ]]; then
    findings=$(awk '/^<!-- findings:begin/ { on = 1; next } /^<!-- findings:end/ { on = 0 } on' BENCHMARKS.md)
fi
[[ -n $findings ]] || findings="(none written yet)"

cat > BENCHMARKS.md <<EOF
# Benchmarks

ublk-gateway's targets against the kernel's own block drivers, measured side by side with fio in the
project's VM test bed. Absolute numbers swing by ±30% between runs on this machine (emulated CPU,
shared host); compare the ratios, which are taken within one run with ours and the kernel's jobs
interleaved.

## How this was run

- Command: \`$cmdline\` (from the repository root; results and raw profiles in \`.vm-out/bench-*\`)
- Date: $(field date)
- Measured build: gateway-core at $commit
- Machine: QEMU TCG VM (no KVM) with $(field cpus) vCPUs and $(field memory) on a $(nproc)-core host ($host_cpu);
  guest kernel $(field kernel) (Debian bookworm-backports), $(field java), $(field fio)
- fio: \`ioengine=io_uring direct=1 time_based runtime=${runtime}s ramp_time=${ramp}s norandommap\`, one job per
  queue (\`numjobs\` = device queues), scheduler \`none\` on every device under test
- Runs: $runs (one VM boot each, every test in every run). Host load while they ran (the host has $(nproc) cores; a
  load above 2 means the VM's vCPUs were competing with other work):
$(cat "$out"/run*/host-load.txt 2>/dev/null | sed 's/^/  - /')

## Goals

$goals

## Results

IOPS for 4k, MiB/s for sequential. "ours" is the ublk device served by the gateway, "kernel" the kernel
driver named in the section title, "C reference" the small C ublk server described under Setup.

$table

## Setup

- **null**: a \`null\` target device (16 GiB, depth 128, max-io-size 512 KiB, 1 or 2 queues) against a
  null_blk device created through configfs with \`queue_mode=2 irqmode=0 memory_backed=0\`, the same
  number of submit queues, \`hw_queue_depth=128\` and \`max_sectors=1024\` (512 KiB; its default of 127 KiB
  would split every 128k request in two).
- **C reference** (null section only): \`scripts/bench/ublk-null-ref.c\`, about 300 lines of C built on the
  host with gcc. It serves a null device with exactly the gateway's request flow (one thread and one
  io_uring per queue with \`COOP_TASKRUN\`, the char device as fixed file 0, FETCH_REQ per tag, then one
  submit-and-wait per batch carrying all COMMIT_AND_FETCH_REQs, 512 KiB per-tag buffers, depth 128), so
  "ours / C reference" is what the JVM side costs and "C reference / kernel" what the ublk round trip
  itself costs on this machine.
- **memory**: a \`memory\` target device (512 MiB) against null_blk with \`memory_backed=1\` (a kernel RAM
  disk with the same queue settings). Both are written in full first, so reads never hit holes.
- **file**: one 1 GiB file, written in full, on ext4 on a RAM-backed null_blk (\`memory_backed=1\`,
  1400 MiB). The kernel side is \`losetup --direct-io=on --sector-size 4096\` on that file (the script
  checks \`/sys/block/loopN/loop/dio\` is 1); our side is a \`file\` target on the same file with
  \`direct: true\`, one queue. Both therefore go through ext4's O_DIRECT path to the same RAM disk with no
  page cache in between. Why not the alternatives: the guest's tmpfs does not do O_DIRECT, so loop would
  silently fall back to buffered I/O and the comparison would be one of page caches; a buffered
  (\`direct: false\`) pair would measure page-cache copies rather than the request path. \`brd\` is not
  in the VM's module set; null_blk \`memory_backed=1\` is the same kind of RAM disk.
- The sequential rows use one queue and QD16; a 1 MiB request is split into two 512 KiB ones on both sides.

## Where the time goes

$prof

<!-- findings:begin (kept when scripts/bench/run.sh rewrites this file) -->
$findings
<!-- findings:end -->
EOF
echo "bench: wrote BENCHMARKS.md"
