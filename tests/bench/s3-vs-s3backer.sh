#!/usr/bin/env bash
# End-to-end comparison of an S3 volume as a user runs it: ublk-gateway (chunked target, zstd 1 +
# aes-gcm, s3 store; `up`, then nbdcopy over NBD or dd/fio on /dev/ublkbN) against s3backer (FUSE,
# deflate 1 + AES; dd, then unmount) on one S3Proxy (scripts/s3proxy.sh, filesystem storage, its own
# process), alternating rounds.
#   tests/bench/s3-vs-s3backer.sh [--rounds N] [--size MiB] [--data FILE] [--only gateway|s3backer]
#                                 [--frontend nbd|ublk] [--no-warmup]
# Each round and system gets a fresh bucket. Before the rounds, one untimed write and read of each system
# warms S3Proxy's JIT (a real S3 is always warm; else the first system of round 1 pays for it). Measured:
#   write: ublk-gateway, nbd: `nbdcopy --flush FILE nbd://...`; ublk: `dd if=FILE of=/dev/ublkbN bs=1M
#          oflag=direct conv=fsync` (either FLUSH returns once every chunk and the map are in S3);
#          s3backer `dd bs=1M conv=fsync` then unmount until s3backer has exited (all stored)
#   cold read: a fresh `up` / mount of the same bucket, then the whole volume read: nbdcopy into a file,
#          ublk: `fio --rw=read --bs=1M --iodepth=16 --direct=1` (checked by an untimed dd), s3backer dd
#   stored: bytes of objects in the bucket
# The data (default) is a tar of /usr/lib and /usr/share/doc cut to --size MiB (compressible, like a
# system disk). s3backer needs FUSE (/dev/fuse) and `apt-get install -y s3backer`. The NBD frontend
# (default) needs no kernel module; ublk needs root and ublk_drv (tests/vm/run.sh -- $0 --frontend
# ublk). Extra gateway JVM options: UBLKGW_JAVA_OPTS; S3PROXY_JAVA_OPTS replaces JAVA_TOOL_OPTIONS
# for S3Proxy's JVM.
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
GW=$ROOT/bin/ublk-gateway
ROUNDS=2 SIZE_MIB=256 DATA="" ONLY="" FRONTEND=nbd WARMUP=1
while (($#)); do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --size) SIZE_MIB=$2; shift 2 ;;
        --data) DATA=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --frontend) FRONTEND=$2; shift 2 ;;
        --no-warmup) WARMUP=0; shift ;;
        *) sed -n '2,/^set /{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
die() { echo "s3-vs-s3backer: $*" >&2; exit 1; }
case $FRONTEND in
    nbd) tools="nbdcopy s3backer" ;;
    ublk) tools="fio s3backer"
        ((EUID == 0)) || die "--frontend ublk needs root (it serves /dev/ublkbN)"
        [[ -c /dev/ublk-control ]] || modprobe ublk_drv 2>/dev/null || true
        [[ -c /dev/ublk-control ]] || die "/dev/ublk-control is missing: load ublk_drv, or run this in tests/vm: tests/vm/run.sh -- $0 --frontend ublk" ;;
    *) die "--frontend must be nbd or ublk, not '$FRONTEND'" ;;
esac
for t in $tools; do
    command -v $t >/dev/null || die "$t is missing (apt-get install -y libnbd-bin fio s3backer)"
done
# root unmounts with umount; others need fusermount (apt-get install -y fuse)
if ((EUID == 0)); then UNMOUNT=(umount); else UNMOUNT=(fusermount -u); fi
[[ -c /dev/fuse ]] || modprobe fuse 2>/dev/null || true
[[ -c /dev/fuse ]] || die "/dev/fuse is missing: s3backer needs FUSE (run this in tests/vm: tests/vm/run.sh -- $0)"

WORK=$(mktemp -d /tmp/s3-vs-s3backer.XXXXXX)
export UBLKGW_RUN_DIR=$WORK/run UBLKGW_SHM_DIR=$WORK/shm
S3=$WORK/s3 PORT=$((20000 + RANDOM % 20000)) S3PID="" SBPID=""
SOCK=$WORK/run/bench.sock MNT=$WORK/mnt
export VOLPASS="bench passphrase" S3_KEY=test-access S3_SECRET=test-secret
EXPORT="nbd+unix:///bench?socket=$SOCK"
cleanup() {
    "$GW" down bench >/dev/null 2>&1 || true
    mountpoint -q "$MNT" 2>/dev/null && "${UNMOUNT[@]}" "$MNT" 2>/dev/null
    [[ -n $SBPID ]] && kill "$SBPID" 2>/dev/null
    [[ -n $S3PID ]] && kill "$S3PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$S3" "$MNT"

if [[ -z $DATA ]]; then
    DATA=$WORK/data
    tar cf - /usr/lib /usr/share/doc 2>/dev/null | head -c "${SIZE_MIB}M" > "$DATA" || true
fi
[[ $(stat -c %s "$DATA") -ge $((SIZE_MIB << 20)) ]] || die "$DATA is smaller than $SIZE_MIB MiB"
BYTES=$((SIZE_MIB << 20))

out=$(JAVA_TOOL_OPTIONS=${S3PROXY_JAVA_OPTS-${JAVA_TOOL_OPTIONS:-}} scripts/s3proxy.sh start "$S3" "$PORT") || die "S3Proxy did not start: $out"
S3PID=${out%% *}

now() { date +%s.%N; }
# CPU seconds (user + system) a process has used so far: where the time goes on a shared machine
cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
gw_pid() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$UBLKGW_RUN_DIR/bench.json"; }
mbps() { awk -v b="$BYTES" -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", b / (e - s) / 1e6 }'; }
stored() { find "$S3/$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1e6 }'; }
check() { cmp -n "$BYTES" "$WORK/out" "$DATA" >/dev/null || die "$1: the data read back differs"; rm -f "$WORK/out"; }

gw_yaml() { # $1 bucket
    local fe="frontend: nbd"$'\n'"    nbd-listen: [\"unix:$SOCK\"]"
    [[ $FRONTEND == ublk ]] && fe="frontend: ublk"
    cat > "$WORK/vol.yaml" <<YAML
devices:
  - name: bench
    size: ${SIZE_MIB}MiB
    $fe
    target:
      type: chunked
      chunk-size: 1MiB
      codecs:
        - {type: zstd, level: 1}
        - {type: aes-gcm, passphrase: "\${env:VOLPASS}"}
      store:
        type: s3
        bucket: $1
        endpoint: http://127.0.0.1:$PORT
        region: us-east-1
        access-key-id: \${env:S3_KEY}
        secret-access-key: \${env:S3_SECRET}
YAML
}
gw_up() { "$GW" up "$WORK/vol.yaml" > "$WORK/up.out" 2>&1 || die "up: $(cat "$WORK/up.out")"; }
gw_dev() { # the served /dev/ublkbN, from the state file
    local d
    d=$(sed -n 's/.*"blockDevice":"\([^"]*\)".*/\1/p' "$UBLKGW_RUN_DIR/bench.json")
    [[ -b $d ]] || die "gateway: no block device after up (state file says '$d')"
    echo "$d"
}
gw_down() { "$GW" down bench > "$WORK/down.out" 2>&1 || die "down: $(cat "$WORK/down.out")"; }

gateway() { # $1 round: prints "write-MB/s read-MB/s stored-MB"
    local b=gw$1 t0 t1 t2 t3
    mkdir "$S3/$b"
    gw_yaml "$b"
    gw_up
    local pid c0 c1 c2 c3 s0 s1 s2 s3
    pid=$(gw_pid) c0=$(cpu "$pid") s0=$(cpu "$S3PID") t0=$(now)
    if [[ $FRONTEND == ublk ]]; then
        local dev
        dev=$(gw_dev) || exit 1
        # fio cannot write a given file's contents: dd, 1 MiB direct writes, then fsync (the FLUSH)
        dd if="$DATA" of="$dev" bs=1M count="$SIZE_MIB" oflag=direct conv=fsync status=none || die "gateway: dd write to $dev failed"
    else
        nbdcopy --flush "$DATA" "$EXPORT" || die "gateway: nbdcopy write failed"
    fi
    t1=$(now) c1=$(cpu "$pid") s1=$(cpu "$S3PID")
    gw_down
    gw_up
    pid=$(gw_pid) c2=$(cpu "$pid") s2=$(cpu "$S3PID") t2=$(now)
    if [[ $FRONTEND == ublk ]]; then
        dev=$(gw_dev) || exit 1
        fio --name=r --filename="$dev" --rw=read --bs=1M --iodepth=16 --ioengine=io_uring --direct=1 \
            --size="${SIZE_MIB}M" > "$WORK/fio.out" 2>&1 || die "gateway: fio read failed: $(tail -3 "$WORK/fio.out")"
        t3=$(now) c3=$(cpu "$pid") s3=$(cpu "$S3PID")
        # the check reads again, untimed (from the gateway's cache by now)
        dd if="$dev" of="$WORK/out" bs=1M count="$SIZE_MIB" iflag=direct status=none || die "gateway: dd read of $dev failed"
    else
        nbdcopy "$EXPORT" "$WORK/out" || die "gateway: nbdcopy read failed"
        t3=$(now) c3=$(cpu "$pid") s3=$(cpu "$S3PID")
    fi
    gw_down
    check gateway
    echo "$(mbps "$t0" "$t1") $(mbps "$t2" "$t3") $(stored "$b") $(sub "$c0" "$c1")/$(sub "$c2" "$c3") $(sub "$s0" "$s1")/$(sub "$s2" "$s3")"
}

sb_mount() { # $1 bucket
    # no --region: it would switch to virtual-host style (bucket.127.0.0.1); aws4 signs for us-east-1
    s3backer -f --baseURL="http://127.0.0.1:$PORT/" --accessId="$S3_KEY" --accessKey="$S3_SECRET" \
        --authVersion=aws4 --blockSize=1M --size="${SIZE_MIB}M" \
        --compress=1 --encrypt --password="$VOLPASS" "$1" "$MNT" > "$WORK/s3backer.log" 2>&1 &
    SBPID=$!
    for _ in $(seq 1200); do # 60 s: slow only in an emulated VM
        [[ -e $MNT/file ]] && return 0
        kill -0 "$SBPID" 2>/dev/null || die "s3backer did not mount: $(cat "$WORK/s3backer.log")"
        sleep 0.05
    done
    die "s3backer did not mount within 60 s: $(cat "$WORK/s3backer.log")"
}
# unmounts; s3backer stores what is dirty, then exits; SB_CPU: its CPU seconds, sampled until it is gone
sb_unmount() {
    "${UNMOUNT[@]}" "$MNT"
    SB_CPU=$(cpu "$SBPID")
    while kill -0 "$SBPID" 2>/dev/null; do
        local c
        c=$(cpu "$SBPID")
        [[ $c == 0 ]] || SB_CPU=$c
        sleep 0.02
    done
    wait "$SBPID" || true
    SBPID=""
}

s3backer_run() { # $1 round
    local b=sb$1 t0 t1 t2 t3
    mkdir "$S3/$b"
    local c0 c1 c2 c3 s0 s1 s2 s3
    sb_mount "$b"
    c0=$(cpu "$SBPID") s0=$(cpu "$S3PID") t0=$(now)
    dd if="$DATA" of="$MNT/file" bs=1M count="$SIZE_MIB" conv=fsync status=none || die "s3backer: dd write failed"
    sb_unmount # returns once s3backer has stored everything and exited
    t1=$(now) s1=$(cpu "$S3PID") c1=$SB_CPU
    sb_mount "$b"
    c2=$(cpu "$SBPID") s2=$(cpu "$S3PID") t2=$(now)
    dd if="$MNT/file" of="$WORK/out" bs=1M status=none || die "s3backer: dd read failed"
    t3=$(now) c3=$(cpu "$SBPID") s3=$(cpu "$S3PID")
    sb_unmount
    check s3backer
    echo "$(mbps "$t0" "$t1") $(mbps "$t2" "$t3") $(stored "$b") $(sub "$c0" "$c1")/$(sub "$c2" "$c3") $(sub "$s0" "$s1")/$(sub "$s2" "$s3")"
}

if ((WARMUP)); then
    for sys in gateway s3backer_run; do
        [[ -z $ONLY || $sys == "$ONLY"* ]] || continue
        $sys 0 > /dev/null
    done
fi
echo "# $SIZE_MIB MiB of $( [[ $DATA == "$WORK/data" ]] && echo "tar of /usr/lib /usr/share/doc" || echo "$DATA"),"\
    "1 MiB chunks/blocks, gateway frontend $FRONTEND, S3Proxy on 127.0.0.1:$PORT; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-13s %10s %10s %10s %12s %12s\n' round system write-MB/s read-MB/s stored-MB cpu-s-w/r s3proxy-cpu-w/r
declare -a GWW GWR SBW SBR
for ((r = 1; r <= ROUNDS; r++)); do
    order=(gateway s3backer_run)
    ((r % 2 == 0)) && order=(s3backer_run gateway)
    for sys in "${order[@]}"; do
        [[ -z $ONLY || $sys == "$ONLY"* ]] || continue
        $sys "$r" > "$WORK/result"
        read -r w rd st cp sp < "$WORK/result"
        name=${sys%_run}
        printf '%-6s %-13s %10s %10s %10s %12s %12s\n' "$r" "$name" "$w" "$rd" "$st" "$cp" "$sp"
        if [[ $name == gateway ]]; then GWW+=("$w") GWR+=("$rd"); else SBW+=("$w") SBR+=("$rd"); fi
    done
done
mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
[[ -z $ONLY ]] || exit 0
gw_w=$(mean "${GWW[@]}") gw_r=$(mean "${GWR[@]}") sb_w=$(mean "${SBW[@]}") sb_r=$(mean "${SBR[@]}")
echo "mean   gateway       $(printf '%10s %10s' "$gw_w" "$gw_r")"
echo "mean   s3backer      $(printf '%10s %10s' "$sb_w" "$sb_r")"
awk -v a="$gw_w" -v b="$sb_w" -v c="$gw_r" -v d="$sb_r" \
    'BEGIN { printf "ratio gateway/s3backer: write %.2fx, cold read %.2fx\n", a / b, c / d }'
