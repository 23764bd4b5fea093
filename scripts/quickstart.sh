#!/usr/bin/env bash
# Brings up examples/quickstart.yaml and shows it working: a 1 GiB RAM disk as /dev/ublkbN with ext4 on it.
# On a machine with ublk_drv (Linux >= 6.1, root) it runs here and keeps serving until Ctrl-C.
# Where ublk is missing (no /dev/ublk-control), it runs the same demo inside the project's VM test bed.
set -euo pipefail
ROOT=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
cd "$ROOT"
CONFIG=${1:-examples/quickstart.yaml}

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
    exit 0
fi

echo "no /dev/ublk-control here (or not root): running the quickstart in the VM test bed (Linux 6.12 with ublk_drv)"
bash scripts/vm/install-deps.sh
bin/ublk-gateway --version >/dev/null # build on the host: the VM sees the tree read-only
exec scripts/vm/run.sh -- env UBLKGW_IN_VM=1 "$ROOT/scripts/quickstart.sh" "$CONFIG"
