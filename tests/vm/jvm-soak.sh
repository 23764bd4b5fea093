#!/usr/bin/env bash
# Proves (or disproves) that JVMs survive the VM test bed: boots the VM N times; in each boot starts
# three gateways with `up` (memory, file and null-with-a-stage devices; the JVM options the test
# bed gives every guest JVM, tests/vm/guest-jvm-opts.sh), runs fio with crc32c verify on all
# three at once, then `list` and `down`. Any JVM that dies (an hs_err file, a gateway gone before
# `down`, a CLI exit >= 128) counts as a crash; anything else that goes wrong counts as a failure.
#
#   tests/vm/jvm-soak.sh [--boots N] [--kernel K] [--tcg single|multi] [--smp N] [--io-seconds S] [--out DIR]
#
# Defaults: 20 boots, the run.sh defaults for kernel, tcg and smp, 10 s of I/O per boot,
# out dir .vm-out/jvm-soak (emptied first; per-boot logs and any hs_err files stay there).
# Prints one line per boot and a SUMMARY; exit status 0 only when no boot crashed or failed.
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
# shellcheck source=../lib/hs-err.sh
source "$ROOT/scripts/lib/hs-err.sh"

# ---- inside the guest: one boot's work ------------------------------------------------------
if [[ ${1:-} == --in-guest ]]; then
    out=$2 io=$3
    gw=$ROOT/bin/ublk-gateway
    # the test bed's JVM options (guest-jvm-opts.sh); every JVM of this boot, CLI calls included,
    # writes its crash report where the host sees it
    export UBLKGW_SCRIPT_JIT=0 JAVA_TOOL_OPTIONS="${SOAK_JVM_OPTS:-} -XX:ErrorFile=$out/hs_err_pid%p.log"
    w=/tmp/soak
    mkdir -p "$w"
    cd "$w"
    fail() { echo "FAILURE: $*"; }
    jvm() { # a CLI call; exit >= 128 means its JVM died of a signal
        local rc=0 c0=$SECONDS
        "$gw" "$@" > "$w/cli.out" 2>&1 || rc=$?
        echo "    ublk-gateway $*: exit $rc, $((SECONDS - c0)) s"
        sed 's/^/    /' "$w/cli.out" | grep -v 'Picked up JAVA_TOOL_OPTIONS' || true
        if ((rc >= 128)); then echo "CRASH: ublk-gateway $* died with exit $rc"; fi
        return "$rc"
    }
    cat > m.yaml <<'EOF'
devices:
  - {name: soakm, size: 256MiB, queues: 2, depth: 64, target: {type: memory}}
EOF
    cat > f.yaml <<'EOF'
devices:
  - {name: soakf, size: 256MiB, target: {type: file, path: f.img, create: true, direct: false}}
EOF
    cat > n.yaml <<'EOF'
devices:
  - {name: soakn, size: 256MiB, stages: [{type: stats}], target: {type: null}}
EOF
    t0=$SECONDS
    for n in m f n; do jvm up "$n.yaml" || fail "up $n.yaml"; done
    echo "    gateways up after $((SECONDS - t0)) s"
    declare -A pid=() dev=()
    for n in m f n; do
        st=/run/ublk-gateway/soak$n.json
        pid[$n]=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$st" 2> /dev/null)
        dev[$n]=$(sed -n 's/.*"blockDevice":"\([^"]*\)".*/\1/p' "$st" 2> /dev/null)
    done
    fios=()
    fio_bg() { # ROUND N FIO-OPTIONS...: fio on device N in the background, its report in fio-ROUND-N.txt
        local round=$1 n=$2
        shift 2
        [[ -b ${dev[$n]:-} ]] || return 0
        fio --name="soak$n" --filename="${dev[$n]}" --direct=1 --ioengine=io_uring --bs=4k "$@" \
            --output="$w/fio-$round-$n.txt" > /dev/null 2>&1 &
        fios+=("$!:$round-$n")
    }
    wait_fios() {
        local f
        for f in "${fios[@]}"; do
            wait "${f%%:*}" || fail "fio $f (exit $?): $(grep -m1 -iE 'error|verify' "$w/fio-${f#*:}.txt" 2> /dev/null)"
        done
        fios=()
    }
    fio_bg 1 m --iodepth=16 --rw=randwrite --size=48M --verify=crc32c --do_verify=1
    fio_bg 1 f --iodepth=16 --rw=randwrite --size=48M --verify=crc32c --do_verify=1
    fio_bg 1 n --iodepth=16 --rw=randrw --time_based --runtime="$io"
    wait_fios
    # a second round of reads on the written devices keeps the gateways busy for the I/O time
    fio_bg 2 m --iodepth=32 --rw=randread --time_based --runtime="$io"
    fio_bg 2 f --iodepth=32 --rw=randread --time_based --runtime="$io"
    wait_fios
    echo "    I/O done after $((SECONDS - t0)) s"
    for n in m f n; do
        if [[ -n ${pid[$n]:-} ]] && ! kill -0 "${pid[$n]}" 2> /dev/null; then
            echo "CRASH: the gateway of soak$n (pid ${pid[$n]}) is gone before down"
            tail -3 "/run/ublk-gateway/soak$n.log" 2> /dev/null | sed 's/^/    /'
        fi
    done
    jvm list || fail "list"
    for n in m f n; do jvm down "soak$n" || fail "down soak$n"; done
    shopt -s nullglob
    for h in "$out"/hs_err_pid*.log; do echo "CRASH: $(basename "$h"): $(hs_err_summary "$h")"; done
    echo "    boot done after $((SECONDS - t0)) s"
    exit 0
fi

# ---- on the host: N boots --------------------------------------------------------------------
BOOTS=20 IO=10 OUT=$ROOT/.vm-out/jvm-soak
vmargs=()
while (($#)); do
    case $1 in
        --boots) BOOTS=${2:?}; shift 2 ;;
        --io-seconds) IO=${2:?}; shift 2 ;;
        --out) OUT=${2:?}; shift 2 ;;
        --kernel | --tcg | --smp) vmargs+=("$1" "${2:?}"); shift 2 ;;
        -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "jvm-soak: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
cd "$ROOT"
bin/ublk-gateway --version > /dev/null # build here: the VM sees the tree read-only
export SOAK_JVM_OPTS=$(tests/vm/guest-jvm-opts.sh bin/ublk-gateway)
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
rm -rf "${OUT:?}"/boot-*
crashes=0 failures=0 crashed_boots=0
t0=$SECONDS
for ((i = 1; i <= BOOTS; i++)); do
    d=$OUT/boot-$i
    mkdir -p "$d"
    b0=$SECONDS
    rc=0
    tests/vm/run.sh "${vmargs[@]}" --env SOAK_JVM_OPTS --out "$d" --timeout 900 -- bash "$ROOT/tests/vm/jvm-soak.sh" --in-guest "$d" "$IO" > "$d/console.log" 2>&1 || rc=$?
    c=$(grep -c '^CRASH:' "$d/console.log" || true)
    f=$(grep -c '^FAILURE:' "$d/console.log" || true)
    ((rc == 0)) || { f=$((f + 1)); echo "FAILURE: the VM run ended with exit $rc" >> "$d/console.log"; }
    crashes=$((crashes + c)) failures=$((failures + f))
    ((c == 0)) || crashed_boots=$((crashed_boots + 1))
    printf 'boot %2d: %d crash(es), %d failure(s), %d s\n' "$i" "$c" "$f" $((SECONDS - b0))
    grep -E '^(CRASH|FAILURE):' "$d/console.log" | sed 's/^/    /' || true
done
echo "SUMMARY boots=$BOOTS crashed-boots=$crashed_boots crashes=$crashes failures=$failures ($((SECONDS - t0)) s; ${vmargs[*]:-run.sh defaults}; logs in $OUT)"
((crashes == 0 && failures == 0))
