#!/usr/bin/env bash
# The whole test suite: installs what it needs, runs the unit and integration tests (Maven, on this
# machine's io_uring), then the end-to-end suite against real /dev/ublkbN devices in the VM test bed,
# on two guest kernels at once: every case on the newest 7.x, and the device lifecycle, recovery and
# data-integrity cases on 6.12 (each VM runs on one host CPU: single-threaded TCG, tests/vm/README.md).
#   scripts/test.sh            everything
#   scripts/test.sh --no-vm    only the Maven, NBD and S3 tests
set -euo pipefail
ROOT=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
source "$ROOT/scripts/lib/jdk.sh"
source "$ROOT/scripts/lib/maven.sh"
cd "$ROOT"

JDK=$(find_java_home) || { echo "test: needs a JDK >= 25; install Temurin 25 or set JAVA_HOME" >&2; exit 1; }
MVN=$(find_maven "$ROOT") || { echo "test: needs Maven >= $MIN_MAVEN or ./mvnw" >&2; exit 1; }
bash tests/vm/install-deps.sh

echo "== unit and integration tests (JDK: $JDK)"
status=0
JAVA_HOME=$JDK "$MVN" -B -q install > >(grep -vE '^WARNING: (A terminally deprecated|sun.misc.Unsafe|Please consider reporting)' || true) 2>&1 || status=$?
if ((status != 0)); then
    echo "test: Maven tests failed (exit $status)" >&2
    exit 1
fi
# the launcher must find its jars up to date, so the VM (read-only tree) never tries to build
bin/ublk-gateway --version >/dev/null

echo "== NBD frontend end to end (on this machine, real NBD clients)"
tests/nbd/run.sh

echo "== distribution: the tarball outside the checkout, and two builds byte-identical"
tests/dist/tarball.sh
tests/dist/reproducible.sh

echo "== S3-backed volume end to end (on this machine: S3Proxy, the gateway over NBD, kill -9, outages)"
tests/s3/run.sh

if [[ ${1:-} == --no-vm ]]; then
    exit 0
fi
# The cases the older kernel runs too: lifecycle (up, stop, SIGTERM under load, errors), recovery, live upgrade,
# and data integrity (fio verify, ext4, FLUSH/FUA, backing files). The systemd units' case (a second
# boot, systemd as PID 1) runs only in this lane, which has time to spare.
OLD_KERNEL_CASES='fio-null|fio-memory|ext4|resize|memory-stop|fio-file|flush-fua|sigterm-under-load|file-backing|errors|recovery|upgrade|systemd-units'
echo "== end-to-end suite in the VM (real ublk devices): Linux 7.x all cases but systemd-units, Linux 6.12 /$OLD_KERNEL_CASES/ alongside"
mkdir -p tests/e2e/out-6.12
old_log=tests/e2e/out-6.12/run.log
# its own process group, so that an interrupted test.sh stops that VM too
setsid tests/e2e/run.sh --kernel 6.12 --out tests/e2e/out-6.12 "$OLD_KERNEL_CASES" > "$old_log" 2>&1 &
old_pid=$!
trap 'kill -TERM -- -$old_pid 2>/dev/null' EXIT
new_rc=0 old_rc=0
tests/e2e/run.sh --kernel 7 --no-systemd || new_rc=$?
wait $old_pid || old_rc=$?
trap - EXIT
echo
echo "== Linux 6.12 run (log: $old_log)"
sed -n '/^==== e2e results/,$p' "$old_log"
grep -q '^==== e2e results' "$old_log" || tail -20 "$old_log"
((new_rc == 0 && old_rc == 0)) || { echo "test: end-to-end failures (Linux 7.x exit $new_rc, Linux 6.12 exit $old_rc)" >&2; exit 1; }
