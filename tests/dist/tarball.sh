#!/usr/bin/env bash
# The distribution tarball works outside the checkout: unpacks distribution/target/ublk-gateway-*.tar.gz
# into a temporary directory, then runs its bin/ublk-gateway: --version, validate of a bundled example
# that needs a bundled plugin, and `up` of a memory device over NBD as a non-root user (nobody, when
# run as root) with its own run dir, checked with nbdinfo, then `down`. ~30 s.
#   tests/dist/tarball.sh     (after `mvn package`, which builds the tarball)
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
command -v nbdinfo >/dev/null || { echo "dist: nbdinfo is missing; run tests/vm/install-deps.sh" >&2; exit 1; }
tarballs=("$ROOT"/distribution/target/ublk-gateway-*.tar.gz)
[[ -f ${tarballs[0]} ]] || { echo "dist: no distribution/target/ublk-gateway-*.tar.gz; build with mvn package" >&2; exit 1; }

WORK=$(mktemp -d /tmp/ublkgw-dist.XXXXXX)
chmod 755 "$WORK"
pass=0
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
fail() { echo "not ok - $*" >&2; exit 1; }

tar xzf "${tarballs[0]}" -C "$WORK"
HOME_DIR=$(echo "$WORK"/ublk-gateway-*)
[[ -x $HOME_DIR/bin/ublk-gateway && ! -e $HOME_DIR/pom.xml ]] || fail "the tarball has no bin/ublk-gateway (or has a pom.xml)"
# the gateway runs as an ordinary user; as root, that is nobody with its own HOME
USER_DIR=$WORK/user
mkdir -p "$USER_DIR"
as_user=()
if (($(id -u) == 0)); then
    chown 65534:65534 "$USER_DIR"
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
gw() { (cd "$USER_DIR" && HOME=$USER_DIR UBLKGW_RUN_DIR=$USER_DIR/run "${as_user[@]}" "$HOME_DIR/bin/ublk-gateway" "$@"); }
trap 'gw down dist-mem >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

out=$(gw --version 2>&1) || fail "--version: $out"
[[ $out == "ublk-gateway "[0-9]* && $out == *"plugin API "* ]] || fail "--version: $out"
[[ $out != *building* ]] || fail "the distribution tried to build: $out"
ok "--version from the unpacked tarball"

out=$(gw validate "$HOME_DIR/examples/encrypted-volume.yaml" 2>&1) || fail "validate: $out"
[[ $out == *"chunked target"*"ok (1 device(s)"* ]] || fail "validate: $out"
ok "validate an example that needs the bundled chunked and encryption plugins"

SOCK=$USER_DIR/run/nbd.sock
cat > "$USER_DIR/vol.yaml" <<YAML
devices:
  - name: dist-mem
    size: 64MiB
    frontend: nbd
    nbd-listen: ["unix:$SOCK"]
    target:
      type: memory
YAML
out=$(gw up vol.yaml 2>&1) || fail "up: $out"
size=$("${as_user[@]}" nbdinfo --size "nbd+unix:///dist-mem?socket=$SOCK") || fail "nbdinfo could not connect"
[[ $size == 67108864 ]] || fail "nbdinfo size $size"
owner=$(stat -c %u "$SOCK")
((${#as_user[@]} == 0 || owner == 65534)) || fail "the socket belongs to uid $owner, not nobody"
ok "up a memory device over NBD as uid $owner, nbdinfo sees 64 MiB"

out=$(gw down dist-mem 2>&1) || fail "down: $out"
for _ in $(seq 50); do [[ -S $SOCK ]] || break; sleep 0.1; done
[[ ! -S $SOCK ]] || fail "the NBD socket is still there after down"
ok "down"
echo "dist: $pass passed"
