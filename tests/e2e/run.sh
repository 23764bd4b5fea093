#!/usr/bin/env bash
# End-to-end suite against real /dev/ublkbN devices: builds on this machine, then boots one VM of the
# test bed (tests/vm/run.sh) that runs tests/e2e/guest.sh, which runs every case under cases/.
#
#   tests/e2e/run.sh [--kernel K] [--out DIR] [--timeout SECONDS] [--no-systemd] [--skip REGEX] [FILTER]
#
#   --kernel   the guest kernel (tests/vm/run.sh --kernel): 6.12, 7 (newest 7.x, default) or 7.N
#   --out      results, per-case logs and the build snapshot (default tests/e2e/out, emptied first)
#   --timeout  limit for the whole VM run (default 3000)
#   --no-systemd  leave out the systemd-units case (a second VM boot, with systemd as PID 1)
#   --skip     extended regex on case file names (NN-name without .sh): those files do not run
#   FILTER     extended regex on case names, e.g. 'recovery' or 'fio-memory|discard'
#
# E2E_CASE_TIMEOUT (seconds per case, default 480) is passed on to the guest. E2E_JVM_OPTS replaces
# the JVM options the guest's JVMs get (default: C1 only and an AOT cache; empty for none).
set -euo pipefail

ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"

OUT=$ROOT/tests/e2e/out
TIMEOUT=3000
KERNEL=${UBLKGW_VM_KERNEL:-7}
FILTER="" NO_SYSTEMD="" SKIP=""
while (($#)); do
    case $1 in
        --kernel) KERNEL=${2:?--kernel needs 6.12, 7 or 7.N}; shift 2 ;;
        --out) OUT=${2:?--out needs a directory}; shift 2 ;;
        --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
        --no-systemd) NO_SYSTEMD=1; shift ;;
        --skip) SKIP=${2:?--skip needs a regex of case names}; shift 2 ;;
        -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "e2e: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) FILTER=$1; shift ;;
    esac
done

mkdir -p "$OUT"
OUT=$(realpath "$OUT")
exec 9> "$OUT/.lock"
flock -n 9 || { echo "e2e: another run is using $OUT; wait for it or pass --out" >&2; exit 1; }
rm -rf "${OUT:?}"/{results.txt,logs,gw}

# Build here: the VM sees the tree read-only. Runs for two kernels may start together: one builds,
# the other waits for it and finds everything up to date.
echo "e2e: building"
exec 8> "$ROOT/tests/e2e/.build.lock"
flock 8
bin/ublk-gateway --version > /dev/null
# the third-party example plugin (its own Maven project), installed by the plugins case; rebuilt
# only when its sources changed, so a run in progress never sees its jar rewritten
plugin=examples/third-party-plugin
pjar=$plugin/target/checksum-stage-1.0.0.jar
if [[ ! -f $pjar || -n $(find "$plugin/src" "$plugin/pom.xml" plugin-api/src -newer "$pjar" -print -quit) ]]; then
    (source scripts/lib/jdk.sh && cd "$plugin" && JAVA_HOME=$(find_java_home) mvn -q -B package -DskipTests) > /dev/null \
        || { echo "e2e: building $plugin failed" >&2; exit 1; }
    touch "$pjar"
fi
flock -u 8

# Run the VM against a snapshot of the launcher and the jars, so that sources edited (or jars
# rebuilt) while the VM runs neither make the launcher try to build inside the VM nor mix versions.
snap=$OUT/gw
mkdir -p "$snap/bin" "$snap/scripts/lib"
cp bin/ublk-gateway "$snap/bin/"
cp scripts/lib/*.sh "$snap/scripts/lib/"
mkdir -p "$snap/gateway-core/target"
cp gateway-core/target/*.jar "$snap/gateway-core/target/"
cp -r gateway-core/target/lib "$snap/gateway-core/target/"
version=$("$snap/bin/ublk-gateway" --version 2>&1) || { echo "e2e: the build snapshot does not run: $version" >&2; exit 1; }
[[ $version == "ublk-gateway "* ]] || { echo "e2e: unexpected output from the build snapshot: $version" >&2; exit 1; }

# JVM start-up dominates under TCG (every CLI call and gateway is a fresh JVM): unless E2E_JVM_OPTS
# is set, the guest's JVMs get C1 only and an AOT cache trained against the snapshot (see
# tests/vm/guest-jvm-opts.sh); E2E_JVM_OPTS="" turns this off.
if [[ -z ${E2E_JVM_OPTS+x} ]]; then
    E2E_JVM_OPTS=$(tests/vm/guest-jvm-opts.sh "$snap/bin/ublk-gateway")
fi
export E2E_JAVA_TOOL_OPTIONS=$E2E_JVM_OPTS
# S3Proxy for the S3 case: resolved here (the guest has no network); the guest reads the same cache
scripts/s3proxy.sh classpath > /dev/null || { echo "e2e: could not resolve S3Proxy (scripts/s3proxy.sh classpath)" >&2; exit 1; }
export E2E_S3PROXY_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}

# The systemd units' case needs systemd as PID 1: its own VM boot (tests/vm/run.sh --systemd), after
# the cases' VM. Which of the two the filter selects:
SYSTEMD_CASE=systemd-units
run_systemd="" run_cases=""
[[ -z $NO_SYSTEMD ]] && [[ -z $FILTER || $SYSTEMD_CASE =~ $FILTER ]] && run_systemd=1
if [[ -z $FILTER ]]; then
    run_cases=1
else
    for f in tests/e2e/cases/*.sh; do
        n=$(basename "$f" .sh)
        for s in "${n#[0-9][0-9]-}" $(sed -n 's/^[[:space:]]*subcase \(--always \)\{0,1\}\([a-z0-9._-]*\) .*/\2/p' "$f"); do
            [[ $s =~ $FILTER ]] && run_cases=1
        done
    done
fi
[[ -n $run_cases || -n $run_systemd ]] || { echo "e2e: no case matches /$FILTER/" >&2; exit 1; }

rc=0
results=$OUT/results.txt
if [[ -n $run_cases ]]; then
    echo "e2e: $version; booting the VM, kernel $KERNEL (limit ${TIMEOUT} s)${FILTER:+, cases matching /$FILTER/}${SKIP:+, not /$SKIP/}"
    t0=$SECONDS
    tests/vm/run.sh --kernel "$KERNEL" --out "$OUT" --timeout "$TIMEOUT" --env E2E_JAVA_TOOL_OPTIONS --env E2E_S3PROXY_CACHE ${E2E_CASE_TIMEOUT:+--env E2E_CASE_TIMEOUT} -- \
        bash "$ROOT/tests/e2e/guest.sh" --gw "$snap/bin/ublk-gateway" --out "$OUT" ${SKIP:+--skip "$SKIP"} ${FILTER:+"$FILTER"} || rc=$?
    secs=$((SECONDS - t0))

    echo
    echo "==== e2e results, kernel $KERNEL (VM run ${secs} s; logs in $OUT/logs)"
    if [[ -f $results ]]; then
        grep -E '^(PASS|FAIL|SETUP-FAILED) ' "$results" || true
        if ! grep -q '^SUMMARY ' "$results"; then
            last=$(grep '^RUN ' "$results" | tail -1 | cut -d' ' -f2)
            if [[ -n $last ]] && ! grep -qE "^(PASS|FAIL) $last[ :]" "$results"; then
                echo "FAIL $last: the VM ended during this case (exit $rc)"
            fi
            echo "SUMMARY incomplete: the VM ended before the suite finished (exit $rc)"
            ((rc != 0)) || rc=1
        else
            grep '^SUMMARY ' "$results"
        fi
    else
        echo "no results: the VM did not get to run the suite (exit $rc)"
        ((rc != 0)) || rc=1
    fi
fi

if [[ -n $run_systemd ]]; then
    echo
    echo "e2e: $version; booting a VM with systemd as PID 1, kernel $KERNEL, for $SYSTEMD_CASE"
    t0=$SECONDS
    src=0
    tests/vm/run.sh --systemd --kernel "$KERNEL" --out "$OUT" --timeout 900 --env E2E_JAVA_TOOL_OPTIONS -- \
        bash "$ROOT/tests/e2e/systemd-units.sh" --gw "$snap/bin/ublk-gateway" --out "$OUT" || src=$?
    echo
    echo "==== e2e results, systemd as PID 1, kernel $KERNEL (VM run $((SECONDS - t0)) s; log in $OUT/logs/$SYSTEMD_CASE.log)"
    line=$(grep -E "^(PASS|FAIL) $SYSTEMD_CASE[ :]" "$results" 2> /dev/null | tail -1 || true)
    [[ -n $line ]] || line="FAIL $SYSTEMD_CASE: the VM ended before the case finished (exit $src)"
    echo "$line"
    if [[ $line != PASS* ]]; then
        tail -25 "$OUT/logs/$SYSTEMD_CASE.log" 2> /dev/null | sed 's/^/     | /' || true
        ((rc != 0)) || rc=1
    fi
fi
exit "$rc"
