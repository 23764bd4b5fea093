#!/usr/bin/env bash
# Benchmark (not a test): the file target's copying and zero-copy data paths against the C reference
# server ublksrv (its `loop` target, built here from a source snapshot; not part of the project) and the
# kernel's loop device, all on one RAM-backed null_blk (memory_backed=1) with O_DIRECT, in one VM boot.
# Rounds are interleaved (each round runs every device's jobs, the order rotated per round), so a slow
# minute of a shared host hits all of them; the report takes each job's median over the rounds.
#
#   tests/bench/file-zc.sh --ublksrv-git DIR --liburing-git DIR [--rounds N] [--runtime S] [--kernel K] [--out DIR]
#
#   --ublksrv-git DIR   a git repository of ublksrv (its HEAD is built with autotools)
#   --liburing-git DIR  a git repository of liburing (HEAD, linked statically: ublksrv needs a newer
#                       liburing than Debian 12's 2.3)
#   --rounds N          interleaved rounds (default 3); --runtime S seconds per fio job (default 5)
#   --kernel K          guest kernel, as tests/vm/run.sh takes it (default 7; 6.12 has no zero copy)
#   --report-only DIR   print an earlier run's table again
#
# Needs autoconf, automake, libtool, pkg-config and g++ on the host (apt-get install the missing ones).
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
source scripts/lib/jdk.sh

rounds=3 runtime=5 kernel=7 out="" usrc="" lsrc="" report_only=""
while (($#)); do
    case $1 in
        --rounds) rounds=${2:?}; shift 2 ;;
        --runtime) runtime=${2:?}; shift 2 ;;
        --kernel) kernel=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --ublksrv-git) usrc=${2:?}; shift 2 ;;
        --liburing-git) lsrc=${2:?}; shift 2 ;;
        --report-only) report_only=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "file-zc: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

report() {
    # results.tsv: round device rw qd iops. Median per (device, rw, qd), then ratios.
    awk -F'\t' '
        { k = $2 SUBSEP $3 SUBSEP $4; v[k] = v[k] " " $5; at[k SUBSEP $1] = $5; if ($1 > nr) nr = $1 }
        function median(s,   a, n, i, j, t) {
            n = split(s, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        END {
            printf "| job | kernel loop | ublksrv loop | file copy | file zero-copy | zc / ublksrv | copy / ublksrv | zc / kernel loop | zc / copy | zc / ublksrv per round |\n"
            printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
            n = split("randread:32 randwrite:32 randread:1 randwrite:1", jobs, " ")
            for (i = 1; i <= n; i++) {
                split(jobs[i], p, ":"); rw = p[1]; qd = p[2]
                k = median(v["kloop" SUBSEP rw SUBSEP qd]); u = median(v["ublksrv" SUBSEP rw SUBSEP qd])
                c = median(v["copy" SUBSEP rw SUBSEP qd]); z = median(v["zc" SUBSEP rw SUBSEP qd])
                pr = ""
                for (r = 1; r <= nr; r++) {
                    a = at["zc" SUBSEP rw SUBSEP qd SUBSEP r]; b = at["ublksrv" SUBSEP rw SUBSEP qd SUBSEP r]
                    pr = pr sprintf(" %.2f", b ? a / b : 0)
                }
                printf "| 4k %s QD%s | %d | %d | %d | %d | **%.2fx** | %.2fx | %.2fx | %.2fx |%s |\n", rw, qd, k, u, c, z,
                    u ? z / u : 0, u ? c / u : 0, k ? z / k : 0, c ? z / c : 0, pr
            }
        }' "$1/results.tsv"
}

if [[ -n $report_only ]]; then report "$report_only"; exit 0; fi
[[ -d $usrc && -d $lsrc ]] || { echo "file-zc: give --ublksrv-git DIR and --liburing-git DIR (git repositories)" >&2; exit 2; }
JDK=$(find_java_home) || { echo "file-zc: needs a JDK >= 25" >&2; exit 1; }
for t in autoreconf make g++ pkg-config libtoolize; do
    command -v $t > /dev/null || { echo "file-zc: $t is missing (apt-get install autoconf automake libtool pkg-config g++)" >&2; exit 1; }
done
bash tests/vm/install-deps.sh > /dev/null
out=${out:-$ROOT/.vm-out/file-zc-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(realpath "$out")

# The reference server, built from the given snapshots (kept per pair of commits).
urev=$(git --git-dir="$usrc" rev-parse --short HEAD 2>/dev/null || git -C "$usrc" rev-parse --short HEAD)
lrev=$(git --git-dir="$lsrc" rev-parse --short HEAD 2>/dev/null || git -C "$lsrc" rev-parse --short HEAD)
build=$ROOT/.vm-out/ublksrv-$urev-liburing-$lrev
if [[ ! -x $build/ublksrv/ublk.loop ]]; then
    echo "file-zc: building ublksrv $urev with liburing $lrev in $build"
    rm -rf "$build" && mkdir -p "$build/ublksrv" "$build/liburing"
    archive() { git --git-dir="$1" archive HEAD 2>/dev/null || git -C "$1" archive HEAD; }
    archive "$lsrc" | tar -x -C "$build/liburing"
    archive "$usrc" | tar -x -C "$build/ublksrv"
    L=$build/liburing
    (cd "$L" && ./configure && make -j2 -C src) > "$build/liburing.log" 2>&1 || { echo "file-zc: liburing build failed ($build/liburing.log)" >&2; exit 1; }
    rm -f "$L"/src/liburing*.so* # link it statically: the guest has only Debian's older liburing.so.2
    (cd "$build/ublksrv" && autoreconf -i && PKG_CONFIG_PATH=$L ./configure --disable-shared --enable-static \
        CFLAGS="-I$L/src/include -O2" CXXFLAGS="-I$L/src/include -O2" LDFLAGS="-L$L/src" LIBS="-lstdc++" \
        && make -j2) > "$build/ublksrv.log" 2>&1 || { echo "file-zc: ublksrv build failed ($build/ublksrv.log)" >&2; exit 1; }
fi

bin/ublk-gateway --version > /dev/null
main_class=$(sed -n 's/^readonly MAIN_CLASS=//p' bin/ublk-gateway)
rm -rf "$out/app" && mkdir -p "$out/app"
jar=$(ls -t gateway-core/target/gateway-core-*.jar | grep -v -e '-tests.jar' -e '-sources.jar' -e '-javadoc.jar' | head -1)
cp "$jar" gateway-core/target/lib/*.jar "$out/app/"
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- gateway-core plugin-api || commit="$commit + uncommitted changes"
echo "file-zc: gateway $commit, ublksrv $urev (liburing $lrev), kernel $kernel, $rounds rounds of ${runtime}s jobs; results in $out"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rc=0
tests/vm/run.sh --kernel "$kernel" --out "$out" --timeout 3000 -- \
    bash "$ROOT/tests/bench/file-zc-guest.sh" "$out" "$out/app" "$JDK" "$main_class" "$build/ublksrv" "$rounds" "$runtime" \
    > "$out/console.log" 2>&1 || rc=$?
echo "host load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/host-load.txt"
((rc == 0)) || echo "file-zc: the VM reported status $rc (see $out/console.log)" >&2
echo "gateway $commit; ublksrv $urev; $(cat "$out/env.txt" 2>/dev/null)"
report "$out"
