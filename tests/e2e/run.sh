#!/usr/bin/env bash
# End-to-end suite against real /dev/ublkbN devices: builds on this machine, then boots one VM of the
# test bed (scripts/vm/run.sh) that runs tests/e2e/guest.sh, which runs every case under cases/.
#
#   tests/e2e/run.sh [--out DIR] [--timeout SECONDS] [FILTER]
#
#   --out      results, per-case logs and the build snapshot (default tests/e2e/out, emptied first)
#   --timeout  limit for the whole VM run (default 3000)
#   FILTER     extended regex on case names, e.g. 'recovery' or 'fio-memory|discard'
#
# E2E_CASE_TIMEOUT (seconds per case, default 480) is passed on to the guest. E2E_JVM_OPTS replaces
# the JVM options the guest's JVMs get (default: C1 only and an AOT cache; empty for none).
set -euo pipefail

ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"

OUT=$ROOT/tests/e2e/out
TIMEOUT=3000
FILTER=""
while (($#)); do
    case $1 in
        --out) OUT=${2:?--out needs a directory}; shift 2 ;;
        --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
        -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "e2e: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) FILTER=$1; shift ;;
    esac
done

mkdir -p "$OUT"
OUT=$(realpath "$OUT")
exec 9> "$OUT/.lock"
flock -n 9 || { echo "e2e: another run is using $OUT; wait for it or pass --out" >&2; exit 1; }
rm -rf "${OUT:?}"/{results.txt,logs,gw}

# Build here: the VM sees the tree read-only.
echo "e2e: building"
bin/ublk-gateway --version > /dev/null
# the third-party example plugin (its own Maven project), installed by the plugins case
(source scripts/lib/jdk.sh && cd examples/third-party-plugin && JAVA_HOME=$(find_java_home) mvn -q -B package -DskipTests) > /dev/null \
    || { echo "e2e: building examples/third-party-plugin failed" >&2; exit 1; }

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

# JVM start-up dominates under TCG (every CLI call and gateway is a fresh JVM). Unless
# E2E_JVM_OPTS is set, the guest's JVMs get an AOT cache of the classes a CLI call loads, trained
# here against the snapshot (same paths in the guest), and C1 only; E2E_JVM_OPTS="" turns this off.
# The cache holds class data only: JDK 25 would also store machine code (adapters, stubs) generated
# for this host's CPU, and the guest's emulated CPU lacks some of its instructions (AVX-512): a JVM
# running such code in the guest dies of SIGILL, depending on which adapters it happens to use.
if [[ -z ${E2E_JVM_OPTS+x} ]]; then
    E2E_JVM_OPTS="-XX:TieredStopAtLevel=1 -XX:+UnlockDiagnosticVMOptions -XX:-AOTAdapterCaching -XX:-AOTStubCaching"
    printf 'devices:\n  - {name: a, size: 1GiB, queues: 2, depth: 64, recovery: true, target: {type: memory}}\n  - {name: b, size: 1GiB, target: {type: null}}\n  - {name: c, size: 1GiB, max-io-size: 1MiB, target: {type: file, path: c.img, direct: true, sync: fsync, create: true}}\n' > "$snap/train.yaml"
    if JAVA_TOOL_OPTIONS="$E2E_JVM_OPTS -XX:AOTCacheOutput=$snap/cli.aot" "$snap/bin/ublk-gateway" validate "$snap/train.yaml" > "$snap/aot-training.log" 2>&1 \
        && [[ -s $snap/cli.aot ]]; then
        E2E_JVM_OPTS+=" -XX:AOTCache=$snap/cli.aot"
    else
        echo "e2e: could not create the AOT cache (see $snap/aot-training.log); running without it"
    fi
fi
export E2E_JAVA_TOOL_OPTIONS=$E2E_JVM_OPTS
# S3Proxy for the S3 case: resolved here (the guest has no network); the guest reads the same cache
scripts/s3proxy.sh classpath > /dev/null || { echo "e2e: could not resolve S3Proxy (scripts/s3proxy.sh classpath)" >&2; exit 1; }
export E2E_S3PROXY_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}

echo "e2e: $version; booting the VM (limit ${TIMEOUT} s)${FILTER:+, cases matching /$FILTER/}"
t0=$SECONDS
rc=0
scripts/vm/run.sh --out "$OUT" --timeout "$TIMEOUT" --env E2E_JAVA_TOOL_OPTIONS --env E2E_S3PROXY_CACHE ${E2E_CASE_TIMEOUT:+--env E2E_CASE_TIMEOUT} -- \
    bash "$ROOT/tests/e2e/guest.sh" --gw "$snap/bin/ublk-gateway" --out "$OUT" ${FILTER:+"$FILTER"} || rc=$?
secs=$((SECONDS - t0))

results=$OUT/results.txt
echo
echo "==== e2e results (VM run ${secs} s; logs in $OUT/logs)"
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
exit "$rc"
