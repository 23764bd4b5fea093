#!/usr/bin/env bash
# Benchmark (not a test): the file target's copying and zero-copy data paths against the C reference
# server ublksrv (its `loop` target, built here from a source snapshot; not part of the project) and the
# kernel's loop device, all on one RAM-backed null_blk (memory_backed=1) with O_DIRECT, in one VM boot.
# Rounds are interleaved (each round runs every device's jobs, the order rotated per round), so a slow
# minute of a shared host hits all of them; the report takes each job's median over the rounds.
#
#   tests/bench/file-zc.sh --ublksrv-git DIR --liburing-git DIR [--rounds N] [--runtime S] [--kernel K]
#                          [--null] [--batch] [--profile] [--out DIR]
#
#   --ublksrv-git DIR   a git repository of ublksrv (its HEAD is built with autotools)
#   --liburing-git DIR  a git repository of liburing (HEAD, linked statically: ublksrv needs a newer
#                       liburing than Debian 12's 2.3)
#   --rounds N          interleaved rounds (default 3); --runtime S seconds per fio job (default 5)
#   --kernel K          guest kernel, as tests/vm/run.sh takes it (default 7; 6.12 has no zero copy, so
#                       its zero-copy device is left out)
#   --null              also the null pair in the same rounds: `ublk.null add -t null -q 1 -d 128` against
#                       a gateway `null` device (1 queue of 128, in the same gateway as the file devices)
#   --batch             also the gateway's devices with batch-io: true (BATCH_IO: requests fetched and
#                       answers committed in batches), in the same gateway and rounds; a third table
#                       compares each with its per-request twin (Linux 7.x: 6.12 has no BATCH_IO)
#   --profile           after the rounds, perf samples (cpu-clock, 1 per ms) of the copying file device's
#                       gateway and of ublksrv's loop target, each under 4k randread QD32, and counts their
#                       io_uring_enter calls; reports and summary.tsv in OUT/profile/
#   --report-only DIR   print an earlier run's tables again
#
# Needs autoconf, automake, libtool, pkg-config and g++ on the host (apt-get install the missing ones).
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
source scripts/lib/jdk.sh
source tests/bench/app-snapshot.sh

rounds=3 runtime=5 kernel=7 out="" usrc="" lsrc="" report_only="" extras=""
while (($#)); do
    case $1 in
        --rounds) rounds=${2:?}; shift 2 ;;
        --runtime) runtime=${2:?}; shift 2 ;;
        --kernel) kernel=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --ublksrv-git) usrc=${2:?}; shift 2 ;;
        --liburing-git) lsrc=${2:?}; shift 2 ;;
        --null) extras+=null,; shift ;;
        --profile) extras+=profile,; shift ;;
        --batch) extras+=batch,; shift ;;
        --report-only) report_only=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "file-zc: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

report() {
    # results.tsv: round device rw qd iops. Median per (device, rw, qd), then ratios; "-" where a device
    # was not in the run (no zero copy on Linux < 6.16, the null pair only with --null).
    awk -F'\t' '
        { k = $2 SUBSEP $3 SUBSEP $4; v[k] = v[k] " " $5; at[k SUBSEP $1] = $5; if ($1 > nr) nr = $1; has[$2] = 1 }
        function median(s,   a, n, i, j, t) {
            n = split(s, a, " ")
            if (n == 0) return 0
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function num(x) { return x ? sprintf("%d", x) : "-" }
        function ratio(a, b) { return (a && b) ? sprintf("%.2fx", a / b) : "-" }
        function rounds(a, b, rw, qd,   r, x, y, pr) {
            pr = ""
            for (r = 1; r <= nr; r++) {
                x = at[a SUBSEP rw SUBSEP qd SUBSEP r]; y = at[b SUBSEP rw SUBSEP qd SUBSEP r]
                pr = pr ((x && y) ? sprintf(" %.2f", x / y) : " -")
            }
            return pr
        }
        END {
            n = split("randread:32 randwrite:32 randread:1 randwrite:1", jobs, " ")
            if (has["kloop"] || has["ublksrv"] || has["copy"] || has["zc"]) {
                best = has["zc"] ? "zc" : "copy"
                printf "| job | kernel loop | ublksrv loop | file copy | file zero-copy | zc / ublksrv | copy / ublksrv | zc / kernel loop | copy / kernel loop | zc / copy | %s / ublksrv per round |\n", best
                printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
                for (i = 1; i <= n; i++) {
                    split(jobs[i], p, ":"); rw = p[1]; qd = p[2]
                    k = median(v["kloop" SUBSEP rw SUBSEP qd]); u = median(v["ublksrv" SUBSEP rw SUBSEP qd])
                    c = median(v["copy" SUBSEP rw SUBSEP qd]); z = median(v["zc" SUBSEP rw SUBSEP qd])
                    printf "| 4k %s QD%s | %s | %s | %s | %s | **%s** | %s | %s | %s | %s |%s |\n", rw, qd, num(k), num(u), num(c), num(z),
                        ratio(z, u), ratio(c, u), ratio(z, k), ratio(c, k), ratio(z, c), rounds(best, "ublksrv", rw, qd)
                }
            }
            if (has["bcp"] || has["bzc"] || has["bnull"]) {
                printf "\n| job | copy | copy, batched | batched / per request | zero copy | zero copy, batched | batched / per request | null | null, batched | batched / per request |\n"
                printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
                for (i = 1; i <= n; i++) {
                    split(jobs[i], p, ":"); rw = p[1]; qd = p[2]
                    c = median(v["copy" SUBSEP rw SUBSEP qd]); bc = median(v["bcp" SUBSEP rw SUBSEP qd])
                    z = median(v["zc" SUBSEP rw SUBSEP qd]); bz = median(v["bzc" SUBSEP rw SUBSEP qd])
                    g = median(v["null" SUBSEP rw SUBSEP qd]); bg = median(v["bnull" SUBSEP rw SUBSEP qd])
                    printf "| 4k %s QD%s | %s | %s | **%s** | %s | %s | **%s** | %s | %s | **%s** |\n", rw, qd, num(c), num(bc), ratio(bc, c),
                        num(z), num(bz), ratio(bz, z), num(g), num(bg), ratio(bg, g)
                }
            }
            if (has["null"] || has["unull"]) {
                printf "\n| job | ublksrv null | gateway null | null / ublksrv | null / ublksrv per round |\n"
                printf "|---|---:|---:|---:|---|\n"
                for (i = 1; i <= n; i++) {
                    split(jobs[i], p, ":"); rw = p[1]; qd = p[2]
                    u = median(v["unull" SUBSEP rw SUBSEP qd]); g = median(v["null" SUBSEP rw SUBSEP qd])
                    printf "| 4k %s QD%s | %s | %s | **%s** |%s |\n", rw, qd, num(u), num(g), ratio(g, u), rounds("null", "unull", rw, qd)
                }
            }
        }' "$1/results.tsv"
    if [[ -f $1/profile/summary.tsv ]]; then
        echo
        echo "profile (4k randread QD32; per request of the device):"
        column -t -s $'\t' "$1/profile/summary.tsv"
    fi
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
main_class=$(launcher_main_class "$ROOT") || exit 1
snapshot_jars "$ROOT" "$out/app" > /dev/null || exit 1
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- gateway-core plugin-api || commit="$commit + uncommitted changes"
echo "file-zc: gateway $commit, ublksrv $urev (liburing $lrev), kernel $kernel, $rounds rounds of ${runtime}s jobs${extras:+, with ${extras%,}}; results in $out"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rc=0
tests/vm/run.sh --kernel "$kernel" --out "$out" --timeout 3000 -- \
    bash "$ROOT/tests/bench/file-zc-guest.sh" "$out" "$out/app" "$JDK" "$main_class" "$build/ublksrv" "$rounds" "$runtime" "$extras" \
    > "$out/console.log" 2>&1 || rc=$?
echo "host load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/host-load.txt"
((rc == 0)) || echo "file-zc: the VM reported status $rc (see $out/console.log)" >&2
echo "gateway $commit; ublksrv $urev; $(cat "$out/env.txt" 2>/dev/null)"
report "$out"
