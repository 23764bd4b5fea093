#!/usr/bin/env bash
# The whole test suite: installs what it needs, runs the unit and integration tests (Maven, on this
# machine's io_uring), then the end-to-end suite against real /dev/ublkbN devices in the VM test bed,
# two VMs at a time: every case on the newest 7.x, and the device lifecycle, recovery and
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
# each phase's heading says how far into the run it starts
phase() { echo "== $* (at $((SECONDS / 60))m$((SECONDS % 60))s)"; }
bash tests/vm/install-deps.sh

phase "unit and integration tests (JDK: $JDK)"
status=0
JAVA_HOME=$JDK "$MVN" -B -q install > >(grep -vE '^WARNING: (A terminally deprecated|sun.misc.Unsafe|Please consider reporting)' || true) 2>&1 || status=$?
if ((status != 0)); then
    echo "test: Maven tests failed (exit $status)" >&2
    exit 1
fi
# the launcher must find its jars up to date, so the VM (read-only tree) never tries to build
bin/ublk-gateway --version >/dev/null

phase "NBD frontend end to end (on this machine, real NBD clients)"
tests/nbd/run.sh

phase "distribution: the tarball outside the checkout, and two builds byte-identical"
tests/dist/tarball.sh
tests/dist/reproducible.sh

phase "S3-backed volume end to end (on this machine: S3Proxy, the gateway over NBD, kill -9, outages)"
tests/s3/run.sh

if [[ ${1:-} == --no-vm ]]; then
    exit 0
fi
# Two VMs at a time (each is one host CPU), in two lanes of about equal length:
#  - lane 1: Linux 7.x, every case but systemd-units and those of lane 2;
#  - lane 2: Linux 6.12 with the cases the older kernel runs too: lifecycle (up, stop, SIGTERM under
#    load, errors), recovery, live upgrade and data integrity (fio verify, ext4, FLUSH/FUA, backing
#    files); then Linux 7.x again for the cases in LANE2_CASES (file names), which lane 1 leaves out,
#    and the systemd units' case (a second boot, systemd as PID 1; on 7.x, where `systemctl reload`
#    can hand the device over: QUIESCE).
# The host suites above do not run beside the VMs: tried, they took 2.5x as long and slowed both VMs,
# and the whole run took longer than one after the other.
OLD_KERNEL_CASES='fio-null|fio-memory|ext4|resize|memory-stop|fio-file|flush-fua|batch-io|sigterm-under-load|file-backing|errors|recovery-file|recovery-null|upgrade'
LANE2_CASES='script-hooks|s3-volume|unprivileged'
phase "end-to-end suite in the VM (real ublk devices), two lanes at once: Linux 7.x all cases but systemd-units /$LANE2_CASES/; Linux 6.12 /$OLD_KERNEL_CASES/, then Linux 7.x /$LANE2_CASES/ and systemd-units"
mkdir -p tests/e2e/out-6.12 tests/e2e/out-lane2
lane2_log=tests/e2e/out-lane2/run.log
# its own process group, so that an interrupted test.sh stops those VMs too
setsid bash -c 'rc=0
    tests/e2e/run.sh --kernel 6.12 --no-systemd --out tests/e2e/out-6.12 "$1" || rc=1
    tests/e2e/run.sh --kernel 7 --out tests/e2e/out-lane2 "$2|systemd-units" || rc=1
    exit $rc' _ "$OLD_KERNEL_CASES" "$LANE2_CASES" > "$lane2_log" 2>&1 &
lane2_pid=$!
trap 'kill -TERM -- -$lane2_pid 2>/dev/null' EXIT
lane1_rc=0 lane2_rc=0
tests/e2e/run.sh --kernel 7 --no-systemd --skip "$LANE2_CASES" || lane1_rc=$?
wait $lane2_pid || lane2_rc=$?
trap - EXIT
echo
phase "lane 2: Linux 6.12, then Linux 7.x /$LANE2_CASES/ (log: $lane2_log)"
awk '/^==== e2e results/ { on = 1 } on && (/^$/ || /^e2e: /) { on = 0 } on' "$lane2_log"
grep -q '^==== e2e results' "$lane2_log" || tail -20 "$lane2_log"
((lane1_rc == 0 && lane2_rc == 0)) || { echo "test: end-to-end failures (lane 1 exit $lane1_rc, lane 2 exit $lane2_rc)" >&2; exit 1; }
