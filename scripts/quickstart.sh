#!/usr/bin/env bash
# Brings up examples/quickstart.yaml and shows it working: a 1 GiB RAM disk as /dev/ublkbN with ext4 on it.
# On a machine with ublk_drv (Linux >= 6.1, root) it runs here and keeps serving until Ctrl-C.
# Where ublk is missing (no /dev/ublk-control), it runs the same demo inside the project's VM test bed;
# a JVM that dies there leaves its crash report in .vm-out/quickstart/, and the error names it.
set -euo pipefail
ROOT=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
cd "$ROOT"
CONFIG=${1:-examples/quickstart.yaml}
T0=$SECONDS

demo() {
    local dev mnt
    bin/ublk-gateway up "$CONFIG"
    dev=$(sed -n 's/.*"blockDevice":"\([^"]*\)".*/\1/p' "${UBLKGW_RUN_DIR:-/run/ublk-gateway}"/quick0.json)
    bin/ublk-gateway list
    mnt=$(mktemp -d)
    mkfs.ext4 -q -F "$dev"
    mount "$dev" "$mnt"
    echo "hello from $dev" > "$mnt/hello.txt"
    df -h "$mnt" | tail -1
    cat "$mnt/hello.txt"
    umount "$mnt"
    rmdir "$mnt"
}

if [[ ${UBLKGW_IN_VM:-} == 1 ]]; then
    demo
    bin/ublk-gateway down quick0
    exit 0
fi

if [[ -e /dev/ublk-control && $(id -u) -eq 0 ]]; then
    bin/ublk-gateway --version >/dev/null
    demo
    echo "quick0 keeps serving in the background; remove it with: bin/ublk-gateway down quick0"
    echo "quickstart done in $((SECONDS - T0)) s"
    exit 0
fi

echo "no /dev/ublk-control here (or not root): running the quickstart in the VM test bed (QEMU, Linux 7.x with ublk_drv); this usually takes about 1.5 minutes, a few more the first time (installing packages, building)"
bash tests/vm/install-deps.sh | grep -v '^dependencies ok$' || true
bin/ublk-gateway --version >/dev/null # build on the host: the VM sees the tree read-only
# Crash reports of the guest's JVMs land in OUT, on the host (the guest's own disks vanish with it).
OUT=$ROOT/.vm-out/quickstart
mkdir -p "$OUT"
rm -f "$OUT"/hs_err_pid*.log
JAVA_TOOL_OPTIONS="$(tests/vm/guest-jvm-opts.sh bin/ublk-gateway) -XX:ErrorFile=$OUT/hs_err_pid%p.log"
export JAVA_TOOL_OPTIONS UBLKGW_SCRIPT_JIT=0
rc=0
tests/vm/run.sh --out "$OUT" --env UBLKGW_SCRIPT_JIT --env JAVA_TOOL_OPTIONS -- env UBLKGW_IN_VM=1 "$ROOT/scripts/quickstart.sh" "$CONFIG" \
    2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' || rc=${PIPESTATUS[0]}
reports=$(ls "$OUT"/hs_err_pid*.log 2>/dev/null | tr '\n' ' ' || true)
if [[ -n $reports ]]; then
    echo "quickstart: a JVM in the VM died; crash report(s): $reports" >&2
    ((rc != 0)) || rc=1
fi
if ((rc == 0)); then
    echo "quickstart done in $((SECONDS - T0)) s"
else
    echo "quickstart failed after $((SECONDS - T0)) s (exit $rc)" >&2
fi
exit "$rc"
