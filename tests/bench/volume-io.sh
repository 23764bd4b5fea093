#!/usr/bin/env bash
# `volume import` / `volume export` against nbdcopy through a running gateway, on S3Proxy and on a
# directory store, alternating rounds; and what a rewrite costs on a format-2 volume.
#   tests/bench/volume-io.sh [--rounds N] [--size MiB] [--rewrites N] [--only s3|dir]
# The image (default 256 MiB) is mixed: per 16 MiB, 12 MiB of a tar of /usr/lib (compressible) and 4 MiB
# of zeros. Volumes: chunk size 1 MiB, codec zstd level 1. Measured, each a fresh volume:
#   import:       `volume import IMG NAME --store URL` (the whole command, JVM start included)
#   nbdcopy-in:   `up` (not timed), then `nbdcopy --flush IMG nbd+unix://...` and `down` (timed)
#   export:       `volume export NAME OUT --store URL` (whole command) into a new file
#   nbdcopy-out:  a fresh `up` (not timed), then `nbdcopy nbd+unix://... OUT` (timed), `down`
#   rewrite:      `up`, then the same 64 MiB region written --rewrites times (nbdcopy --flush each), `down`
# MB/s is image bytes / seconds. On S3, requests per GiB of image are counted from S3Proxy's request log
# (S3PROXY_LOG_REQUESTS=1): GET (object reads), PUT, DELETE, LIST (GET of a bucket with a prefix), HEAD.
# Prints each round, then medians and ratios (nbdcopy time / volume command time: above 1, the command is faster).
# Extra gateway JVM options: UBLKGW_JAVA_OPTS (e.g. -XX:StartFlightRecording=filename=x.jfr).
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
GW=$ROOT/bin/ublk-gateway
ROUNDS=3 SIZE_MIB=256 REWRITES=3 ONLY=""
while (($#)); do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --size) SIZE_MIB=$2; shift 2 ;;
        --rewrites) REWRITES=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        *) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
die() { echo "volume-io: $*" >&2; exit 1; }
command -v nbdcopy >/dev/null || die "nbdcopy is missing (apt-get install -y libnbd-bin)"
((SIZE_MIB % 16 == 0 && SIZE_MIB >= 64)) || die "--size must be a multiple of 16, at least 64"

WORK=$(mktemp -d /tmp/volume-io.XXXXXX)
export UBLKGW_RUN_DIR=$WORK/run UBLKGW_SHM_DIR=$WORK/shm S3_KEY=test-access S3_SECRET=test-secret
S3=$WORK/s3 PORT=$((20000 + RANDOM % 20000)) S3PID="" BUCKET=vols
SOCK=$WORK/run/bench.sock
cleanup() {
    "$GW" down bench >/dev/null 2>&1 || true
    [[ -n $S3PID ]] && kill "$S3PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$S3/$BUCKET" "$WORK/dir"
BYTES=$((SIZE_MIB << 20))
CODECS='[{type: zstd, level: 1}]'

# the image: 12 MiB of compressible data and 4 MiB of zeros, per 16 MiB
IMG=$WORK/img
tar cf - /usr/lib 2>/dev/null | head -c $((SIZE_MIB * 12 / 16))M > "$WORK/tar" || true
truncate -s "$BYTES" "$IMG"
for ((i = 0; i < SIZE_MIB / 16; i++)); do
    dd if="$WORK/tar" of="$IMG" bs=1M skip=$((i * 12)) seek=$((i * 16)) count=12 conv=notrunc status=none
done
rm "$WORK/tar"

out=$(S3PROXY_LOG_REQUESTS=1 scripts/s3proxy.sh start "$S3" "$PORT") || die "S3Proxy did not start: $out"
S3PID=${out%% *}
S3LOG=$S3.log
S3URL="s3://$BUCKET?endpoint=http://127.0.0.1:$PORT&region=us-east-1&access-key-id=\${env:S3_KEY}&secret-access-key=\${env:S3_SECRET}"

now() { date +%s.%N; }
mbps() { awk -v b="${3:-$BYTES}" -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", b / (e - s) / 1e6 }'; }
mark() { wc -l < "$S3LOG"; }
# requests in S3Proxy's log since line $1, per GiB of $2 bytes: "GET/PUT/DELETE/LIST"
requests() {
    tail -n +$(($1 + 1)) "$S3LOG" | awk -v g="$((${2:-$BYTES}))" '
        / request: Request\(/ {
            m = $0; sub(/.*Request\(/, "", m); split(m, w, " "); u = w[2]
            path = u; sub(/^https?:\/\/[^\/]*/, "", path); q = ""
            if (index(path, "?")) { q = substr(path, index(path, "?") + 1); path = substr(path, 1, index(path, "?") - 1) }
            if (w[1] == "GET" && path ~ /^\/[^\/]*\/?$/) c["LIST"]++; else c[w[1]]++
        }
        END { f = 1073741824 / g; printf "%d/%d/%d/%d", c["GET"] * f, c["PUT"] * f, c["DELETE"] * f, c["LIST"] * f }'
}
store_url() { [[ $1 == s3 ]] && echo "$S3URL" || echo "dir:$WORK/dir"; }
yaml() { # $1 store kind, $2 volume
    local store
    if [[ $1 == s3 ]]; then
        store="{type: s3, bucket: $BUCKET, prefix: $2/, endpoint: \"http://127.0.0.1:$PORT\", region: us-east-1, access-key-id: \"\${env:S3_KEY}\", secret-access-key: \"\${env:S3_SECRET}\"}"
    else
        store="{type: directory, path: $WORK/dir/$2}"
    fi
    cat > "$WORK/vol.yaml" <<YAML
devices:
  - name: bench
    size: ${SIZE_MIB}MiB
    frontend: nbd
    nbd-listen: ["unix:$SOCK"]
    target:
      type: chunked
      chunk-size: 1MiB
      codecs: $CODECS
      store: $store
YAML
}
EXPORT="nbd+unix:///bench?socket=$SOCK"
up() { "$GW" up "$WORK/vol.yaml" > "$WORK/up.out" 2>&1 || die "up: $(cat "$WORK/up.out")"; }
down() { "$GW" down bench > "$WORK/down.out" 2>&1 || die "down: $(cat "$WORK/down.out")"; }
vol() { "$GW" volume "$@" > "$WORK/vol.out" 2>&1 || die "volume $1: $(cat "$WORK/vol.out")"; }
check() { cmp -n "$BYTES" "$1" "$IMG" > /dev/null || die "$2: the data differs"; rm -f "$1"; }
s3log() { [[ $1 == s3 ]] && mark || echo 0; }
reqs() { [[ $1 == s3 ]] && requests "$2" || echo "-"; }

# one way of moving the image in and out: prints "in-MB/s out-MB/s in-requests out-requests"
cli_way() { # $1 store, $2 volume
    local t0 t1 t2 t3 m0 m1 m2 r1
    m0=$(s3log "$1") t0=$(now)
    vol import "$IMG" "$2" --store "$(store_url "$1")" --codecs "$CODECS"
    t1=$(now) r1=$(reqs "$1" "$m0")
    m1=$(s3log "$1") t2=$(now)
    vol export "$2" "$WORK/out" --store "$(store_url "$1")" --codecs "$CODECS"
    t3=$(now)
    check "$WORK/out" "export"
    echo "$(mbps "$t0" "$t1") $(mbps "$t2" "$t3") $r1 $(reqs "$1" "$m1")"
}
nbd_way() { # $1 store, $2 volume
    local t0 t1 t2 t3 m0 m1 r1
    yaml "$1" "$2"
    up
    m0=$(s3log "$1") t0=$(now)
    nbdcopy --flush "$IMG" "$EXPORT" || die "nbdcopy in failed"
    down
    t1=$(now) r1=$(reqs "$1" "$m0")
    up
    m1=$(s3log "$1") t2=$(now)
    nbdcopy "$EXPORT" "$WORK/out" || die "nbdcopy out failed"
    t3=$(now)
    down
    check "$WORK/out" "nbdcopy out"
    echo "$(mbps "$t0" "$t1") $(mbps "$t2" "$t3") $r1 $(reqs "$1" "$m1")"
}
# format 2: the same 64 MiB region written again and again; prints "MB/s requests-per-rewrite"
rewrite() { # $1 store, $2 volume
    local m0 t0 t1 n=$REWRITES
    head -c 64M "$IMG" > "$WORK/region"
    yaml "$1" "$2"
    up
    nbdcopy --flush "$WORK/region" "$EXPORT"
    sleep 1   # replaced objects are deleted in the background
    m0=$(s3log "$1") t0=$(now)
    for ((k = 0; k < n; k++)); do nbdcopy --flush "$WORK/region" "$EXPORT"; done
    down
    t1=$(now)
    echo "$(mbps "$t0" "$t1" $((n * 64 << 20))) $(if [[ $1 == s3 ]]; then requests "$m0" $((n * 64 << 20)); else echo -; fi)"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "# $SIZE_MIB MiB image (12 MiB of tar of /usr/lib + 4 MiB zeros per 16 MiB), chunk 1 MiB, zstd 1;" \
    "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); requests per GiB as GET/PUT/DELETE/LIST (S3Proxy log)"
printf '%-5s %-5s %-8s %9s %9s %18s %18s\n' store round way in-MB/s out-MB/s in-req/GiB out-req/GiB
for store in s3 dir; do
    [[ -z $ONLY || $ONLY == "$store" ]] || continue
    declare -a CI=() CO=() NI=() NO=()
    for ((r = 1; r <= ROUNDS; r++)); do
        order=(cli_way nbd_way)
        ((r % 2 == 0)) && order=(nbd_way cli_way)
        for way in "${order[@]}"; do
            $way "$store" "$store-${way%_way}-$r" > "$WORK/result"
            read -r i o ri ro < "$WORK/result"
            name=$([[ $way == cli_way ]] && echo volume || echo nbdcopy)
            printf '%-5s %-5s %-8s %9s %9s %18s %18s\n' "$store" "$r" "$name" "$i" "$o" "$ri" "$ro"
            if [[ $way == cli_way ]]; then CI+=("$i") CO+=("$o"); else NI+=("$i") NO+=("$o"); fi
        done
    done
    ci=$(median "${CI[@]}") co=$(median "${CO[@]}") ni=$(median "${NI[@]}") no=$(median "${NO[@]}")
    echo "median $store: import $ci MB/s vs nbdcopy-in $ni MB/s ($(awk -v a="$ci" -v b="$ni" 'BEGIN { printf "%.2f", a / b }')x);" \
        "export $co MB/s vs nbdcopy-out $no MB/s ($(awk -v a="$co" -v b="$no" 'BEGIN { printf "%.2f", a / b }')x)"
    # the volume commands start a JVM (and load the store's client) inside the measured time; the gateway did so in `up`
    js=()
    for _ in 1 2 3; do t0=$(now); "$GW" volume --help > /dev/null; js+=("$(awk -v s="$t0" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }')"); done
    j=$(median "${js[@]}")
    wo() { awk -v b="$BYTES" -v m="$1" -v j="$j" 'BEGIN { printf "%.1f", b / 1e6 / (b / 1e6 / m - j) }'; }
    echo "  (JVM start, median of 3 \`volume --help\`: $j s; without it: import $(wo "$ci") MB/s, export $(wo "$co") MB/s)"
    rewrite "$store" "$store-rewrite" > "$WORK/result"
    read -r rw rq < "$WORK/result"
    echo "rewrite $store: the same 64 MiB written $REWRITES times (nbdcopy --flush each): $rw MB/s; requests per GiB rewritten $rq"
done
