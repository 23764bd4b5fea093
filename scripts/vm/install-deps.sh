#!/usr/bin/env bash
# Installs everything the build, the tests and the VM test bed need on a fresh Debian 12 machine.
# Idempotent: a second run with everything present does nothing but check.
set -euo pipefail

need_pkgs=(maven qemu-system-x86 busybox-static cpio fio e2fsprogs liburing2 libssl3 kmod util-linux cryptsetup-bin libnbd-bin qemu-utils nbdkit)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

KDIR=/var/cache/ublk-gateway/kernel
kernel_installed() { ls "$KDIR"/linux-image-6.12.*+deb12-amd64-unsigned_*.deb >/dev/null 2>&1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ ${#missing[@]} -gt 0 ] || ! kernel_installed; then
  export DEBIAN_FRONTEND=noninteractive
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "adding bookworm-backports to apt sources (for the 6.12 kernel with ublk_drv)"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | $SUDO tee /etc/apt/sources.list.d/ublk-gateway-backports.sources >/dev/null
  fi
  $SUDO apt-get update -qq -o Dir::Etc::sourcelist=/dev/null >/dev/null 2>&1 || true
  $SUDO apt-get update -qq >/dev/null || echo "warning: apt-get update reported errors (continuing)" >&2
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! kernel_installed; then
    # Download (not install) the backports kernel: the VM boots it; the host keeps its own.
    pkg=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9.]+\+deb12-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1)
    [ -n "$pkg" ] || { echo "error: no linux-image-6.12.*-amd64-unsigned package in bookworm-backports; check apt sources" >&2; exit 1; }
    $SUDO mkdir -p "$KDIR"
    tmp=$(mktemp -d); chmod 777 "$tmp"
    (cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null) && $SUDO mv "$tmp"/*.deb "$KDIR"/
    rm -rf "$tmp"
    echo "downloaded $pkg"
  fi
fi
echo "dependencies ok"
