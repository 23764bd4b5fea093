#!/usr/bin/env bash
# The whole test suite: installs what it needs, runs the unit and integration tests (Maven, on this
# machine's io_uring), then the end-to-end suite against real /dev/ublkbN devices in the VM test bed.
#   scripts/test.sh            everything
#   scripts/test.sh --no-vm    only the Maven tests
set -euo pipefail
ROOT=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
source "$ROOT/scripts/lib/jdk.sh"
cd "$ROOT"

JDK=$(find_java_home) || { echo "test: needs a JDK >= 22; install Temurin 25 or set JAVA_HOME" >&2; exit 1; }
bash scripts/vm/install-deps.sh

echo "== unit and integration tests (JDK: $JDK)"
status=0
JAVA_HOME=$JDK mvn -B -q install > >(grep -vE '^WARNING: (A terminally deprecated|sun.misc.Unsafe|Please consider reporting)' || true) 2>&1 || status=$?
if ((status != 0)); then
    echo "test: Maven tests failed (exit $status)" >&2
    exit 1
fi
# the launcher must find its jars up to date, so the VM (read-only tree) never tries to build
bin/ublk-gateway --version >/dev/null

echo "== NBD frontend end to end (on this machine, real NBD clients)"
tests/nbd/run.sh

echo "== S3-backed volume end to end (on this machine: S3Proxy, the gateway over NBD, kill -9, outages)"
tests/s3/run.sh

if [[ ${1:-} == --no-vm ]]; then
    exit 0
fi
echo "== end-to-end suite in the VM (real ublk devices)"
exec tests/e2e/run.sh
